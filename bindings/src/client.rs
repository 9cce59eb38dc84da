//! The client and its sub-handles: catalog, booking, wallet, organizer.

use std::sync::Arc;

use guichet_sdk::SyncReport;
use guichet_sdk::booking::{Hold, HoldLine, Order, PendingOperation};
use guichet_sdk::catalog::{CatalogEvent, CatalogSync, EventSearch, SearchHit};
use guichet_sdk::check_in::{CheckInListDraft, CheckInListInfo, ScannerPairing};
use guichet_sdk::organizer::{
    AttendeePage, EventChanges, EventDraft, OrganizerEvent, SalesReportData, TicketTypeDraft,
    TicketTypeInfo,
};
use guichet_sdk::session::oidc::{OidcConfig, ProviderSignIn};
use guichet_sdk::session::{Account, SignUp};
use guichet_sdk::wallet::{WalletSync, WalletTicket};

use crate::Result;
use crate::listeners::{
    BrowserOpener, ChangeListener, Changing, CheckIns, CheckInsListener, HostSecrets, Opener,
    OrderListener, Orders, ProgressListener, Sales, SalesListener, SecretStore, TaskHandle,
    progress, task,
};

/// Opens the client described by `config`; `secrets` keeps the session tokens in the
/// host's secure storage (by default: a file in the data directory).
#[uniffi::export(async_runtime = "tokio")]
pub async fn open_client(
    server_url: String,
    data_dir: String,
    secrets: Option<Box<dyn SecretStore>>,
) -> Result<Arc<Client>> {
    let mut builder = guichet_sdk::Client::builder(&server_url, data_dir);
    if let Some(secrets) = secrets {
        builder = builder.secret_store(Arc::new(HostSecrets(secrets)));
    }
    Ok(Arc::new(Client(builder.open().await?)))
}

/// The embeddable client: session, sync and the sub-handles. Usable from any thread.
#[derive(Debug, uniffi::Object)]
pub struct Client(guichet_sdk::Client);

#[uniffi::export(async_runtime = "tokio")]
impl Client {
    /// Creates an account and signs it in.
    pub async fn sign_up(&self, account: SignUp) -> Result<Account> {
        Ok(self.0.sign_up(account).await?)
    }

    /// Signs in.
    pub async fn log_in(&self, email: String, password: String) -> Result<Account> {
        Ok(self.0.log_in(&email, &password).await?)
    }

    /// Starts a sign-in through an OpenID provider (PKCE): open the returned
    /// `authorization_url`, then give the redirect to `finish_provider_sign_in` (mobile
    /// hosts that receive the redirect themselves).
    pub async fn begin_provider_sign_in(&self, config: OidcConfig) -> Result<ProviderSignIn> {
        Ok(self.0.begin_provider_sign_in(config).await?)
    }

    /// Finishes a provider sign-in with the URL the provider redirected to.
    pub async fn finish_provider_sign_in(
        &self,
        pending: ProviderSignIn,
        redirect_url: String,
    ) -> Result<Account> {
        Ok(self
            .0
            .finish_provider_sign_in(pending, &redirect_url)
            .await?)
    }

    /// Signs in through an OpenID provider on a desktop: `opener` opens the system browser,
    /// the SDK receives the redirect on a loopback port.
    pub async fn sign_in_with_provider(
        &self,
        config: OidcConfig,
        opener: Box<dyn BrowserOpener>,
    ) -> Result<Account> {
        let opener = Arc::new(Opener(opener));
        Ok(self.0.sign_in_with_provider(config, opener).await?)
    }

    /// Signs out here and on the server.
    pub async fn log_out(&self) -> Result<()> {
        Ok(self.0.log_out().await?)
    }

    /// The signed-in account, if any (no network).
    pub async fn account(&self) -> Option<Account> {
        self.0.account().await
    }

    /// Catalog, wallet and pending operations in one go.
    pub async fn sync(&self) -> Result<SyncReport> {
        Ok(self.0.sync().await?)
    }

    /// [`Client::sync`] as a task reporting to `listener`.
    pub fn sync_task(&self, listener: Box<dyn ProgressListener>) -> Arc<TaskHandle> {
        task(self.0.sync_task(progress(listener)))
    }

    /// Tells `listener` about every change of local data until the handle goes.
    pub fn subscribe(&self, listener: Box<dyn ChangeListener>) -> Arc<TaskHandle> {
        task(self.0.subscribe(Arc::new(Changing(listener))))
    }

    /// The offline catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::new(Catalog(self.0.catalog()))
    }

    /// Holds, checkout, refunds and the pending operations.
    pub fn booking(&self) -> Arc<Booking> {
        Arc::new(Booking(self.0.booking()))
    }

    /// The account's tickets and orders.
    pub fn wallet(&self) -> Arc<Wallet> {
        Arc::new(Wallet(self.0.wallet()))
    }

    /// An organizer's events, sales and doors.
    pub fn organizer(&self) -> Arc<Organizer> {
        Arc::new(Organizer(self.0.organizer(), self.0.check_in()))
    }
}

