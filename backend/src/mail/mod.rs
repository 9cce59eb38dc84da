//! E-mail to buyers: the SMTP transport (lettre over rustls with ring), the templates
//! ([`template`]) and the messages built from them. What to send and when is the outbox
//! worker's business ([`crate::notify`]).
//!
//! A message has a plain-text part and an HTML part; the order confirmation's HTML shows
//! each ticket's QR code as an inline PNG (`multipart/related`, referenced by `cid:`), so
//! it displays without loading anything remote. Its `Message-ID` is derived from the
//! notification and the recipient, so every attempt to send the same e-mail carries the
//! same id and a receiving system can drop a duplicate.

pub mod qr;
pub mod template;

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use template::{Escape, Kind, Language, Templates, Values};

/// How long one SMTP exchange may take (connection, greeting, message).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the mailer could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// `GUICHET_SMTP_URL` is not a usable SMTP URL.
    #[error("GUICHET_SMTP_URL: {0}")]
    Url(String),
    /// `GUICHET_MAIL_FROM` is not an address.
    #[error("GUICHET_MAIL_FROM: {0}")]
    From(String),
    /// A template was refused.
    #[error(transparent)]
    Template(#[from] template::TemplateError),
}

/// Why one message was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Worth another attempt later: no connection, a timeout, a 4xx answer.
    #[error("transient: {0}")]
    Transient(String),
    /// Refused for good (a 5xx answer, an address that cannot be written): a dead letter.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// One e-mail ready to send.
#[derive(Debug, Clone)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The recipient's name, shown beside the address.
    pub to_name: String,
    /// `<…@domain>`, see [`message_id`].
    pub message_id: String,
    /// Subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Inline PNG images: (Content-ID without brackets, bytes).
    pub images: Vec<(String, Vec<u8>)>,
}

/// The `Message-ID` of `notification` for `recipient`: the same for every attempt.
pub fn message_id(notification: &str, recipient: &str, domain: &str) -> String {
    format!("<{notification}.{recipient}@{domain}>")
}

/// Sends e-mail through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    templates: Templates,
}

/// Never shows the SMTP URL (it may hold a password).
impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `smtp_url` (`smtp://`, `smtps://`; lettre's URL syntax), sending as
    /// `from`, with `templates`.
    pub fn new(smtp_url: &str, from: &str, templates: Templates) -> Result<Mailer, MailError> {
        // Binaries install ring as rustls' provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let domain = from.email.domain().to_owned();
        Ok(Mailer {
            transport,
            from,
            domain,
            templates,
        })
    }

    /// The domain every `Message-ID` ends with (the sender's).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The templates.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Builds the MIME message: `multipart/alternative` of the plain text and a
    /// `multipart/related` holding the HTML and its inline images.
    pub fn build(&self, email: &Email) -> Result<Message, SendError> {
        let to = Mailbox::new(
            Some(email.to_name.clone()),
            email
                .to
                .parse()
                .map_err(|e: lettre::address::AddressError| SendError::Permanent(e.to_string()))?,
        );
        let mut related = MultiPart::related().singlepart(SinglePart::html(email.html.clone()));
        for (cid, png) in &email.images {
            related = related.singlepart(Attachment::new_inline(cid.clone()).body(
                png.clone(),
                ContentType::parse("image/png").map_err(|e| SendError::Permanent(e.to_string()))?,
            ));
        }
        let body = MultiPart::alternative()
            .singlepart(SinglePart::plain(email.text.clone()))
            .multipart(related);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.replace(['\r', '\n'], " "))
            .message_id(Some(email.message_id.clone()))
            .multipart(body)
            .map_err(|e| SendError::Permanent(e.to_string()))
    }

    /// Hands `email` to the SMTP server.
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let message = self.build(email)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is the test failing.
mod tests {
    use super::*;

    fn mailer() -> Mailer {
        Mailer::new(
            "smtp://127.0.0.1:2525",
            "Guichet <tickets@example.org>",
            Templates::load(None).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn message_id_depends_on_notification_and_recipient_only() {
        let m = mailer();
        assert_eq!(m.domain(), "example.org");
        let a = message_id("n1", "u1", m.domain());
        assert_eq!(a, "<n1.u1@example.org>");
        assert_eq!(a, message_id("n1", "u1", m.domain()));
        assert_ne!(a, message_id("n1", "u2", m.domain()));
        assert_ne!(a, message_id("n2", "u1", m.domain()));
    }

    #[test]
    fn the_message_has_both_parts_the_inline_image_and_the_stable_id() {
        let email = Email {
            to: "buyer@example.org".into(),
            to_name: "Buyer".into(),
            message_id: "<n1.u1@example.org>".into(),
            subject: "Your tickets\r\nBcc: x@example.org".into(),
            text: "plain".into(),
            html: "<img src=\"cid:qr1\">".into(),
            images: vec![("qr1".into(), qr::png("ABC", 2).unwrap())],
        };
        let raw = String::from_utf8(mailer().build(&email).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <n1.u1@example.org>"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("multipart/related"), "{raw}");
        assert!(raw.contains("Content-ID: <qr1>"), "{raw}");
        assert!(raw.contains("Content-Type: image/png"), "{raw}");
        // A line break in a subject cannot smuggle a header in.
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
    }

    #[test]
    fn bad_settings_are_refused() {
        let t = Templates::load(None).unwrap();
        assert!(matches!(
            Mailer::new("http://x", "a@example.org", t.clone()),
            Err(MailError::Url(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1", "not an address", t),
            Err(MailError::From(_))
        ));
    }
}
