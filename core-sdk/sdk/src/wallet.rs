//! The wallet: the account's tickets, shown offline with their QR codes, refreshed by
//! [`Wallet::sync`](crate::Wallet::sync).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::operations::{MyOrders, WalletEvent, my_orders, wallet_event};
use crate::booking::convert::order_from;
use crate::booking::{Order, Ticket};
pub use crate::client::Wallet;
use crate::notify::{Change, Progress, ProgressListener, Task, TaskHandle, spawn_task};
use crate::qr::TicketQr;
use crate::{Client, Error};

pub use crate::model::wallet::EventSummary;

/// A ticket in the wallet, with its event when known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WalletTicket {
    /// The ticket, with its credential text.
    pub ticket: Ticket,
    /// Its event (absent until a sync fetched it).
    pub event: Option<EventSummary>,
}

impl WalletTicket {
    /// The QR code of the credential.
    pub fn qr(&self) -> Result<TicketQr, Error> {
        TicketQr::new(&self.ticket.credential)
    }

    /// The QR code as an SVG document (`module_px` units per module).
    pub fn qr_svg(&self, module_px: u32) -> Result<String, Error> {
        Ok(self.qr()?.to_svg(module_px))
    }

    /// The QR code as a greyscale PNG (`module_px` pixels per module).
    pub fn qr_png(&self, module_px: u32) -> Result<Vec<u8>, Error> {
        self.qr()?.to_png(module_px)
    }
}

/// What a wallet sync brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WalletSync {
    /// Orders held now.
    pub orders: usize,
    /// Tickets held now (valid and revoked).
    pub tickets: usize,
}

impl Client {
    async fn sync_wallet_reporting(
        &self,
        listener: Option<Arc<dyn ProgressListener>>,
    ) -> Result<WalletSync, Error> {
        let account = self.account_id().await?;
        let data = self.authed::<MyOrders>(my_orders::Variables, true).await?;
        let orders: Vec<Order> = data
            .my_orders
            .into_iter()
            .map(|o| order_from!(my_orders, o))
            .collect();
        let events: BTreeSet<String> = orders.iter().map(|o| o.event_id.clone()).collect();
        let total = 1 + events.len() as u64;
        let report = |done: u64| {
            if let Some(listener) = &listener {
                listener.on_progress(Progress {
                    task: Task::WalletSync,
                    done,
                    total: Some(total),
                });
            }
        };
        let summary = WalletSync {
            orders: orders.len(),
            tickets: orders.iter().map(|o| o.tickets.len()).sum(),
        };
        let owner = account.clone();
        self.store()
            .call(move |s| s.save_orders(&owner, &orders))
            .await?;
        report(1);
        let mut summaries = Vec::with_capacity(events.len());
        for (done, id) in events.into_iter().enumerate() {
            let data = self
                .authed::<WalletEvent>(wallet_event::Variables { id }, true)
                .await?;
            if let Some(e) = data.event {
                summaries.push(EventSummary {
                    id: e.id,
                    title: e.title,
                    venue: e.venue,
                    city: e.city,
                    starts_at: e.starts_at,
                    ends_at: e.ends_at,
                    time_zone: e.time_zone,
                    status: match e.status {
                        wallet_event::EventStatus::DRAFT => "DRAFT".to_owned(),
                        wallet_event::EventStatus::PUBLISHED => "PUBLISHED".to_owned(),
                        wallet_event::EventStatus::CANCELLED => "CANCELLED".to_owned(),
                        wallet_event::EventStatus::Other(other) => other,
                    },
                });
            }
            report(done as u64 + 2);
        }
        self.store()
            .call(move |s| s.save_wallet_events(&summaries))
            .await?;
        self.notify(Change::Wallet);
        Ok(summary)
    }
}

impl Wallet {
    /// The account's tickets, newest first, from the local store (works offline).
    pub async fn tickets(&self) -> Result<Vec<WalletTicket>, Error> {
        let account = self.client.account_id().await?;
        self.client
            .store()
            .call(move |s| {
                let events = s.wallet_events(&account)?;
                Ok(s.wallet(&account)?
                    .into_iter()
                    .map(|ticket| WalletTicket {
                        event: events.iter().find(|e| e.id == ticket.event_id).cloned(),
                        ticket,
                    })
                    .collect())
            })
            .await
    }

    /// The account's orders, newest first, from the local store (tickets not included; see
    /// [`Wallet::tickets`](crate::Wallet::tickets) or [`Wallet::order`](crate::Wallet::order)).
    pub async fn orders(&self) -> Result<Vec<Order>, Error> {
        let account = self.client.account_id().await?;
        self.client.store().call(move |s| s.orders(&account)).await
    }

    /// One order with its tickets, from the local store.
    pub async fn order(&self, id: &str) -> Result<Order, Error> {
        let account = self.client.account_id().await?;
        let id = id.to_owned();
        self.client
            .store()
            .call(move |s| s.order(&account, &id))
            .await?
            .ok_or(Error::NotFound("order"))
    }

    /// Brings the local orders and tickets up to the server's (new orders, refunds,
    /// cancellations), and fetches the events they are for.
    pub async fn sync(&self) -> Result<WalletSync, Error> {
        self.client.sync_wallet_reporting(None).await
    }

    /// [`Wallet::sync`](crate::Wallet::sync) as a cancellable task reporting to `listener`.
    pub fn sync_task(&self, listener: Arc<dyn ProgressListener>) -> TaskHandle {
        let client = self.client.clone();
        let reporter = listener.clone();
        spawn_task(
            self.client.runtime(),
            Task::WalletSync,
            listener,
            async move {
                client
                    .sync_wallet_reporting(Some(reporter))
                    .await
                    .map(|_| ())
            },
        )
    }
}
