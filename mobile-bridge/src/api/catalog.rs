//! The offline catalog: sync with progress, search, one event, live availability.

use flutter_rust_bridge::frb;

use crate::api::client::GuichetClient;
use crate::api::error::BridgeError;
use crate::api::records::{
    Availability, CatalogSyncReport, Event, EventHit, EventQuery, TaskEvent,
};
use crate::convert;
use crate::feed;
use crate::frb_generated::StreamSink;

impl GuichetClient {
    /// Pulls the catalog's changes since the last sync.
    pub async fn sync_catalog(&self) -> Result<CatalogSyncReport, BridgeError> {
        let report = self.sdk.catalog().sync().await;
        report.map(convert::catalog_sync).map_err(convert::error)
    }

    /// [`GuichetClient::sync_catalog`] as a stream of progress reports ending with its
    /// outcome; cancelling the subscription cancels the sync.
    pub async fn sync_catalog_with_progress(&self, sink: StreamSink<TaskEvent>) {
        self.sync_catalog_with_progress_into(move |e| sink.add(e).is_ok())
            .await;
    }

    /// [`GuichetClient::sync_catalog_with_progress`] into any `emit` (false: stop).
    #[frb(ignore)]
    pub async fn sync_catalog_with_progress_into(
        &self,
        emit: impl Fn(TaskEvent) -> bool + Send + Sync + 'static,
    ) {
        let catalog = self.sdk.catalog();
        feed::task(emit, |listener| catalog.sync_task(listener)).await;
    }

    /// Searches the cached catalog (no network).
    pub async fn search_events(&self, query: EventQuery) -> Result<Vec<EventHit>, BridgeError> {
        let hits = self.sdk.catalog().search(convert::search(query)).await;
        let hits = hits.map_err(convert::error)?;
        Ok(hits.into_iter().map(convert::hit).collect())
    }

    /// A cached event (no network).
    pub async fn event(&self, event_id: String) -> Result<Option<Event>, BridgeError> {
        let event = self.sdk.catalog().event(&event_id).await;
        event.map(|e| e.map(convert::event)).map_err(convert::error)
    }

    /// An event's ticket types with what is left right now (online).
    pub async fn availability(&self, event_id: String) -> Result<Vec<Availability>, BridgeError> {
        let types = self.sdk.catalog().availability(&event_id).await;
        let types = types.map_err(convert::error)?;
        Ok(types.into_iter().map(convert::availability).collect())
    }
}
