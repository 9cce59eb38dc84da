//! Payment providers. Card data never reaches Guichet: clients tokenise cards with the
//! provider and hand us the token; we only ever see intent ids and amounts.
//!
//! Every call carries an idempotency key derived from the order and the step, so a retry
//! after a timeout or a crash can never charge twice: the provider answers a repeated key
//! with the first result.

pub mod stripe;
pub mod test_provider;

use async_trait::async_trait;

/// Why a provider call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    /// The card was refused (the reason is safe to show).
    #[error("payment declined: {0}")]
    Declined(String),
    /// The customer must complete a step (3-D Secure) before the payment can go through.
    #[error("the payment requires customer action")]
    RequiresAction,
    /// No answer in time: the outcome is unknown, retry with the same idempotency key.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The provider failed or answered something we do not understand.
    #[error("payment provider error: {0}")]
    Provider(String),
    /// A cancellation came too late: the intent was captured already (money was taken).
    #[error("the payment was captured already")]
    Captured,
}

impl PaymentError {
    /// Whether the outcome is unknown and the same call should be retried later (a bounded
    /// number of times: see `checkout::MAX_UNKNOWN_OUTCOMES`). Everything else is a
    /// definitive answer: repeating the call would get the same one.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PaymentError::Timeout | PaymentError::Provider(_))
    }
}

/// An authorisation request.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// The provider's token for the card (never a card number).
    pub payment_token: String,
    /// Idempotency key for this step.
    pub idempotency_key: String,
    /// Our order id, for the provider's metadata and reconciliation.
    pub order_id: String,
}

/// A payment provider: authorise, capture, refund.
#[async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// The provider's name as used in routes and storage (`test`, `stripe`).
    fn name(&self) -> &'static str;

    /// Authorises the amount on the card; returns the provider's intent id.
    async fn authorize(&self, request: &Authorization) -> Result<String, PaymentError>;

    /// Captures an authorised intent in full.
    async fn capture(&self, intent_id: &str, idempotency_key: &str) -> Result<(), PaymentError>;

    /// Refunds `amount_minor` of a captured intent.
    async fn refund(
        &self,
        intent_id: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<(), PaymentError>;

    /// Releases an authorisation that will not be captured. Cancelling an intent that is
    /// cancelled already succeeds; one that was captured answers [`PaymentError::Captured`].
    async fn cancel(&self, intent_id: &str, idempotency_key: &str) -> Result<(), PaymentError>;
}
