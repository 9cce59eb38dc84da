//! The SDK's records to the bridge's and back: one function per record, no rules.

use chrono::{DateTime, Utc};
use guichet_sdk::booking as sdk;
use guichet_sdk::catalog::{CatalogEvent, CatalogSync, CatalogTicketType, EventSearch, SearchHit};
use guichet_sdk::live::{self, LiveState};
use guichet_sdk::notify::{Change, Outcome, Progress, Task};
use guichet_sdk::organizer::TicketTypeInfo;
use guichet_sdk::session::{self, SignUp};
use guichet_sdk::{wallet, BoundaryError, Error, SyncReport};

use crate::api::error::{BridgeError, ErrorKind};
use crate::api::records::*;

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn error(error: Error) -> BridgeError {
    boundary(error.to_boundary())
}

pub(crate) fn boundary(error: BoundaryError) -> BridgeError {
    use guichet_sdk::ErrorKind as K;
    let kind = match error.kind {
        K::Unauthenticated => ErrorKind::Unauthenticated,
        K::Forbidden => ErrorKind::Forbidden,
        K::NotFound => ErrorKind::NotFound,
        K::InvalidInput => ErrorKind::InvalidInput,
        K::SoldOut => ErrorKind::SoldOut,
        K::HoldExpired => ErrorKind::HoldExpired,
        K::PaymentDeclined => ErrorKind::PaymentDeclined,
        K::RateLimited => ErrorKind::RateLimited,
        K::Conflict => ErrorKind::Conflict,
        K::Internal => ErrorKind::Internal,
        K::DeviceRevoked => ErrorKind::DeviceRevoked,
        K::Network => ErrorKind::Network,
        K::SessionExpired => ErrorKind::SessionExpired,
        K::NotSignedIn => ErrorKind::NotSignedIn,
        K::Storage => ErrorKind::Storage,
        K::Protocol => ErrorKind::Protocol,
        K::NotPaired => ErrorKind::NotPaired,
        K::Unknown => ErrorKind::Unknown,
    };
    BridgeError {
        kind,
        message: error.message,
    }
}

pub(crate) fn account(a: session::Account) -> Account {
    let role = match a.role {
        session::Role::Organizer => Role::Organizer,
        session::Role::Admin => Role::Admin,
        _ => Role::Attendee,
    };
    Account {
        id: a.id,
        email: a.email,
        display_name: a.display_name,
        role,
    }
}

pub(crate) fn sign_up(form: SignUpForm) -> SignUp {
    let role = match form.role {
        Role::Attendee => session::Role::Attendee,
        Role::Organizer => session::Role::Organizer,
        Role::Admin => session::Role::Admin,
    };
    SignUp {
        email: form.email,
        password: form.password,
        display_name: form.display_name,
        role,
    }
}

fn ticket_type(t: CatalogTicketType) -> EventTicketType {
    EventTicketType {
        id: t.id,
        name: t.name,
        price_minor: t.price_minor,
        currency: t.currency,
        sale_starts_at_ms: ms(t.sale_starts_at),
        sale_ends_at_ms: ms(t.sale_ends_at),
        max_per_order: t.max_per_order,
        available: t.available,
    }
}

pub(crate) fn event(e: CatalogEvent) -> Event {
    Event {
        id: e.id,
        title: e.title,
        description: e.description,
        venue: e.venue,
        city: e.city,
        latitude: e.latitude,
        longitude: e.longitude,
        starts_at_ms: ms(e.starts_at),
        ends_at_ms: ms(e.ends_at),
        time_zone: e.time_zone,
        online: e.online,
        status: e.status,
        ticket_types: e.ticket_types.into_iter().map(ticket_type).collect(),
    }
}

pub(crate) fn search(q: EventQuery) -> EventSearch {
    EventSearch {
        text: q.text,
        starts_after: q.starts_after_ms.map(at),
        starts_before: q.starts_before_ms.map(at),
        near: q.near.map(|n| guichet_sdk::catalog::Near {
            latitude: n.latitude,
            longitude: n.longitude,
            radius_km: n.radius_km,
        }),
        include_past: q.include_past,
        limit: q.limit as usize,
        offset: q.offset as usize,
    }
}

pub(crate) fn hit(h: SearchHit) -> EventHit {
    EventHit {
        event: event(h.event),
        distance_km: h.distance_km,
    }
}

pub(crate) fn availability(t: TicketTypeInfo) -> Availability {
    Availability {
        ticket_type_id: t.id,
        name: t.details.name,
        price_minor: t.details.price_minor,
        currency: t.details.currency,
        max_per_order: t.details.max_per_order,
        available: t.available,
    }
}

