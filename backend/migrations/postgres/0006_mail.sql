-- E-mail to buyers (issue 16): the language an account reads its mail in, and one delivery
-- per (notification, recipient) so a notification is mailed to each recipient once.

-- `en`, `fr` or `ar`; null reads English.
ALTER TABLE users ADD COLUMN language TEXT CHECK (language IN ('en', 'fr', 'ar'));

-- When the mail worker listed the recipients of an outbox row (null: not yet). Rows written
-- before e-mail existed are marked listed: an upgrade does not mail every past order.
ALTER TABLE outbox ADD COLUMN mail_listed_at BIGINT;
UPDATE outbox SET mail_listed_at = created_at;
CREATE INDEX outbox_mail_unlisted ON outbox (mail_listed_at, created_at);

-- One e-mail: a notification for one account. `pending` until the SMTP server accepts it
-- (`sent`) or it failed `attempts` times or was refused for good (`dead`, the dead letter).
-- The recipient's address is read when sending and never stored here.
CREATE TABLE mail_deliveries (
    notification_id TEXT NOT NULL REFERENCES outbox (id),
    recipient_id    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    PRIMARY KEY (notification_id, recipient_id)
);
CREATE INDEX mail_deliveries_due ON mail_deliveries (status, next_attempt_at);
