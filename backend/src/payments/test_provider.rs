//! The `test` provider: deterministic outcomes by card token, for demos and tests. It keeps a
//! ledger of what it did (authorised, captured, refunded amounts per intent), so tests can
//! check that money and tickets agree. Repeated idempotency keys return the first result, as
//! real providers do.
//!
//! Tokens: `tok_visa` (success), `tok_declined`, `tok_insufficient_funds`,
//! `tok_requires_action`, `tok_timeout` (authorisation outcome unknown; it did authorise),
//! `tok_capture_timeout` (capture done but the answer lost once).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Authorization, PaymentError, PaymentProvider};

/// What the provider holds for one intent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Charge {
    /// Our order id.
    pub order_id: String,
    /// Authorised amount.
    pub amount_minor: i64,
    /// Captured amount.
    pub captured_minor: i64,
    /// Refunded amount.
    pub refunded_minor: i64,
    /// Authorisation released without capture.
    pub cancelled: bool,
}

#[derive(Debug, Default)]
struct Ledger {
    charges: HashMap<String, Charge>,
    tokens: HashMap<String, String>,
    answers: HashMap<String, Result<String, PaymentError>>,
    lost_capture_answers: HashMap<String, u32>,
    fail_next_captures: u32,
}

/// The deterministic provider.
#[derive(Debug, Default)]
pub struct TestProvider {
    ledger: Mutex<Ledger>,
}

impl TestProvider {
    /// A provider with an empty ledger.
    pub fn new() -> TestProvider {
        TestProvider::default()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        match self.ledger.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Every intent and its amounts.
    pub fn charges(&self) -> HashMap<String, Charge> {
        self.ledger().charges.clone()
    }

    /// Makes the next `n` capture calls time out before capturing (fault injection).
    pub fn fail_next_captures(&self, n: u32) {
        self.ledger().fail_next_captures = n;
    }

    fn remember(
        &self,
        key: &str,
        answer: Result<String, PaymentError>,
    ) -> Result<String, PaymentError> {
        self.ledger().answers.insert(key.to_owned(), answer.clone());
        answer
    }
}

#[async_trait]
impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn authorize(&self, r: &Authorization) -> Result<String, PaymentError> {
        // Bind the answer first: the ledger lock must be released before it is taken again.
        let previous = self.ledger().answers.get(&r.idempotency_key).cloned();
        if let Some(answer) = previous {
            return match answer {
                // A timed-out authorisation did happen: the retry learns the intent.
                Err(PaymentError::Timeout) => self
                    .ledger()
                    .tokens
                    .get(&r.idempotency_key)
                    .cloned()
                    .ok_or(PaymentError::Timeout),
                other => other,
            };
        }
        let intent = format!("pi_test_{}", uuid::Uuid::new_v4().simple());
        let outcome = match r.payment_token.as_str() {
            "tok_visa" | "tok_capture_timeout" | "tok_timeout" => Ok(intent.clone()),
            "tok_declined" => Err(PaymentError::Declined("card declined".into())),
            "tok_insufficient_funds" => Err(PaymentError::Declined("insufficient funds".into())),
            "tok_requires_action" => Err(PaymentError::RequiresAction),
            _ => Err(PaymentError::Declined("unknown test card token".into())),
        };
        if outcome.is_ok() {
            let mut ledger = self.ledger();
            ledger.charges.insert(
                intent.clone(),
                Charge {
                    order_id: r.order_id.clone(),
                    amount_minor: r.amount_minor,
                    ..Charge::default()
                },
            );
            ledger
                .tokens
                .insert(r.idempotency_key.clone(), intent.clone());
            if r.payment_token == "tok_capture_timeout" {
                ledger.lost_capture_answers.insert(intent.clone(), 1);
            }
        }
        if r.payment_token == "tok_timeout" {
            return self.remember(&r.idempotency_key, Err(PaymentError::Timeout));
        }
        self.remember(&r.idempotency_key, outcome)
    }

