//! Pulling the catalog feed, and the client's offline catalog calls.

use std::sync::Arc;

use super::{CatalogEvent, CatalogTicketType, EventSearch, SearchHit};
use crate::api::operations::{CatalogChanges, catalog_changes};
use crate::notify::{Change as Changed, Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::store::CatalogChange as Change;
use crate::{Catalog, Client, Error};

/// Feed entries per page (the server's maximum).
const PAGE: i64 = 1_000;

/// What a catalog sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CatalogSync {
    /// Pages pulled.
    pub pages: usize,
    /// Events added or changed.
    pub upserted: usize,
    /// Events that left the public catalog and were removed.
    pub removed: usize,
}

fn status(s: &catalog_changes::EventStatus) -> String {
    match s {
        catalog_changes::EventStatus::DRAFT => "DRAFT".to_owned(),
        catalog_changes::EventStatus::PUBLISHED => "PUBLISHED".to_owned(),
        catalog_changes::EventStatus::CANCELLED => "CANCELLED".to_owned(),
        catalog_changes::EventStatus::Other(other) => other.clone(),
    }
}

fn event(e: catalog_changes::CatalogChangesCatalogChangesChangesEvent) -> CatalogEvent {
    CatalogEvent {
        status: status(&e.status),
        id: e.id,
        title: e.title,
        description: e.description,
        venue: e.venue,
        city: e.city,
        latitude: e.latitude,
        longitude: e.longitude,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        time_zone: e.time_zone,
        online: e.online,
        updated_at: e.updated_at,
        ticket_types: e
            .ticket_types
            .into_iter()
            .map(|t| CatalogTicketType {
                id: t.id,
                name: t.name,
                price_minor: t.price_minor,
                currency: t.currency,
                sale_starts_at: t.sale_starts_at,
                sale_ends_at: t.sale_ends_at,
                max_per_order: t.max_per_order,
                available: t.available,
            })
            .collect(),
    }
}

impl Client {
    pub(crate) async fn sync_catalog_reporting(
        &self,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<CatalogSync, Error> {
        let mut report = CatalogSync::default();
        let after = self.store().call(|s| s.catalog_cursor()).await?;
        let mut page = self.catalog_page(after).await?;
        loop {
            let changes: Vec<Change> = page
                .changes
                .into_iter()
                .map(|c| (c.event_id, c.event.map(event)))
                .collect();
            let cursor = page.cursor;
            let more = page.has_more;
            let store = self.store().clone();
            let saved = cursor.clone();
            let apply = store.call(move |s| s.apply_catalog_page(&changes, &saved));
            // The next page travels while this one is written: network and disk overlap.
            let (applied, next) = if more {
                let (applied, next) = tokio::join!(apply, self.catalog_page(Some(cursor)));
                (applied, Some(next))
            } else {
                (apply.await, None)
            };
            let (upserted, removed) = applied?;
            report.pages += 1;
            report.upserted += upserted;
            report.removed += removed;
            if let Some(listener) = &listener {
                listener.on_progress(Progress {
                    task: Task::CatalogSync,
                    done: (report.upserted + report.removed) as u64,
                    total: None,
                });
            }
            if upserted + removed > 0 {
                self.notify(Changed::Catalog);
            }
            match next {
                Some(next) => page = next?,
                None => return Ok(report),
            }
        }
    }

    async fn catalog_page(
        &self,
        after: Option<String>,
    ) -> Result<catalog_changes::CatalogChangesCatalogChanges, Error> {
        let vars = catalog_changes::Variables { after, first: PAGE };
        Ok(self
            .api()
            .run::<CatalogChanges>(vars, None, true)
            .await?
            .catalog_changes)
    }
}

impl Catalog {
    /// Pulls the catalog's changes since the last sync (everything, the first time) into
    /// the local cache. Each page is stored with its cursor in one transaction: an
    /// interrupted sync resumes from the last stored page.
    pub async fn sync(&self) -> Result<CatalogSync, Error> {
        self.client.sync_catalog_reporting(None).await
    }

    /// [`Catalog::sync`](crate::Catalog::sync) as a cancellable task reporting to `listener` (one unit
    /// per event stored).
    pub fn sync_task(&self, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let client = self.client.clone();
        let reporter = listener.clone();
        spawn_task(
            self.client.runtime(),
            Task::CatalogSync,
            listener,
            async move {
                client
                    .sync_catalog_reporting(Some(reporter))
                    .await
                    .map(|_| ())
            },
        )
    }

    /// Searches the cached catalog, with no network: published events that are not over
    /// (unless `include_past`), ranked by relevance then start time.
    pub async fn search(&self, search: EventSearch) -> Result<Vec<SearchHit>, Error> {
        let now = chrono::Utc::now().timestamp();
        self.client
            .store()
            .call(move |s| s.search_catalog(&search, now))
            .await
    }

    /// One event from the cache (`None` if it is not cached or left the catalog).
    pub async fn event(&self, id: &str) -> Result<Option<CatalogEvent>, Error> {
        let id = id.to_owned();
        self.client
            .store()
            .call(move |s| s.catalog_event(&id))
            .await
    }
}
