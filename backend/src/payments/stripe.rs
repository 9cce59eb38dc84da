//! Stripe PaymentIntents over HTTPS: authorise with manual capture, capture, refund, cancel;
//! every request carries an `Idempotency-Key`. Webhook signatures (`Stripe-Signature`,
//! HMAC-SHA256 over `timestamp.payload`) are verified with a timestamp tolerance.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;

use super::{Authorization, PaymentError, PaymentProvider};

/// Talks to Stripe's API (or anything that speaks it, at `api_base`).
pub struct StripeProvider {
    http: reqwest::Client,
    api_base: String,
    secret_key: String,
}

/// Never shows the secret key.
impl std::fmt::Debug for StripeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeProvider")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl StripeProvider {
    /// A provider for `api_base` (`https://api.stripe.com`) with a secret key.
    pub fn new(api_base: &str, secret_key: &str) -> Result<StripeProvider, PaymentError> {
        // Binaries install ring as rustls' provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| PaymentError::Provider(format!("http client: {e}")))?;
        Ok(StripeProvider {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
        })
    }

    /// Sends one request; `Err` only when no answer came back (the outcome is unknown).
    async fn send(
        &self,
        path: &str,
        form: &[(&str, String)],
        key: &str,
    ) -> Result<(StatusCode, Value), PaymentError> {
        let response = self
            .http
            .post(format!("{}{path}", self.api_base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", key)
            .header("Stripe-Version", "2024-06-20")
            .form(form)
            .send()
            .await
            // Timed out, refused, reset: the request may or may not have been acted on.
            .map_err(|_| PaymentError::Timeout)?;
        let status = response.status();
        match response.json().await {
            Ok(body) => Ok((status, body)),
            Err(_) if status.is_success() => {
                Err(PaymentError::Provider("unreadable answer".into()))
            }
            // An error page from a proxy in front of the API: judged by its status alone.
            Err(_) => Ok((status, Value::Null)),
        }
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        key: &str,
    ) -> Result<Value, PaymentError> {
        let (status, body) = self.send(path, form, key).await?;
        judge(status, body)
    }
}

/// Sorts Stripe's answer: a success, a definitive refusal (`Declined`: repeating the call
/// gets the same answer, so the order can be closed and its stock returned), or an unknown
/// outcome (`Timeout`/`Provider`: retried a bounded number of times).
///
/// - `402` and every `card_error`: the card was refused;
/// - `408`, `409` (the same key is being processed), `429` and `5xx`: unknown, retry;
/// - `401`/`403`: our credentials are refused — nothing happened, but it is the operator's
///   to fix, so it is retried like an unknown outcome;
/// - every other `4xx` (`invalid_request_error`: bad or detached payment method, failed
///   authentication, an authorisation that expired or was voided, `resource_missing` on the
///   intent): definitive.
fn judge(status: StatusCode, body: Value) -> Result<Value, PaymentError> {
    if status.is_success() {
        return Ok(body);
    }
    let error = &body["error"];
    let code = error["decline_code"]
        .as_str()
        .or(error["code"].as_str())
        .unwrap_or("");
    if error["type"] == "card_error" || status == StatusCode::PAYMENT_REQUIRED {
        let code = if code.is_empty() {
            "card_declined"
        } else {
            code
        };
        return Err(PaymentError::Declined(code.replace('_', " ")));
    }
    match status.as_u16() {
        408 | 409 | 429 | 500..=599 => Err(PaymentError::Timeout),
        401 | 403 => Err(PaymentError::Provider(format!(
            "stripe refused our credentials ({status})"
        ))),
        400..=499 => Err(PaymentError::Declined(refusal_reason(code).into())),
        _ => Err(PaymentError::Provider(format!("stripe answered {status}"))),
    }
}

/// A reason for a definitive refusal that is safe to show the buyer.
fn refusal_reason(code: &str) -> &'static str {
    match code {
        "payment_intent_authentication_failure" => "the card's authentication failed",
        "charge_expired_for_capture" | "payment_intent_unexpected_state" => {
            "the payment authorisation expired or was voided"
        }
        "resource_missing" => "the payment method or payment is unknown to the provider",
        c if c.starts_with("payment_method") => "the payment method was refused",
        _ => "the payment provider refused the payment",
    }
}

