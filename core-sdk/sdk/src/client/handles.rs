//! The client's sub-handles: one small type per area, so a host (and a binding) sees a
//! handful of methods at a time instead of one type with fifty.
//!
//! Each handle is a clone of the [`Client`] (cheap: it shares the store, session and
//! transport), so it can be kept, moved to another thread or handed to a binding object.

use crate::Client;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $accessor:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub(crate) client: Client,
        }

        impl Client {
            #[doc = concat!("The [`", stringify!($name), "`] handle of this client.")]
            pub fn $accessor(&self) -> $name {
                $name {
                    client: self.clone(),
                }
            }
        }
    };
}

handle!(
    /// The catalog cached offline: sync, search, one event; and live availability.
    Catalog,
    catalog
);
handle!(
    /// Holds, checkout, release, refund and the queue of operations still waiting for an answer.
    Booking,
    booking
);
handle!(
    /// The account's orders and tickets offline, with their QR codes.
    Wallet,
    wallet
);
handle!(
    /// The organizer's events, ticket types, sales and attendees.
    Organizer,
    organizer
);
handle!(
    /// The organizer's doors: check-in lists, scanner pairing and devices, duplicate alerts.
    CheckIn,
    check_in
);
