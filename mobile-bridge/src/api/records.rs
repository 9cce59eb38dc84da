//! The records the app reads and sends: the SDK's, with instants as milliseconds since the
//! Unix epoch (UTC) and enums without data, so each becomes a plain Dart class or enum.

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Books tickets.
    Attendee,
    /// Creates and runs events.
    Organizer,
    /// Operates the platform.
    Admin,
}

/// The signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Stable id.
    pub id: String,
    /// E-mail address.
    pub email: String,
    /// Public name.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

/// A new account's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpForm {
    /// E-mail address.
    pub email: String,
    /// 10 to 256 bytes.
    pub password: String,
    /// 1–100 characters.
    pub display_name: String,
    /// Attendee or organizer.
    pub role: Role,
}

/// A public event from the offline catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable id.
    pub id: String,
    /// Public title.
    pub title: String,
    /// Plain-text description.
    pub description: String,
    /// Venue name.
    pub venue: String,
    /// City.
    pub city: String,
    /// Degrees (WGS84), when the event has a place.
    pub latitude: Option<f64>,
    /// Degrees (WGS84), when the event has a place.
    pub longitude: Option<f64>,
    /// Start, ms since the epoch.
    pub starts_at_ms: i64,
    /// End, ms since the epoch.
    pub ends_at_ms: i64,
    /// IANA time zone, for local display.
    pub time_zone: String,
    /// Streamed online.
    pub online: bool,
    /// `PUBLISHED` or `CANCELLED`.
    pub status: String,
    /// Ticket types in display order, with what was available at the last sync.
    pub ticket_types: Vec<EventTicketType>,
}

/// A ticket type of a cached event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTicketType {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Sale opens, ms since the epoch.
    pub sale_starts_at_ms: i64,
    /// Sale closes, ms since the epoch.
    pub sale_ends_at_ms: i64,
    /// Most per order.
    pub max_per_order: i64,
    /// Available when the catalog was synced.
    pub available: i64,
}

/// A point and a radius for a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    /// Degrees, −90 to 90.
    pub latitude: f64,
    /// Degrees, −180 to 180.
    pub longitude: f64,
    /// Kilometres, more than 0 and at most 20,000.
    pub radius_km: f64,
}

/// An offline search; the criteria combine with AND.
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuery {
    /// Words to find (prefixes, case and accents ignored).
    pub text: Option<String>,
    /// Only events starting at or after this instant (ms since the epoch).
    pub starts_after_ms: Option<i64>,
    /// Only events starting before this instant (ms since the epoch).
    pub starts_before_ms: Option<i64>,
    /// Only events within a radius of a point.
    pub near: Option<Near>,
    /// Include events that have ended.
    pub include_past: bool,
    /// Results per page (1 to 500; 0 means 20).
    pub limit: u32,
    /// Results to skip.
    pub offset: u32,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct EventHit {
    /// The event.
    pub event: Event,
    /// Distance from the search point, when the search gave one.
    pub distance_km: Option<f64>,
}

/// A ticket type's stock right now (online).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// The ticket type.
    pub ticket_type_id: String,
    /// Name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Most per order.
    pub max_per_order: i64,
    /// Neither sold nor held right now.
    pub available: i64,
}

/// What a catalog sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogSyncReport {
    /// Pages pulled.
    pub pages: u32,
    /// Events added or changed.
    pub upserted: u32,
    /// Events removed.
    pub removed: u32,
}

/// One line of a hold request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldLine {
    /// The ticket type.
    pub ticket_type_id: String,
    /// How many.
    pub quantity: i64,
}

/// Where a hold is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStatus {
    /// Stock reserved until `expires_at_ms`.
    Active,
    /// Given back.
    Released,
    /// Timed out.
    Expired,
    /// Being paid for.
    CheckingOut,
    /// Turned into an order.
    Converted,
}

/// A line of a hold, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldItem {
    /// The ticket type.
    pub ticket_type_id: String,
    /// Tickets held.
    pub quantity: i64,
    /// Price of one, in minor units.
    pub unit_price_minor: i64,
}

/// Reserved tickets, with their countdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Stable id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// Status when last heard from the server.
    pub status: HoldStatus,
    /// Sum of the lines, in minor units.
    pub total_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// When the reservation lapses on this device's clock, ms since the epoch.
    pub expires_at_ms: i64,
    /// Seconds left when this record was made (0 once lapsed or no longer active).
    pub seconds_left: i64,
    /// The lines.
    pub items: Vec<HoldItem>,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Payment or issuance in progress.
    Processing,
    /// Paid and tickets issued.
    Completed,
    /// The payment was refused; nothing was charged.
    Declined,
    /// Being refunded in full.
    RefundPending,
    /// Refunded in full.
    Refunded,
}

/// Whether a ticket gets its holder in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Valid.
    Valid,
    /// Refunded or cancelled.
    Revoked,
}

