-- The client's state: which server this data directory belongs to, the mutations it sent
-- or is about to send, and the account's holds, orders and wallet. Server ids are kept as
-- the server spells them (text); instants are Unix milliseconds.

CREATE TABLE client_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Mutations with effects on the server (hold, checkout, release, refund), written before
-- the request leaves. The id is the idempotency key the server deduplicates on, so
-- re-sending a pending row after a crash or a lost answer cannot act twice.
CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hold', 'checkout', 'release_hold', 'refund')),
    request TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX operations_by_state ON operations (account_id, state, created_at);

CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    items TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    refunded_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    failure TEXT,
    created_at INTEGER NOT NULL
) STRICT;

-- The wallet: tickets with their signed credential, shown offline.
CREATE TABLE wallet_tickets (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ticket_type_id TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
    credential TEXT NOT NULL,
    issued_at INTEGER NOT NULL
) STRICT;

CREATE INDEX wallet_tickets_by_account ON wallet_tickets (account_id, issued_at);

-- What the wallet shows of a ticket's event, fetched when the ticket first syncs.
CREATE TABLE wallet_events (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    venue TEXT NOT NULL,
    city TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    status TEXT NOT NULL
) STRICT;
