//! Booking: holds with a countdown, checkout, release and refund, each a persisted
//! operation carrying an idempotency key (see [`operations`]).

pub(crate) mod convert;
pub mod operations;

pub use crate::client::Booking;
pub use operations::{OperationKind, OperationState, PendingOperation};

pub use crate::model::booking::{
    Hold, HoldItem, HoldLine, HoldStatus, Order, OrderStatus, Ticket, TicketStatus,
};
