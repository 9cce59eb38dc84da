-- An event's public keys, the revocations synced so far, and the check-in list this
-- device is paired to. UUIDs are 16-byte blobs.
CREATE TABLE event_keys (
    event_id BLOB NOT NULL,
    key_id INTEGER NOT NULL,
    public_key BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'rotated_out', 'retired')),
    PRIMARY KEY (event_id, key_id)
) STRICT;

CREATE TABLE revocations (
    ticket_id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL
) STRICT;

CREATE TABLE checkin_lists (
    id BLOB PRIMARY KEY,
    event_id BLOB NOT NULL,
    name TEXT NOT NULL,
    re_entry INTEGER NOT NULL CHECK (re_entry IN (0, 1))
) STRICT;

CREATE TABLE checkin_list_ticket_types (
    list_id BLOB NOT NULL REFERENCES checkin_lists (id) ON DELETE CASCADE,
    ticket_type_id BLOB NOT NULL,
    PRIMARY KEY (list_id, ticket_type_id)
) STRICT;

CREATE TABLE checkin_list_gates (
    list_id BLOB NOT NULL REFERENCES checkin_lists (id) ON DELETE CASCADE,
    gate TEXT NOT NULL,
    PRIMARY KEY (list_id, gate)
) STRICT;