/// The state of the intent an intent-level error concerns, when Stripe includes it.
fn intent_status(body: &Value) -> Option<&str> {
    body["error"]["payment_intent"]["status"].as_str()
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn authorize(&self, r: &Authorization) -> Result<String, PaymentError> {
        let form = [
            ("amount", r.amount_minor.to_string()),
            ("currency", r.currency.to_lowercase()),
            ("payment_method", r.payment_token.clone()),
            ("confirm", "true".into()),
            ("capture_method", "manual".into()),
            ("automatic_payment_methods[enabled]", "true".into()),
            ("automatic_payment_methods[allow_redirects]", "never".into()),
            ("metadata[order_id]", r.order_id.clone()),
        ];
        let intent = self
            .post("/v1/payment_intents", &form, &r.idempotency_key)
            .await?;
        match intent["status"].as_str() {
            Some("requires_capture" | "succeeded") => intent["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| PaymentError::Provider("intent without id".into())),
            Some("requires_action") => Err(PaymentError::RequiresAction),
            Some("requires_payment_method") => Err(PaymentError::Declined("card declined".into())),
            _ => Err(PaymentError::Provider("unexpected intent status".into())),
        }
    }

    async fn capture(&self, intent_id: &str, key: &str) -> Result<(), PaymentError> {
        let path = format!("/v1/payment_intents/{intent_id}/capture");
        let (status, body) = self.send(&path, &[], key).await?;
        // A capture repeated under a new key finds the intent captured: that is success.
        if !status.is_success() && intent_status(&body) == Some("succeeded") {
            return Ok(());
        }
        let intent = judge(status, body)?;
        match intent["status"].as_str() {
            Some("succeeded") => Ok(()),
            _ => Err(PaymentError::Provider("capture did not succeed".into())),
        }
    }

    async fn refund(
        &self,
        intent_id: &str,
        amount_minor: i64,
        key: &str,
    ) -> Result<(), PaymentError> {
        let form = [
            ("payment_intent", intent_id.to_owned()),
            ("amount", amount_minor.to_string()),
        ];
        self.post("/v1/refunds", &form, key).await.map(|_| ())
    }

    async fn cancel(&self, intent_id: &str, key: &str) -> Result<(), PaymentError> {
        let path = format!("/v1/payment_intents/{intent_id}/cancel");
        let (status, body) = self.send(&path, &[], key).await?;
        if !status.is_success() {
            match intent_status(&body) {
                Some("canceled") => return Ok(()),
                Some("succeeded") => return Err(PaymentError::Captured),
                _ => {}
            }
        }
        judge(status, body).map(|_| ())
    }
}

/// Why a webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The `Stripe-Signature` header is missing or malformed.
    #[error("malformed signature header")]
    Malformed,
    /// No `v1` signature matches.
    #[error("signature mismatch")]
    Mismatch,
    /// The timestamp is outside the tolerance (a replay or a skewed clock).
    #[error("timestamp outside tolerance")]
    Stale,
}

/// Verifies a `Stripe-Signature` header (`t=…,v1=…[,v1=…]`) for `payload`.
pub fn verify_webhook(
    payload: &[u8],
    header: &str,
    secret: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => {
                signatures.push(hex::decode(s).map_err(|_| WebhookError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::Malformed)?;
    if signatures.is_empty() {
        return Err(WebhookError::Malformed);
    }
    let matches = signatures.iter().any(|sig| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac.verify_slice(sig).is_ok()
    });
    if !matches {
        return Err(WebhookError::Mismatch);
    }
    if (now - timestamp).abs() > tolerance_secs {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

/// Signs a payload the way Stripe does (for tests and local tooling).
pub fn sign_webhook(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const PAYLOAD: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    #[test]
    fn answers_are_sorted_into_refusals_and_unknown_outcomes() {
        let judged = |status: u16, body: Value| {
            judge(StatusCode::from_u16(status).unwrap_or_default(), body).err()
        };
        let invalid =
            |code: &str| json!({ "error": { "type": "invalid_request_error", "code": code } });
        assert_eq!(judged(200, json!({ "id": "pi_1" })), None);
        assert_eq!(
            judged(
                402,
                json!({ "error": { "type": "card_error", "decline_code": "insufficient_funds" } })
            ),
            Some(PaymentError::Declined("insufficient funds".into()))
        );
        assert_eq!(
            judged(400, invalid("payment_method_unexpected_state")),
            Some(PaymentError::Declined(
                "the payment method was refused".into()
            ))
        );
        assert_eq!(
            judged(400, invalid("payment_intent_authentication_failure")),
            Some(PaymentError::Declined(
                "the card's authentication failed".into()
            ))
        );
        assert_eq!(
            judged(400, invalid("charge_expired_for_capture")),
            Some(PaymentError::Declined(
                "the payment authorisation expired or was voided".into()
            ))
        );
        assert_eq!(
            judged(404, invalid("resource_missing")),
            Some(PaymentError::Declined(
                "the payment method or payment is unknown to the provider".into()
            ))
        );
        for unknown in [408, 409, 429, 500, 502, 503] {
            assert_eq!(
                judged(unknown, json!({ "error": { "type": "api_error" } })),
                Some(PaymentError::Timeout),
                "{unknown}"
            );
        }
        assert_eq!(judged(503, Value::Null), Some(PaymentError::Timeout));
        assert!(matches!(
            judged(401, Value::Null),
            Some(PaymentError::Provider(_))
        ));
    }

    #[test]
    fn valid_signatures_verify() {
        let header = sign_webhook(PAYLOAD, SECRET, 1_800_000_000);
        assert_eq!(
            verify_webhook(PAYLOAD, &header, SECRET, 1_800_000_100, 300),
            Ok(())
        );
        // Several v1 entries (secret rotation): one match is enough.
        let rotated = format!("{header},v1={}", "00".repeat(32));
        assert_eq!(
            verify_webhook(PAYLOAD, &rotated, SECRET, 1_800_000_000, 300),
            Ok(())
        );
    }

    #[test]
    fn tampered_stale_and_malformed_signatures_fail() {
        let header = sign_webhook(PAYLOAD, SECRET, 1_800_000_000);
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeeded" }"#;
        assert_eq!(
            verify_webhook(tampered, &header, SECRET, 1_800_000_000, 300),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify_webhook(PAYLOAD, &header, "other", 1_800_000_000, 300),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            verify_webhook(PAYLOAD, &header, SECRET, 1_800_000_301, 300),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            verify_webhook(PAYLOAD, "t=1,v1=zz", SECRET, 1, 300),
            Err(WebhookError::Malformed)
        );
        assert_eq!(
            verify_webhook(PAYLOAD, "v1=00", SECRET, 1, 300),
            Err(WebhookError::Malformed)
        );
        assert_eq!(
            verify_webhook(PAYLOAD, "", SECRET, 1, 300),
            Err(WebhookError::Malformed)
        );
    }
}
