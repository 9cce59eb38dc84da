-- Inventory split into buckets (one counter row each) so concurrent holds on a hot ticket
-- type contend on different rows; and holds, which reserve stock until they expire.
CREATE TABLE inventory_buckets (
    ticket_type_id TEXT NOT NULL REFERENCES ticket_types (id),
    bucket         BIGINT NOT NULL,
    available      BIGINT NOT NULL CHECK (available >= 0),
    PRIMARY KEY (ticket_type_id, bucket)
);
INSERT INTO inventory_buckets (ticket_type_id, bucket, available)
SELECT id, 0, capacity FROM ticket_types;

CREATE TABLE holds (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    event_id        TEXT NOT NULL REFERENCES events (id),
    status          TEXT NOT NULL CHECK (status IN ('active', 'converting', 'released', 'expired', 'converted')),
    total_minor     BIGINT NOT NULL CHECK (total_minor >= 0),
    currency        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX holds_active_by_expiry ON holds (status, expires_at);

-- Which buckets a hold took from, so releasing it returns stock exactly where it came from.
CREATE TABLE hold_allocations (
    hold_id          TEXT NOT NULL REFERENCES holds (id),
    ticket_type_id   TEXT NOT NULL REFERENCES ticket_types (id),
    bucket           BIGINT NOT NULL,
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL,
    PRIMARY KEY (hold_id, ticket_type_id, bucket)
);