/// The public catalog, cached for offline search.
#[derive(Debug, uniffi::Object)]
pub struct Catalog(guichet_sdk::Catalog);

#[uniffi::export(async_runtime = "tokio")]
impl Catalog {
    /// Pulls the catalog's changes since the last sync.
    pub async fn sync(&self) -> Result<CatalogSync> {
        Ok(self.0.sync().await?)
    }

    /// [`Catalog::sync`] as a task reporting to `listener`.
    pub fn sync_task(&self, listener: Box<dyn ProgressListener>) -> Arc<TaskHandle> {
        task(self.0.sync_task(progress(listener)))
    }

    /// Searches the cached catalog (no network).
    pub async fn search(&self, search: EventSearch) -> Result<Vec<SearchHit>> {
        Ok(self.0.search(search).await?)
    }

    /// A cached event.
    pub async fn event(&self, event_id: String) -> Result<Option<CatalogEvent>> {
        Ok(self.0.event(&event_id).await?)
    }

    /// An event's ticket types with what is left right now (online).
    pub async fn availability(&self, event_id: String) -> Result<Vec<TicketTypeInfo>> {
        Ok(self.0.availability(&event_id).await?)
    }
}

/// Holds, checkout, release, refund: persisted operations that survive a restart.
#[derive(Debug, uniffi::Object)]
pub struct Booking(guichet_sdk::Booking);

#[uniffi::export(async_runtime = "tokio")]
impl Booking {
    /// Reserves tickets until the hold's `expires_at`.
    pub async fn hold(&self, event_id: String, lines: Vec<HoldLine>) -> Result<Hold> {
        Ok(self.0.hold(&event_id, &lines).await?)
    }

    /// Pays for a hold (`payment_token`: the provider's token, none for free tickets).
    pub async fn checkout(&self, hold_id: String, payment_token: Option<String>) -> Result<Order> {
        Ok(self.0.checkout(&hold_id, payment_token.as_deref()).await?)
    }

    /// One of the account's orders, live: first as it stands, then after each step of the
    /// checkout saga and each refund. Dropping the handle ends the feed.
    pub fn watch_order(
        &self,
        order_id: String,
        listener: Box<dyn OrderListener>,
    ) -> Arc<TaskHandle> {
        task(self.0.watch_order(&order_id, Arc::new(Orders(listener))))
    }

    /// Gives a hold's tickets back.
    pub async fn release(&self, hold_id: String) -> Result<Hold> {
        Ok(self.0.release(&hold_id).await?)
    }

    /// Refunds tickets of an order (all when `ticket_ids` is empty) and revokes them.
    pub async fn refund(&self, order_id: String, ticket_ids: Vec<String>) -> Result<Order> {
        Ok(self.0.refund(&order_id, &ticket_ids).await?)
    }

    /// A hold as last heard from the server, with its countdown (no network).
    pub async fn hold_status(&self, hold_id: String) -> Result<Hold> {
        Ok(self.0.hold_status(&hold_id).await?)
    }

    /// Asks the server for a hold's state now.
    pub async fn refresh_hold(&self, hold_id: String) -> Result<Hold> {
        Ok(self.0.refresh_hold(&hold_id).await?)
    }

    /// Seconds left on a hold now (0 once expired): the countdown to show.
    pub fn seconds_left(&self, hold: Hold) -> u64 {
        hold.remaining().as_secs()
    }

    /// Operations not finished yet (a crash or a lost answer left them).
    pub async fn pending(&self) -> Result<Vec<PendingOperation>> {
        Ok(self.0.pending_operations().await?)
    }

    /// Retries the pending operations with their original keys.
    pub async fn resume(&self) -> Result<Vec<PendingOperation>> {
        Ok(self.0.resume_pending().await?)
    }

    /// [`Booking::resume`] as a task reporting to `listener`.
    pub fn resume_task(&self, listener: Box<dyn ProgressListener>) -> Arc<TaskHandle> {
        task(self.0.resume_pending_task(progress(listener)))
    }
}

