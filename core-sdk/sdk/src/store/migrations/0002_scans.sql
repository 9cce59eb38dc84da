-- This device, the tickets it has seen with their presence, and every scan it made.

-- One row: the device's id (scan ids and sync name it) and the list it is paired to.
CREATE TABLE device (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id BLOB NOT NULL,
    list_id BLOB REFERENCES checkin_lists (id)
) STRICT;

-- Known tickets: verified claims and presence folded from admitted scans, updated in the
-- same transaction as the scan that changes them (so a decision reads one row, never the
-- whole history).
CREATE TABLE tickets (
    ticket_id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL,
    ticket_type_id BLOB NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0,
    inside INTEGER NOT NULL DEFAULT 0 CHECK (inside IN (0, 1)),
    last_scan_id BLOB
) STRICT, WITHOUT ROWID;

-- Every scan, admitted or not. ticket_id is set only for genuine credentials. Clustered on
-- the time-ordered UUIDv7 id, so a scan appends to one b-tree (no rowid table + index).
CREATE TABLE scans (
    id BLOB PRIMARY KEY,
    device_id BLOB NOT NULL,
    list_id BLOB NOT NULL,
    device_time_ms INTEGER NOT NULL,
    gate TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    decision TEXT NOT NULL CHECK (decision IN ('admitted', 'rejected')),
    reason TEXT,
    reason_detail TEXT,
    ticket_id BLOB,
    CHECK ((decision = 'admitted') = (reason IS NULL))
) STRICT, WITHOUT ROWID;
