//! The offline catalog: public events pulled from the server's change feed into the local
//! store, searchable with no network.
//!
//! - [`Catalog::sync`](crate::Catalog::sync) pulls pages by cursor; each page
//!   is applied in one transaction together with its cursor, so an interrupted sync resumes
//!   where it stopped. Events that left the public catalog are deleted; cancelled ones stay
//!   with their status (and out of search results).
//! - [`Catalog::search`](crate::Catalog::search) searches the cache: words as
//!   prefixes with case and accents folded (the same folding as the server:
//!   `guichet_domain::text`), a start-time range, a distance from a point, ranked by
//!   relevance (FTS5 bm25) then start time.
//! - [`Catalog::event`](crate::Catalog::event) reads one event from the cache.

mod sync;

pub use crate::client::Catalog;
pub use sync::CatalogSync;

pub use crate::model::catalog::{CatalogEvent, CatalogTicketType, EventSearch, Near, SearchHit};
