//! The one error the app sees: the SDK's flat `{kind, message}`.

/// What went wrong, from the SDK's closed set (`guichet_sdk::ErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such thing.
    NotFound,
    /// The request is malformed or breaks a rule; nothing was done.
    InvalidInput,
    /// Not enough inventory.
    SoldOut,
    /// The hold expired before checkout.
    HoldExpired,
    /// The payment provider refused.
    PaymentDeclined,
    /// Too many requests.
    RateLimited,
    /// The request conflicts with the current state.
    Conflict,
    /// The server's fault, or an SDK failure with no better kind.
    Internal,
    /// A revoked scanner (not used by the attendee app).
    DeviceRevoked,
    /// No answer from the server (offline, timeout, broken connection).
    Network,
    /// The session ended on the server; sign in again.
    SessionExpired,
    /// The operation needs a signed-in account.
    NotSignedIn,
    /// The local store or the data directory failed.
    Storage,
    /// The server answered something the SDK cannot read.
    Protocol,
    /// An unpaired scanner (not used by the attendee app).
    NotPaired,
    /// A server code the SDK does not know.
    Unknown,
}

/// The SDK's `BoundaryError`: a kind to branch on, a message safe to show. Thrown in Dart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// A human message, safe to show.
    pub message: String,
}
