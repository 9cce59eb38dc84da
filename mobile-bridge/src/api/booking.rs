//! Holds with a countdown, checkout, release, refund and the pending operations.

use flutter_rust_bridge::frb;

use crate::api::client::GuichetClient;
use crate::api::error::BridgeError;
use crate::api::records::{Hold, HoldLine, Order, OrderUpdate, PendingOperation};
use crate::convert;
use crate::feed;
use crate::frb_generated::StreamSink;

impl GuichetClient {
    /// Reserves tickets until the hold's `expires_at_ms`.
    pub async fn hold(&self, event_id: String, lines: Vec<HoldLine>) -> Result<Hold, BridgeError> {
        let lines: Vec<_> = lines.into_iter().map(convert::hold_line).collect();
        let hold = self.sdk.booking().hold(&event_id, &lines).await;
        hold.map(convert::hold).map_err(convert::error)
    }

    /// A hold as last heard from the server, its `seconds_left` counted now (no network):
    /// what a countdown polls.
    pub async fn hold_status(&self, hold_id: String) -> Result<Hold, BridgeError> {
        let hold = self.sdk.booking().hold_status(&hold_id).await;
        hold.map(convert::hold).map_err(convert::error)
    }

    /// Asks the server for a hold's state now.
    pub async fn refresh_hold(&self, hold_id: String) -> Result<Hold, BridgeError> {
        let hold = self.sdk.booking().refresh_hold(&hold_id).await;
        hold.map(convert::hold).map_err(convert::error)
    }

    /// Pays for a hold with the payment provider's card token (`tok_visa` with the test
    /// provider, a Stripe token in production; none for free tickets).
    pub async fn checkout(
        &self,
        hold_id: String,
        payment_token: Option<String>,
    ) -> Result<Order, BridgeError> {
        let order = self
            .sdk
            .booking()
            .checkout(&hold_id, payment_token.as_deref())
            .await;
        order.map(convert::order).map_err(convert::error)
    }

    /// Gives a hold's tickets back.
    pub async fn release(&self, hold_id: String) -> Result<Hold, BridgeError> {
        let hold = self.sdk.booking().release(&hold_id).await;
        hold.map(convert::hold).map_err(convert::error)
    }

    /// Refunds tickets of an order (all when `ticket_ids` is empty) and revokes them.
    pub async fn refund(
        &self,
        order_id: String,
        ticket_ids: Vec<String>,
    ) -> Result<Order, BridgeError> {
        let order = self.sdk.booking().refund(&order_id, &ticket_ids).await;
        order.map(convert::order).map_err(convert::error)
    }

    /// Operations not finished yet (a crash or a lost answer left them).
    pub async fn pending_operations(&self) -> Result<Vec<PendingOperation>, BridgeError> {
        let ops = self
            .sdk
            .booking()
            .pending_operations()
            .await
            .map_err(convert::error)?;
        Ok(ops.into_iter().map(convert::operation).collect())
    }

    /// Retries the pending operations with their original keys.
    pub async fn resume_pending(&self) -> Result<Vec<PendingOperation>, BridgeError> {
        let ops = self
            .sdk
            .booking()
            .resume_pending()
            .await
            .map_err(convert::error)?;
        Ok(ops.into_iter().map(convert::operation).collect())
    }

    /// One of the account's orders, live: as it stands, then after each step of the
    /// checkout saga and each refund, with the connection's states; the stream ends with
    /// the feed (phase `ended`) or when cancelled.
    pub async fn watch_order(&self, order_id: String, sink: StreamSink<OrderUpdate>) {
        self.watch_order_into(order_id, move |u| sink.add(u).is_ok())
            .await;
    }

    /// [`GuichetClient::watch_order`] into any `emit` (false: stop).
    #[frb(ignore)]
    pub async fn watch_order_into(
        &self,
        order_id: String,
        emit: impl Fn(OrderUpdate) -> bool + Send + Sync + 'static,
    ) {
        let booking = self.sdk.booking();
        feed::order(emit, |listener| booking.watch_order(&order_id, listener)).await;
    }
}
