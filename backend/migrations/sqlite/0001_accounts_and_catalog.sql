-- Accounts, refresh-token families, the catalog and its change feed.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('attendee', 'organizer', 'admin')),
    created_at    BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    organizer_id TEXT NOT NULL REFERENCES users (id),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    venue        TEXT NOT NULL,
    city         TEXT NOT NULL,
    latitude     DOUBLE PRECISION,
    longitude    DOUBLE PRECISION,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    time_zone    TEXT NOT NULL,
    online       BOOLEAN NOT NULL,
    search_text  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_public_by_start ON events (status, starts_at, id);
CREATE INDEX events_by_organizer ON events (organizer_id, starts_at);
CREATE INDEX events_by_place ON events (latitude, longitude);

CREATE TABLE ticket_types (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id),
    position       BIGINT NOT NULL,
    name           TEXT NOT NULL,
    price_minor    BIGINT NOT NULL CHECK (price_minor >= 0),
    currency       TEXT NOT NULL,
    capacity       BIGINT NOT NULL CHECK (capacity > 0),
    sale_starts_at BIGINT NOT NULL,
    sale_ends_at   BIGINT NOT NULL,
    max_per_order  BIGINT NOT NULL CHECK (max_per_order > 0),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (sale_ends_at > sale_starts_at)
);
CREATE INDEX ticket_types_by_event ON ticket_types (event_id, position);

-- Server-assigned sequence numbers for the catalog change feed. Writers take the next number
-- from `counters` inside their transaction, so numbers become visible in commit order and a
-- reader's cursor can never skip a change committed late.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('catalog_seq', 0);

CREATE TABLE catalog_changes (
    seq        BIGINT PRIMARY KEY,
    event_id   TEXT NOT NULL REFERENCES events (id),
    changed_at BIGINT NOT NULL
);
CREATE INDEX catalog_changes_by_event ON catalog_changes (event_id, seq);

-- Full-text index over the folded text computed by guichet_domain::text (same tokens as the
-- SDK's offline index and the PostgreSQL tsvector).
CREATE VIRTUAL TABLE events_fts USING fts5 (
    event_id UNINDEXED,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
