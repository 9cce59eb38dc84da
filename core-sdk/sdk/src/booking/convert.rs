//! From the generated response types (one set per operation) to the SDK's types.

use chrono::Utc;

use super::{Hold, HoldItem, HoldStatus};

/// A hold from a `HoldFields` fragment of any operation module.
macro_rules! hold_from {
    ($module:ident, $fields:expr) => {{
        let f = $fields;
        let status = match f.status {
            $module::HoldStatus::ACTIVE => $crate::booking::HoldStatus::Active,
            $module::HoldStatus::RELEASED => $crate::booking::HoldStatus::Released,
            $module::HoldStatus::EXPIRED => $crate::booking::HoldStatus::Expired,
            $module::HoldStatus::CHECKING_OUT => $crate::booking::HoldStatus::CheckingOut,
            $module::HoldStatus::CONVERTED => $crate::booking::HoldStatus::Converted,
            $module::HoldStatus::Other(_) => $crate::booking::HoldStatus::Active,
        };
        $crate::booking::convert::hold(
            f.id,
            f.event_id,
            status,
            f.total_minor,
            f.currency,
            f.seconds_left,
            f.items
                .into_iter()
                .map(|i| $crate::booking::HoldItem {
                    ticket_type_id: i.ticket_type_id,
                    quantity: i.quantity,
                    unit_price_minor: i.unit_price_minor,
                })
                .collect(),
        )
    }};
}
pub(crate) use hold_from;

/// A ticket from any operation's ticket selection.
macro_rules! ticket_from {
    ($module:ident, $t:expr) => {{
        let t = $t;
        $crate::booking::Ticket {
            id: t.id,
            order_id: t.order_id,
            event_id: t.event_id,
            ticket_type_id: t.ticket_type_id,
            price_minor: t.price_minor,
            status: match t.status {
                $module::TicketStatus::REVOKED => $crate::booking::TicketStatus::Revoked,
                _ => $crate::booking::TicketStatus::Valid,
            },
            credential: t.credential,
            issued_at: t.issued_at,
        }
    }};
}
pub(crate) use ticket_from;

/// An order from an `OrderFields` fragment of any operation module.
macro_rules! order_from {
    ($module:ident, $fields:expr) => {{
        let f = $fields;
        $crate::booking::Order {
            id: f.id,
            event_id: f.event_id,
            status: match f.status {
                $module::OrderStatus::COMPLETED => $crate::booking::OrderStatus::Completed,
                $module::OrderStatus::DECLINED => $crate::booking::OrderStatus::Declined,
                $module::OrderStatus::REFUND_PENDING => $crate::booking::OrderStatus::RefundPending,
                $module::OrderStatus::REFUNDED => $crate::booking::OrderStatus::Refunded,
                _ => $crate::booking::OrderStatus::Processing,
            },
            total_minor: f.total_minor,
            refunded_minor: f.refunded_minor,
            currency: f.currency,
            failure: f.failure,
            created_at: f.created_at,
            tickets: f
                .tickets
                .into_iter()
                .map(|t| $crate::booking::convert::ticket_from!($module, t))
                .collect(),
        }
    }};
}
pub(crate) use order_from;

/// A hold whose expiry is placed on the local clock from the server's countdown.
pub(crate) fn hold(
    id: String,
    event_id: String,
    status: HoldStatus,
    total_minor: i64,
    currency: String,
    seconds_left: i64,
    items: Vec<HoldItem>,
) -> Hold {
    Hold {
        id,
        event_id,
        status,
        total_minor,
        currency,
        expires_at: Utc::now() + chrono::Duration::seconds(seconds_left.max(0)),
        items,
    }
}
