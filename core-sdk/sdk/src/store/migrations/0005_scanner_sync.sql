-- Scanner sync: whether each scan reached the server and the server's verdict on it, the
-- scans other doors of the list took, the list's tickets from the server's snapshot, and
-- each ticket's presence as one row that both local scans and synced scans keep current.

ALTER TABLE scans ADD COLUMN pushed INTEGER NOT NULL DEFAULT 0 CHECK (pushed IN (0, 1));
-- 'admitted', 'duplicate_entry', 'exited' or 'rejected' once the server classified it.
ALTER TABLE scans ADD COLUMN classification TEXT;
CREATE INDEX scans_by_ticket ON scans (ticket_id);

-- Scans by other devices of the list, as the server relays them (with its verdict).
CREATE TABLE peer_scans (
    id BLOB PRIMARY KEY,
    device_id BLOB NOT NULL,
    ticket_id BLOB,
    device_time_ms INTEGER NOT NULL,
    gate TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    decision TEXT NOT NULL CHECK (decision IN ('admitted', 'rejected')),
    reason TEXT,
    classification TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX peer_scans_by_ticket ON peer_scans (ticket_id);

-- The list's tickets as of the snapshot (id, type, revoked), for counts and lookups.
CREATE TABLE list_tickets (
    ticket_id BLOB PRIMARY KEY,
    ticket_type_id BLOB NOT NULL,
    revoked INTEGER NOT NULL CHECK (revoked IN (0, 1))
) STRICT, WITHOUT ROWID;

-- Where each ticket is, folded from every admitted scan known here (this door's and the
-- synced ones), in (device time, scan id) order. A decision reads this one row.
CREATE TABLE presence (
    ticket_id BLOB PRIMARY KEY,
    entries INTEGER NOT NULL,
    inside INTEGER NOT NULL CHECK (inside IN (0, 1))
) STRICT, WITHOUT ROWID;
INSERT INTO presence (ticket_id, entries, inside) SELECT ticket_id, entries, inside FROM tickets;
