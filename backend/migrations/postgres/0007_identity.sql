-- Identity after a breach (issue 17): sessions that end, second factors, an append-only
-- audit log, external identities, and accounts erased on request. Times are Unix seconds.

-- A session is one log-in: its refresh-token family shares its id, and every access token
-- names it (`sid`). Requests read the row by primary key, so ending it ends its access
-- tokens on the very next request, on every replica. `expires_at` is absolute: refreshing
-- never carries a session past it.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at   BIGINT,
    end_reason TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Families that exist already become sessions, live if one of their tokens still is.
INSERT INTO sessions (id, user_id, created_at, expires_at, ended_at, end_reason)
SELECT family_id, MIN(user_id), MIN(created_at), MAX(expires_at),
       CASE WHEN COUNT(*) = COUNT(revoked_at) THEN MAX(revoked_at) END,
       CASE WHEN COUNT(*) = COUNT(revoked_at) THEN 'log_out' END
FROM refresh_tokens GROUP BY family_id;

-- TOTP (RFC 6238). The secret is sealed with the key-encryption key; `enabled_at` is set
-- once the holder proved a first code; `last_step` refuses a code replayed in its step.
CREATE TABLE totp_credentials (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    enabled_at    BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- Recovery codes, stored as SHA-256 of the code; each works once.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Accounts of an external OpenID Connect issuer, by (issuer, subject).
CREATE TABLE external_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- An erased account keeps its row (orders and tickets point at it) with its personal
-- fields replaced; `deleted_at` says when.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- Who did what to which object, when and from where. Written in the transaction of the
-- action it records; rows are never updated nor deleted (triggers refuse both). `actor_id`
-- is an account id (never an e-mail), null for the system or an unknown account.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT,
    event_id    TEXT,
    address     TEXT,
    detail      TEXT
);
CREATE INDEX audit_log_by_event ON audit_log (event_id, at, id);
CREATE INDEX audit_log_by_time ON audit_log (at, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
