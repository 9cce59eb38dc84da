//! Guichet SDK (filled in by its own issue).
