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
-- Searches walk this index in start order and stop at the page's end; it covers every
-- filter (past events, cancellations, the distance pre-filter box), so the rows skipped
-- on the way cost an index entry each, not a table lookup.
CREATE INDEX catalog_events_by_start
    ON catalog_events (starts_at, id, ends_at, status, latitude, longitude);

-- External-content full-text index over search_text. The store writes it a page at a time
-- (one statement for the page's deletions, one for its insertions) rather than through
-- row triggers: FTS5 flushes its pending terms at every statement savepoint, and a trigger
-- per row made the initial sync of 100,000 events write 100,000 tiny index segments.
CREATE VIRTUAL TABLE catalog_fts USING fts5 (
    search_text,
    content = 'catalog_events',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    -- One-letter prefixes ("t" typed alone) read one list instead of merging every word
    -- that starts with the letter.
    prefix = '1'
);