    async fn capture(&self, intent_id: &str, key: &str) -> Result<(), PaymentError> {
        let mut ledger = self.ledger();
        if ledger.fail_next_captures > 0 {
            ledger.fail_next_captures -= 1;
            return Err(PaymentError::Timeout);
        }
        let Some(charge) = ledger.charges.get_mut(intent_id) else {
            return Err(PaymentError::Provider("no such intent".into()));
        };
        if charge.cancelled {
            return Err(PaymentError::Provider("intent was cancelled".into()));
        }
        charge.captured_minor = charge.amount_minor;
        let _ = key;
        if let Some(lost) = ledger
            .lost_capture_answers
            .get_mut(intent_id)
            .filter(|n| **n > 0)
        {
            *lost -= 1;
            return Err(PaymentError::Timeout);
        }
        Ok(())
    }

    async fn refund(
        &self,
        intent_id: &str,
        amount_minor: i64,
        key: &str,
    ) -> Result<(), PaymentError> {
        let mut ledger = self.ledger();
        if ledger.answers.contains_key(key) {
            return Ok(());
        }
        let Some(charge) = ledger.charges.get_mut(intent_id) else {
            return Err(PaymentError::Provider("no such intent".into()));
        };
        if charge.refunded_minor + amount_minor > charge.captured_minor {
            return Err(PaymentError::Provider(
                "refund exceeds the captured amount".into(),
            ));
        }
        charge.refunded_minor += amount_minor;
        ledger.answers.insert(key.to_owned(), Ok(String::new()));
        Ok(())
    }

    async fn cancel(&self, intent_id: &str, _key: &str) -> Result<(), PaymentError> {
        let mut ledger = self.ledger();
        let Some(charge) = ledger.charges.get_mut(intent_id) else {
            return Err(PaymentError::Provider("no such intent".into()));
        };
        if charge.captured_minor > 0 {
            return Err(PaymentError::Captured);
        }
        charge.cancelled = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(token: &str, key: &str) -> Authorization {
        Authorization {
            amount_minor: 5000,
            currency: "EUR".into(),
            payment_token: token.into(),
            idempotency_key: key.into(),
            order_id: "o1".into(),
        }
    }

    #[tokio::test]
    async fn outcomes_follow_the_token_and_keys_are_idempotent() {
        let p = TestProvider::new();
        let a = p.authorize(&auth("tok_visa", "k1")).await;
        let b = p.authorize(&auth("tok_visa", "k1")).await;
        assert!(a.is_ok());
        assert_eq!(a, b, "same key, same intent");
        assert_eq!(p.charges().len(), 1);
        assert!(matches!(
            p.authorize(&auth("tok_declined", "k2")).await,
            Err(PaymentError::Declined(_))
        ));
        assert_eq!(
            p.authorize(&auth("tok_requires_action", "k3")).await,
            Err(PaymentError::RequiresAction)
        );
        assert_eq!(
            p.authorize(&auth("tok_timeout", "k4")).await,
            Err(PaymentError::Timeout)
        );
        assert!(
            p.authorize(&auth("tok_timeout", "k4")).await.is_ok(),
            "the retry finds the intent"
        );
    }

    #[tokio::test]
    async fn captures_and_refunds_are_bounded() {
        let p = TestProvider::new();
        let intent = p
            .authorize(&auth("tok_capture_timeout", "k1"))
            .await
            .unwrap_or_default();
        assert_eq!(
            p.capture(&intent, "c1").await,
            Err(PaymentError::Timeout),
            "answer lost"
        );
        assert_eq!(
            p.charges()[&intent].captured_minor,
            5000,
            "but the capture happened"
        );
        assert_eq!(p.capture(&intent, "c1").await, Ok(()));
        assert_eq!(p.refund(&intent, 3000, "r1").await, Ok(()));
        assert_eq!(
            p.refund(&intent, 3000, "r1").await,
            Ok(()),
            "replayed refund"
        );
        assert_eq!(
            p.refund(&intent, 3000, "r2").await,
            Err(PaymentError::Provider(
                "refund exceeds the captured amount".into()
            )),
            "more than captured"
        );
        assert_eq!(p.charges()[&intent].refunded_minor, 3000);
    }
}