/// An issued ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Stable id.
    pub id: String,
    /// Its order.
    pub order_id: String,
    /// The event.
    pub event_id: String,
    /// The ticket type.
    pub ticket_type_id: String,
    /// Price paid, in minor units.
    pub price_minor: i64,
    /// Status.
    pub status: TicketStatus,
    /// The signed credential, what the QR code encodes.
    pub credential: String,
    /// Issued at, ms since the epoch.
    pub issued_at_ms: i64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Stable id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// Status.
    pub status: OrderStatus,
    /// Amount charged, in minor units.
    pub total_minor: i64,
    /// Amount refunded so far.
    pub refunded_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Why the payment was refused, when it was.
    pub failure: Option<String>,
    /// Placed at, ms since the epoch.
    pub created_at_ms: i64,
    /// Issued tickets.
    pub tickets: Vec<Ticket>,
}

/// What the wallet shows of a ticket's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    /// The event.
    pub id: String,
    /// Title.
    pub title: String,
    /// Venue.
    pub venue: String,
    /// City.
    pub city: String,
    /// Start, ms since the epoch.
    pub starts_at_ms: i64,
    /// End, ms since the epoch.
    pub ends_at_ms: i64,
    /// IANA time zone.
    pub time_zone: String,
    /// `DRAFT`, `PUBLISHED` or `CANCELLED`.
    pub status: String,
}

/// A ticket in the wallet, with its event when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTicket {
    /// The ticket.
    pub ticket: Ticket,
    /// Its event (absent until a sync fetched it).
    pub event: Option<EventSummary>,
}

/// What a pending operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// A hold.
    Hold,
    /// A checkout.
    Checkout,
    /// A release.
    ReleaseHold,
    /// A refund.
    Refund,
}

/// Where a pending operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    /// No answer yet.
    Pending,
    /// Done.
    Succeeded,
    /// Refused for good.
    Failed,
}

/// An operation of the booking queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOperation {
    /// Id, also the idempotency key.
    pub id: String,
    /// What it does.
    pub kind: OperationKind,
    /// Its arguments, as the SDK stores them (JSON).
    pub request_json: String,
    /// Where it is.
    pub state: OperationState,
    /// Sends so far.
    pub attempts: u32,
    /// Once succeeded: the hold or order it produced.
    pub result_id: Option<String>,
    /// The last error.
    pub last_error: Option<super::error::BridgeError>,
    /// Created at, ms since the epoch.
    pub created_at_ms: i64,
}

/// Which long-running task a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Catalog, pending operations and wallet.
    Sync,
    /// The wallet's orders and tickets.
    WalletSync,
    /// Re-sending pending operations.
    ResumePending,
    /// The public catalog.
    CatalogSync,
    /// Another task of the SDK.
    Other,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    /// It finished.
    Completed,
    /// It was cancelled.
    Cancelled,
    /// It failed (see `TaskEvent.error`).
    Failed,
}

/// One report of a task: progress while `outcome` is absent, then one last event with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    /// The task.
    pub task: TaskKind,
    /// Units done so far.
    pub done: i64,
    /// Units in all, when known.
    pub total: Option<i64>,
    /// Set on the last event only.
    pub outcome: Option<TaskOutcome>,
    /// The error of a failed task.
    pub error: Option<super::error::BridgeError>,
}

/// What changed in the local data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Signed in, signed out, or the session ended.
    Session,
    /// The wallet's tickets.
    Wallet,
    /// A hold (see `ChangeEvent.id`).
    Hold,
    /// An order (see `ChangeEvent.id`).
    Order,
    /// The pending-operations queue.
    Operations,
    /// The cached catalog.
    Catalog,
    /// Another change of the SDK.
    Other,
}

/// A change of local data; read it back through the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// What changed.
    pub kind: ChangeKind,
    /// The hold's or order's id.
    pub id: Option<String>,
}

/// What a full sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    /// The catalog's refresh.
    pub catalog: CatalogSyncReport,
    /// Pending operations re-sent, as they stand afterwards.
    pub resumed: Vec<PendingOperation>,
    /// Orders held now.
    pub orders: u32,
    /// Tickets held now.
    pub tickets: u32,
}

/// Where a live feed's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivePhase {
    /// Opening the first connection.
    Connecting,
    /// Subscribed: updates flow.
    Live,
    /// Trying again after a back-off.
    Reconnecting,
    /// Over (see `error`); nothing follows.
    Ended,
}

/// One frame of an order's live feed: the order now, or the connection's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The order as it stands, when this frame is one.
    pub order: Option<Order>,
    /// The connection's phase, when this frame is a state change.
    pub phase: Option<LivePhase>,
    /// Failed attempts since the feed was last live.
    pub attempt: u32,
    /// Why it reconnects or ended, if it failed.
    pub error: Option<super::error::BridgeError>,
}
