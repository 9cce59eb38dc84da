-- The list's ticket types with their names, as the server's pulls give them, so a door
-- names a ticket's type with the network cut.
CREATE TABLE ticket_type_names (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL
) STRICT, WITHOUT ROWID;
