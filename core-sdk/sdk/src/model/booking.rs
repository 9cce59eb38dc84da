//! Booking's records: hold lines, holds, orders, tickets and their statuses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One line of a hold request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HoldLine {
    /// The ticket type.
    pub ticket_type_id: String,
    /// How many, 1 to the type's `max_per_order`.
    pub quantity: i64,
}

/// Where a hold is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Stock reserved until `expires_at`.
    Active,
    /// Given back by the buyer.
    Released,
    /// Timed out; its stock went back on sale.
    Expired,
    /// Being paid for.
    CheckingOut,
    /// Turned into an order.
    Converted,
}

impl HoldStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Active => "active",
            HoldStatus::Released => "released",
            HoldStatus::Expired => "expired",
            HoldStatus::CheckingOut => "checking_out",
            HoldStatus::Converted => "converted",
        }
    }

    pub(crate) fn parse(text: &str) -> HoldStatus {
        match text {
            "released" => HoldStatus::Released,
            "expired" => HoldStatus::Expired,
            "checking_out" => HoldStatus::CheckingOut,
            "converted" => HoldStatus::Converted,
            _ => HoldStatus::Active,
        }
    }
}

/// A line of a hold, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HoldItem {
    /// The ticket type.
    pub ticket_type_id: String,
    /// Tickets held.
    pub quantity: i64,
    /// Price of one, in minor units.
    pub unit_price_minor: i64,
}

/// Reserved tickets, with their countdown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Hold {
    /// Stable id.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// Status when last heard from the server.
    pub status: HoldStatus,
    /// Sum of the lines, in minor units.
    pub total_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When the reservation lapses, on this device's clock: the server's countdown at
    /// receipt added to the local time, so a device whose clock is off still counts down
    /// right.
    pub expires_at: DateTime<Utc>,
    /// The lines.
    pub items: Vec<HoldItem>,
}

impl Hold {
    /// Time left before the hold lapses at `now` (zero once past or no longer active).
    pub fn remaining_at(&self, now: DateTime<Utc>) -> std::time::Duration {
        if self.status != HoldStatus::Active {
            return std::time::Duration::ZERO;
        }
        (self.expires_at - now).to_std().unwrap_or_default()
    }

    /// Time left now, for a countdown.
    pub fn remaining(&self) -> std::time::Duration {
        self.remaining_at(Utc::now())
    }

    /// Whether the hold still reserves stock (active and not lapsed) at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.status == HoldStatus::Active && self.expires_at > now
    }
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Payment or issuance in progress; it finishes by itself (sync to see).
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

impl OrderStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Processing => "processing",
            OrderStatus::Completed => "completed",
            OrderStatus::Declined => "declined",
            OrderStatus::RefundPending => "refund_pending",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub(crate) fn parse(text: &str) -> OrderStatus {
        match text {
            "completed" => OrderStatus::Completed,
            "declined" => OrderStatus::Declined,
            "refund_pending" => OrderStatus::RefundPending,
            "refunded" => OrderStatus::Refunded,
            _ => OrderStatus::Processing,
        }
    }
}

/// Whether a ticket gets its holder in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Valid.
    Valid,
    /// Refunded or cancelled: doors reject it after their next sync.
    Revoked,
}

impl TicketStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Valid => "valid",
            TicketStatus::Revoked => "revoked",
        }
    }

    pub(crate) fn parse(text: &str) -> TicketStatus {
        if text == "revoked" {
            TicketStatus::Revoked
        } else {
            TicketStatus::Valid
        }
    }
}

/// An issued ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    /// The signed credential (base45), what the QR code encodes.
    pub credential: String,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
}

impl Ticket {
    /// The credential as a QR code (render with `to_svg` or `to_png`).
    pub fn qr(&self) -> Result<crate::qr::TicketQr, crate::Error> {
        crate::qr::TicketQr::new(&self.credential)
    }
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    /// Placed at.
    pub created_at: DateTime<Utc>,
    /// Issued tickets.
    pub tickets: Vec<Ticket>,
}
