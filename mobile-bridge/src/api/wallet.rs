//! The account's tickets offline, orders, and tickets' QR codes.

use flutter_rust_bridge::frb;
use guichet_sdk::qr::TicketQr;

use crate::api::client::GuichetClient;
use crate::api::error::BridgeError;
use crate::api::records::{Order, WalletTicket};
use crate::convert;

impl GuichetClient {
    /// The tickets kept on the device (no network).
    pub async fn tickets(&self) -> Result<Vec<WalletTicket>, BridgeError> {
        let tickets = self.sdk.wallet().tickets().await.map_err(convert::error)?;
        Ok(tickets.into_iter().map(convert::wallet_ticket).collect())
    }

    /// The account's orders (online).
    pub async fn orders(&self) -> Result<Vec<Order>, BridgeError> {
        let orders = self.sdk.wallet().orders().await.map_err(convert::error)?;
        Ok(orders.into_iter().map(convert::order).collect())
    }

    /// An order (online).
    pub async fn order(&self, order_id: String) -> Result<Order, BridgeError> {
        let order = self.sdk.wallet().order(&order_id).await;
        order.map(convert::order).map_err(convert::error)
    }
}

/// A ticket's credential as an SVG QR code, `module_px` units per module.
#[frb(sync)]
pub fn qr_svg(credential: String, module_px: u32) -> Result<String, BridgeError> {
    let qr = TicketQr::new(&credential).map_err(convert::error)?;
    Ok(qr.to_svg(module_px))
}

/// A ticket's credential as a greyscale PNG QR code, `module_px` pixels per module.
#[frb(sync)]
pub fn qr_png(credential: String, module_px: u32) -> Result<Vec<u8>, BridgeError> {
    let qr = TicketQr::new(&credential).map_err(convert::error)?;
    qr.to_png(module_px).map_err(convert::error)
}