/// The account's tickets, offline, with their QR codes.
#[derive(Debug, uniffi::Object)]
pub struct Wallet(guichet_sdk::Wallet);

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// The tickets kept here (no network).
    pub async fn tickets(&self) -> Result<Vec<WalletTicket>> {
        Ok(self.0.tickets().await?)
    }

    /// Fetches the account's orders and tickets.
    pub async fn sync(&self) -> Result<WalletSync> {
        Ok(self.0.sync().await?)
    }

    /// [`Wallet::sync`] as a task reporting to `listener`.
    pub fn sync_task(&self, listener: Box<dyn ProgressListener>) -> Arc<TaskHandle> {
        task(self.0.sync_task(progress(listener)))
    }

    /// The account's orders (online).
    pub async fn orders(&self) -> Result<Vec<Order>> {
        Ok(self.0.orders().await?)
    }

    /// An order (online).
    pub async fn order(&self, order_id: String) -> Result<Order> {
        Ok(self.0.order(&order_id).await?)
    }

    /// A ticket's QR code as SVG, `module_px` pixels per module.
    pub fn qr_svg(&self, ticket: WalletTicket, module_px: u32) -> Result<String> {
        Ok(ticket.qr_svg(module_px)?)
    }

    /// A ticket's QR code as PNG bytes.
    pub fn qr_png(&self, ticket: WalletTicket, module_px: u32) -> Result<Vec<u8>> {
        Ok(ticket.qr_png(module_px)?)
    }
}

/// An organizer's tools: events, ticket types, sales, attendees, doors.
#[derive(Debug, uniffi::Object)]
pub struct Organizer(guichet_sdk::Organizer, guichet_sdk::CheckIn);

#[uniffi::export(async_runtime = "tokio")]
impl Organizer {
    /// Creates a draft event.
    pub async fn create_event(&self, draft: EventDraft) -> Result<OrganizerEvent> {
        Ok(self.0.create_event(draft).await?)
    }

    /// Changes an event (absent fields stay).
    pub async fn update_event(
        &self,
        event_id: String,
        changes: EventChanges,
    ) -> Result<OrganizerEvent> {
        Ok(self.0.update_event(&event_id, changes).await?)
    }

    /// Puts a draft on sale.
    pub async fn publish_event(&self, event_id: String) -> Result<OrganizerEvent> {
        Ok(self.0.publish_event(&event_id).await?)
    }

    /// Calls an event off (refunding its orders).
    pub async fn cancel_event(&self, event_id: String) -> Result<OrganizerEvent> {
        Ok(self.0.cancel_event(&event_id).await?)
    }

    /// Adds a ticket type to an event.
    pub async fn add_ticket_type(
        &self,
        event_id: String,
        draft: TicketTypeDraft,
    ) -> Result<TicketTypeInfo> {
        Ok(self.0.add_ticket_type(&event_id, draft).await?)
    }

    /// Replaces a ticket type's details.
    pub async fn update_ticket_type(
        &self,
        ticket_type_id: String,
        draft: TicketTypeDraft,
    ) -> Result<TicketTypeInfo> {
        Ok(self.0.update_ticket_type(&ticket_type_id, draft).await?)
    }

    /// The organizer's events, drafts included.
    pub async fn events(&self) -> Result<Vec<OrganizerEvent>> {
        Ok(self.0.events().await?)
    }

    /// An event's sales, live: first as they stand, then after every hold, release,
    /// expiry, checkout step and refund. Dropping the handle ends the feed.
    pub fn watch_sales(
        &self,
        event_id: String,
        listener: Box<dyn SalesListener>,
    ) -> Arc<TaskHandle> {
        task(self.0.watch_sales(&event_id, Arc::new(Sales(listener))))
    }

    /// A check-in list's counts and duplicate-entry alerts, live.
    pub fn watch_check_ins(
        &self,
        list_id: String,
        listener: Box<dyn CheckInsListener>,
    ) -> Arc<TaskHandle> {
        task(
            self.1
                .watch_check_ins(&list_id, Arc::new(CheckIns(listener))),
        )
    }

    /// Sold, held and revenue by ticket type and by day.
    pub async fn sales_report(&self, event_id: String) -> Result<SalesReportData> {
        Ok(self.0.sales_report(&event_id).await?)
    }

    /// A page of attendees (`first` 1–200), filtered by `search` on e-mail or name.
    pub async fn attendees(
        &self,
        event_id: String,
        search: Option<String>,
        first: i64,
        after: Option<String>,
    ) -> Result<AttendeePage> {
        let page = self
            .0
            .attendees(&event_id, search.as_deref(), first, after.as_deref());
        Ok(page.await?)
    }

    /// Creates a check-in list for an event.
    pub async fn create_check_in_list(
        &self,
        event_id: String,
        draft: CheckInListDraft,
    ) -> Result<CheckInListInfo> {
        Ok(self.1.create_list(&event_id, draft).await?)
    }

    /// An event's check-in lists.
    pub async fn check_in_lists(&self, event_id: String) -> Result<Vec<CheckInListInfo>> {
        Ok(self.1.lists(&event_id).await?)
    }

    /// A one-time code (15 minutes) that pairs a scanner with a check-in list.
    pub async fn pairing_code(&self, list_id: String) -> Result<ScannerPairing> {
        Ok(self.1.pair_scanner(&list_id).await?)
    }
}
