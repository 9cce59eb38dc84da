-- The checkout saga's persisted state, issued tickets, refunds, revocations and the outbox.
CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    hold_id         TEXT NOT NULL UNIQUE REFERENCES holds (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    event_id        TEXT NOT NULL REFERENCES events (id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'authorized', 'captured',
                        'completed', 'declined', 'refund_pending', 'refunded')),
    total_minor     BIGINT NOT NULL CHECK (total_minor >= 0),
    refunded_minor  BIGINT NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    currency        TEXT NOT NULL,
    provider        TEXT NOT NULL,
    -- The provider's token for the payment method (never card data), kept so that a
    -- resumed authorisation repeats exactly the request its idempotency key was used for.
    payment_token   TEXT NOT NULL,
    intent_id       TEXT,
    failure         TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_by_status ON orders (status, updated_at);
CREATE INDEX orders_by_user ON orders (user_id, created_at);
CREATE INDEX orders_by_event ON orders (event_id, status);

CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL REFERENCES orders (id),
    event_id       TEXT NOT NULL REFERENCES events (id),
    ticket_type_id TEXT NOT NULL REFERENCES ticket_types (id),
    holder_id      TEXT NOT NULL REFERENCES users (id),
    price_minor    BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
    -- The signed credential (base45 text) the holder shows at the door.
    credential     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX tickets_by_order ON tickets (order_id);
CREATE INDEX tickets_by_holder ON tickets (holder_id, created_at);
CREATE INDEX tickets_by_event ON tickets (event_id, ticket_type_id);

-- Each event's issuing keys. The private seed is sealed (ChaCha20-Poly1305, key from
-- configuration); only the public key is ever served.
CREATE TABLE event_keys (
    event_id      TEXT NOT NULL REFERENCES events (id),
    key_id        BIGINT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'rotated_out', 'retired')),
    public_key    TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (event_id, key_id)
);

-- A refund is recorded (and its tickets revoked) before the provider is called; the id is
-- the provider idempotency key, so a retry after a crash refunds once.
CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX refunds_pending ON refunds (status, created_at);

-- Revocations in server-assigned order, for scanners' next sync (rare: one counter row).
INSERT INTO counters (name, value) VALUES ('revocation_seq', 0);
CREATE TABLE revocations (
    seq        BIGINT PRIMARY KEY,
    ticket_id  TEXT NOT NULL UNIQUE REFERENCES tickets (id),
    event_id   TEXT NOT NULL REFERENCES events (id),
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revocations_by_event ON revocations (event_id, seq);

-- Notifications and webhooks to deliver, written in the same transaction as the change
-- they announce; consumers are idempotent by id.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    topic           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);