/// Dart's `int` is 64-bit signed (a `u64` would become a `BigInt`).
fn wide(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn catalog_sync(s: CatalogSync) -> CatalogSyncReport {
    CatalogSyncReport {
        pages: count(s.pages),
        upserted: count(s.upserted),
        removed: count(s.removed),
    }
}

pub(crate) fn hold_line(l: HoldLine) -> sdk::HoldLine {
    sdk::HoldLine {
        ticket_type_id: l.ticket_type_id,
        quantity: l.quantity,
    }
}

pub(crate) fn hold(h: sdk::Hold) -> Hold {
    let seconds_left = wide(h.remaining().as_secs());
    let status = match h.status {
        sdk::HoldStatus::Active => HoldStatus::Active,
        sdk::HoldStatus::Released => HoldStatus::Released,
        sdk::HoldStatus::Expired => HoldStatus::Expired,
        sdk::HoldStatus::CheckingOut => HoldStatus::CheckingOut,
        sdk::HoldStatus::Converted => HoldStatus::Converted,
    };
    Hold {
        id: h.id,
        event_id: h.event_id,
        status,
        total_minor: h.total_minor,
        currency: h.currency,
        expires_at_ms: ms(h.expires_at),
        seconds_left,
        items: h
            .items
            .into_iter()
            .map(|i| HoldItem {
                ticket_type_id: i.ticket_type_id,
                quantity: i.quantity,
                unit_price_minor: i.unit_price_minor,
            })
            .collect(),
    }
}

fn ticket(t: sdk::Ticket) -> Ticket {
    let status = match t.status {
        sdk::TicketStatus::Valid => TicketStatus::Valid,
        sdk::TicketStatus::Revoked => TicketStatus::Revoked,
    };
    Ticket {
        id: t.id,
        order_id: t.order_id,
        event_id: t.event_id,
        ticket_type_id: t.ticket_type_id,
        price_minor: t.price_minor,
        status,
        credential: t.credential,
        issued_at_ms: ms(t.issued_at),
    }
}

pub(crate) fn order(o: sdk::Order) -> Order {
    let status = match o.status {
        sdk::OrderStatus::Processing => OrderStatus::Processing,
        sdk::OrderStatus::Completed => OrderStatus::Completed,
        sdk::OrderStatus::Declined => OrderStatus::Declined,
        sdk::OrderStatus::RefundPending => OrderStatus::RefundPending,
        sdk::OrderStatus::Refunded => OrderStatus::Refunded,
    };
    Order {
        id: o.id,
        event_id: o.event_id,
        status,
        total_minor: o.total_minor,
        refunded_minor: o.refunded_minor,
        currency: o.currency,
        failure: o.failure,
        created_at_ms: ms(o.created_at),
        tickets: o.tickets.into_iter().map(ticket).collect(),
    }
}

pub(crate) fn wallet_ticket(w: wallet::WalletTicket) -> WalletTicket {
    WalletTicket {
        ticket: ticket(w.ticket),
        event: w.event.map(|e| EventSummary {
            id: e.id,
            title: e.title,
            venue: e.venue,
            city: e.city,
            starts_at_ms: ms(e.starts_at),
            ends_at_ms: ms(e.ends_at),
            time_zone: e.time_zone,
            status: e.status,
        }),
    }
}

pub(crate) fn operation(op: sdk::PendingOperation) -> PendingOperation {
    let kind = match op.kind {
        sdk::OperationKind::Hold => OperationKind::Hold,
        sdk::OperationKind::Checkout => OperationKind::Checkout,
        sdk::OperationKind::ReleaseHold => OperationKind::ReleaseHold,
        sdk::OperationKind::Refund => OperationKind::Refund,
    };
    let state = match op.state {
        sdk::OperationState::Pending => OperationState::Pending,
        sdk::OperationState::Succeeded => OperationState::Succeeded,
        sdk::OperationState::Failed => OperationState::Failed,
    };
    PendingOperation {
        id: op.id,
        kind,
        request_json: serde_json::to_string(&op.request).unwrap_or_default(),
        state,
        attempts: op.attempts,
        result_id: op.result_id,
        last_error: op.last_error.map(boundary),
        created_at_ms: ms(op.created_at),
    }
}

pub(crate) fn sync_report(r: SyncReport) -> SyncSummary {
    SyncSummary {
        catalog: catalog_sync(r.catalog),
        resumed: r.resumed.into_iter().map(operation).collect(),
        orders: count(r.wallet.orders),
        tickets: count(r.wallet.tickets),
    }
}

fn task(task: Task) -> TaskKind {
    match task {
        Task::Sync => TaskKind::Sync,
        Task::WalletSync => TaskKind::WalletSync,
        Task::ResumePending => TaskKind::ResumePending,
        Task::CatalogSync => TaskKind::CatalogSync,
        _ => TaskKind::Other,
    }
}

pub(crate) fn progress(p: Progress) -> TaskEvent {
    TaskEvent {
        task: task(p.task),
        done: wide(p.done),
        total: p.total.map(wide),
        outcome: None,
        error: None,
    }
}

pub(crate) fn finished(t: Task, outcome: Outcome) -> TaskEvent {
    let (outcome, error) = match outcome {
        Outcome::Completed => (TaskOutcome::Completed, None),
        Outcome::Cancelled => (TaskOutcome::Cancelled, None),
        Outcome::Failed(e) => (TaskOutcome::Failed, Some(boundary(e))),
    };
    TaskEvent {
        task: task(t),
        done: 0,
        total: None,
        outcome: Some(outcome),
        error,
    }
}

pub(crate) fn change(c: Change) -> ChangeEvent {
    let (kind, id) = match c {
        Change::Session => (ChangeKind::Session, None),
        Change::Wallet => (ChangeKind::Wallet, None),
        Change::Hold { id } => (ChangeKind::Hold, Some(id)),
        Change::Order { id } => (ChangeKind::Order, Some(id)),
        Change::Operations => (ChangeKind::Operations, None),
        Change::Catalog => (ChangeKind::Catalog, None),
        _ => (ChangeKind::Other, None),
    };
    ChangeEvent { kind, id }
}

pub(crate) fn order_frame(o: sdk::Order) -> OrderUpdate {
    OrderUpdate {
        order: Some(order(o)),
        phase: None,
        attempt: 0,
        error: None,
    }
}

pub(crate) fn live_state(state: LiveState) -> OrderUpdate {
    let phase = match state.phase {
        live::LivePhase::Connecting => LivePhase::Connecting,
        live::LivePhase::Live => LivePhase::Live,
        live::LivePhase::Reconnecting => LivePhase::Reconnecting,
        live::LivePhase::Ended => LivePhase::Ended,
    };
    OrderUpdate {
        order: None,
        phase: Some(phase),
        attempt: state.attempt,
        error: state.error.map(boundary),
    }
}
