-- Door scanners: check-in lists, one-time pairing codes, paired devices and every scan they
-- pushed. UUIDs are text, times Unix seconds (scans: device milliseconds).

-- A check-in list: the ticket types a door admits, its gates, and whether a ticket that
-- went out may come back in. Ticket types and gates are JSON arrays of strings.
CREATE TABLE checkin_lists (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id),
    name            TEXT NOT NULL,
    ticket_type_ids TEXT NOT NULL,
    gates           TEXT NOT NULL,
    re_entry        BIGINT NOT NULL CHECK (re_entry IN (0, 1)),
    created_at      BIGINT NOT NULL
);
CREATE INDEX checkin_lists_by_event ON checkin_lists (event_id, created_at);

-- Each list's scan sequence: every scan whose classification is new or changed takes the
-- next value inside its transaction, with the row locked until commit, so a scanner's
-- cursor never skips a change.
CREATE TABLE scan_counters (
    list_id TEXT PRIMARY KEY REFERENCES checkin_lists (id),
    seq     BIGINT NOT NULL
);

-- A pairing code is stored only as its SHA-256 and works once, for 15 minutes.
CREATE TABLE scanner_pairings (
    code_hash   TEXT PRIMARY KEY,
    list_id     TEXT NOT NULL REFERENCES checkin_lists (id),
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    redeemed_at BIGINT,
    device_id   TEXT
);

-- A paired device. Its token is stored only as its SHA-256.
CREATE TABLE scanner_devices (
    id           TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES events (id),
    list_id      TEXT NOT NULL REFERENCES checkin_lists (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    paired_at    BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX scanner_devices_by_event ON scanner_devices (event_id, paired_at);

-- Every scan a device pushed, once per id. `decision` is what the door showed;
-- `classification` is the server's verdict from all devices' scans of the ticket on the
-- list, and `seq` the list sequence number of its latest change. `ticket_id` has no foreign
-- key: a scan is kept whatever it names.
CREATE TABLE scans (
    id             TEXT PRIMARY KEY,
    list_id        TEXT NOT NULL REFERENCES checkin_lists (id),
    event_id       TEXT NOT NULL REFERENCES events (id),
    device_id      TEXT NOT NULL REFERENCES scanner_devices (id),
    ticket_id      TEXT,
    device_time_ms BIGINT NOT NULL,
    gate           TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    decision       TEXT NOT NULL CHECK (decision IN ('admitted', 'rejected')),
    reason         TEXT,
    classification TEXT NOT NULL
                   CHECK (classification IN ('admitted', 'duplicate_entry', 'exited', 'rejected')),
    seq            BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    alerted_at     BIGINT,
    CHECK ((decision = 'admitted') = (reason IS NULL))
);
CREATE INDEX scans_by_list_seq ON scans (list_id, seq);
CREATE INDEX scans_by_ticket ON scans (list_id, ticket_id);
CREATE INDEX scans_alerts ON scans (event_id, alerted_at);
