-- The offline catalog: public events as the server's change feed last described them, a
-- full-text index over their folded text (guichet_domain::text, the same tokens as the
-- server's index), and the feed cursor (client_meta 'catalog.cursor').

CREATE TABLE catalog_events (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    venue TEXT NOT NULL,
    city TEXT NOT NULL,
    latitude REAL,
    longitude REAL,
    -- Unix seconds.
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    online INTEGER NOT NULL CHECK (online IN (0, 1)),
    status TEXT NOT NULL,
    -- The ticket types as JSON (name, price, sale window, availability when synced).
    ticket_types TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    search_text TEXT NOT NULL
) STRICT;
CREATE INDEX catalog_events_by_start ON catalog_events (starts_at, id);
CREATE INDEX catalog_events_by_place ON catalog_events (latitude, longitude);

-- External-content full-text index over search_text, kept in step by triggers.
CREATE VIRTUAL TABLE catalog_fts USING fts5 (
    search_text,
    content = 'catalog_events',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER catalog_events_ai AFTER INSERT ON catalog_events BEGIN
    INSERT INTO catalog_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER catalog_events_ad AFTER DELETE ON catalog_events BEGIN
    INSERT INTO catalog_fts (catalog_fts, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER catalog_events_au AFTER UPDATE ON catalog_events BEGIN
    INSERT INTO catalog_fts (catalog_fts, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO catalog_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
