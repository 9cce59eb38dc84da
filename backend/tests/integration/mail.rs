//! E-mail to buyers, against a real SMTP server: `backend/tests/smtp_sink.py` (aiosmtpd)
//! started by the test on a free loopback port, writing each message it accepts to a
//! directory as raw RFC 5322 text, which the test parses with mail-parser.
//!
//! The sink needs Python with aiosmtpd: `GUICHET_TEST_PYTHON` (set by `.ci/run`, which
//! creates the virtualenv), else `python3` if it imports aiosmtpd. Without either, the tests
//! fail and say how to install it. The QR codes are decoded by `zbarimg` (zbar-tools).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use guichet_server::mail::{Mailer, Templates};
use guichet_server::notify::{MailRound, mail_due};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;

use crate::checkout::{CHECKOUT, hold, on_sale};
use crate::support::{TestApp, on_both, str_of};

on_both!(
    confirmation_carries_each_ticket_as_a_qr_code_that_zbarimg_reads,
    an_smtp_server_down_then_back_gets_each_message_once_per_recipient,
    an_arabic_buyer_gets_right_to_left_mail_and_a_french_one_french,
    a_message_that_keeps_failing_becomes_a_dead_letter_in_metrics,
    a_recipient_refused_for_good_is_a_dead_letter_at_once,
    notifications_older_than_a_week_are_not_mailed,
);

const FROM: &str = "Guichet <tickets@guichet.example>";

/// The Python that runs the sink.
fn python() -> String {
    let install = "the e-mail tests need Python with aiosmtpd: run `bash .ci/run` (it creates \
                   $HOME/.cache/guichet-venv), or `python3 -m venv ~/.cache/guichet-venv && \
                   ~/.cache/guichet-venv/bin/pip install aiosmtpd==1.4.6` and set \
                   GUICHET_TEST_PYTHON=$HOME/.cache/guichet-venv/bin/python";
    let candidates: Vec<String> = match std::env::var("GUICHET_TEST_PYTHON") {
        Ok(p) if !p.trim().is_empty() => vec![p],
        _ => vec!["python3".into()],
    };
    for candidate in candidates {
        let works = Command::new(&candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            return candidate;
        }
    }
    panic!("{install}");
}

/// The SMTP sink: a child process that can be stopped and started again on its port.
struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Sink {
    /// Reserves a free port and starts the sink on it.
    fn start() -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("free port: {e}"));
        let mut sink = Sink {
            port,
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            child: None,
        };
        sink.up();
        sink
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    fn up(&mut self) {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(&script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("sink: {e}"));
        assert_eq!(
            line.trim(),
            format!("READY {}", self.port),
            "the sink did not start"
        );
        self.child = Some(child);
    }

    /// Stops the server: connections are refused until [`Sink::up`].
    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The port refuses connections now.
        assert!(std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err());
    }

    /// Every message received so far, parsed, in arrival order.
    fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| Received::parse(p)).collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Received {
    message_id: String,
    to: String,
    subject: String,
    text: String,
    html: String,
    /// Inline images: (Content-ID, content type, decoded bytes).
    images: Vec<(String, String, Vec<u8>)>,
}

impl Received {
    fn parse(path: &Path) -> Received {
        let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{e}"));
        let m = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("unparsable message {}", path.display()));
        let images = m
            .attachments()
            .map(|part| {
                let ct = part
                    .content_type()
                    .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                    .unwrap_or_default();
                (
                    part.content_id().unwrap_or_default().to_owned(),
                    ct,
                    part.contents().to_vec(),
                )
            })
            .collect();
        Received {
            message_id: m.message_id().unwrap_or_default().to_owned(),
            to: m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            images,
        }
    }
}

fn mailer(sink: &Sink) -> Mailer {
    let templates = Templates::load(None).unwrap_or_else(|e| panic!("{e}"));
    Mailer::new(&sink.url(), FROM, templates).unwrap_or_else(|e| panic!("{e}"))
}

async fn round(app: &TestApp, mailer: &Mailer, now: i64) -> MailRound {
    mail_due(&app.state, mailer, now)
        .await
        .unwrap_or_else(|e| panic!("mail round: {e:?}"))
}

/// Signs up a buyer with an optional language; returns (token, user id).
async fn buyer(app: &TestApp, email: &str, language: Option<&str>) -> (String, String) {
    let mut input = json!({ "email": email, "password": "a long enough password",
                            "displayName": "Camille Martin", "role": "ATTENDEE" });
    if let Some(language) = language {
        input["language"] = json!(language);
    }
    let data = app
        .ok(
            None,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id language } } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(
        data["signUp"]["user"]["language"],
        language.map_or(json!(null), |l| json!(l))
    );
    (
        str_of(&data["signUp"]["accessToken"]),
        str_of(&data["signUp"]["user"]["id"]),
    )
}

/// Holds `quantity` tickets and checks out; returns the order id.
async fn buy(
    app: &TestApp,
    token: &str,
    event: &str,
    tt: &str,
    quantity: i64,
    key: &str,
) -> String {
    let h = hold(app, token, event, tt, quantity, &format!("hold-mail-{key}")).await;
    let order = app
        .ok(
            Some(token),
            CHECKOUT,
            json!({ "h": h, "t": "tok_visa", "k": format!("checkout-mail-{key}") }),
        )
        .await;
    assert_eq!(order["checkout"]["status"], "COMPLETED");
    str_of(&order["checkout"]["id"])
}

/// (outbox id, recipient id, status, attempts) of every delivery.
async fn deliveries(app: &TestApp) -> Vec<(String, String, String, i64, String)> {
    guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as(
            "SELECT d.notification_id, d.recipient_id, d.status, d.attempts, o.topic \
             FROM mail_deliveries d JOIN outbox o ON o.id = d.notification_id \
             ORDER BY d.notification_id, d.recipient_id",
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

async fn metrics(app: &TestApp) -> (axum::http::StatusCode, String) {
    let req = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, text) = app.send(req).await;
    (status, text)
}

fn zbar(png: &[u8]) -> String {
    let file = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(file.path(), png).unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("zbarimg is required (apt-get install -y zbar-tools; .ci/run installs it): {e}")
        });
    assert!(output.status.success(), "zbarimg failed: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{e}"));
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

async fn confirmation_carries_each_ticket_as_a_qr_code_that_zbarimg_reads(app: TestApp) {
    let sink = Sink::start();
    let mailer = mailer(&sink);
    let org = app.organizer("mail-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 2500).await;
    let (token, user) = buyer(&app, "qr-buyer@example.org", None).await;
    let order = buy(&app, &token, &event, &tt, 2, "qr").await;
    let now = guichet_server::db::now();

    let first = round(&app, &mailer, now).await;
    assert_eq!(
        first,
        MailRound {
            listed: 1,
            sent: 1,
            retried: 0,
            dead: 0
        }
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    let (notification, _, status, attempts, topic) = deliveries(&app).await.remove(0);
    assert_eq!(
        (status.as_str(), attempts, topic.as_str()),
        ("sent", 1, "order.completed")
    );
    assert_eq!(
        m.message_id,
        format!("{notification}.{user}@guichet.example")
    );
    assert_eq!(m.to, "qr-buyer@example.org");
    assert_eq!(m.subject, "Your tickets for Checkout");
    assert!(m.text.contains("Hello Camille Martin"), "{}", m.text);
    assert!(m.text.contains(&order), "{}", m.text);
    assert!(m.text.contains("50.00 EUR"), "{}", m.text);
    assert!(m.html.contains("lang=\"en\" dir=\"ltr\""), "{}", m.html);

    let tickets = app
        .db()
        .tickets_of_order(&order)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tickets.len(), 2);
    let credentials: BTreeSet<String> = tickets.iter().map(|t| t.credential.clone()).collect();
    assert_eq!(m.images.len(), 2, "one inline image per ticket");
    let mut decoded = BTreeSet::new();
    for (cid, content_type, png) in &m.images {
        assert_eq!(content_type, "image/png");
        assert!(
            m.html.contains(&format!("src=\"cid:{cid}\"")),
            "the HTML shows image {cid}: {}",
            m.html
        );
        decoded.insert(zbar(png));
    }
    assert_eq!(
        decoded, credentials,
        "each QR code decodes to its ticket's credential"
    );
    for credential in &credentials {
        assert!(
            m.text.contains(credential.as_str()),
            "the plain part lists {credential}"
        );
    }

    // Sent is final: later rounds send nothing more.
    let later = round(&app, &mailer, now + 7200).await;
    assert_eq!(later, MailRound::default());
    assert_eq!(sink.messages().len(), 1);
}

async fn an_smtp_server_down_then_back_gets_each_message_once_per_recipient(app: TestApp) {
    let mut sink = Sink::start();
    let mailer = mailer(&sink);
    let org = app.organizer("down-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1000).await;
    let (ann, ann_id) = buyer(&app, "ann@example.org", None).await;
    let (bob, bob_id) = buyer(&app, "bob@example.org", Some("FR")).await;
    buy(&app, &ann, &event, &tt, 1, "ann").await;
    buy(&app, &bob, &event, &tt, 2, "bob").await;
    let now = guichet_server::db::now();
    assert_eq!(
        round(&app, &mailer, now).await.sent,
        2,
        "both confirmations"
    );

    // The server goes away; meanwhile the venue changes and the event is called off (which
    // refunds both orders): three more messages for each buyer.
    sink.down();
    app.ok(
        Some(&org),
        "mutation($id: ID!, $p: EventPatch!) { updateEvent(id: $id, patch: $p) { venue } }",
        json!({ "id": event, "p": { "venue": "Grande Halle" } }),
    )
    .await;
    app.ok(
        Some(&org),
        "mutation($e: ID!) { cancelEvent(id: $e) { status } }",
        json!({ "e": event }),
    )
    .await;
    guichet_server::checkout::resume(&app.state, now + 60)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let failed = round(&app, &mailer, now + 60).await;
    let topics: Vec<String> = deliveries(&app).await.into_iter().map(|r| r.4).collect();
    assert_eq!(
        failed,
        MailRound {
            listed: 6,
            sent: 0,
            retried: 6,
            dead: 0
        },
        "{topics:?}"
    );
    // Backed off: 10 s later nothing is due yet.
    assert_eq!(round(&app, &mailer, now + 65).await, MailRound::default());
    let second = round(&app, &mailer, now + 71).await;
    assert_eq!(
        second,
        MailRound {
            listed: 0,
            sent: 0,
            retried: 6,
            dead: 0
        }
    );
    let (_, metrics) = metrics(&app).await;
    assert!(
        metrics.contains("guichet_notifications_total{outcome=\"mail_failed\"} 12"),
        "{metrics}"
    );

    // Back up: two replicas' workers race for the same due messages.
    sink.up();
    let (_, replica) = app.restart().await;
    let (a, b) = tokio::join!(
        mail_due(&app.state, &mailer, now + 200),
        mail_due(&replica, &mailer, now + 200),
    );
    let (a, b) = (
        a.unwrap_or_else(|e| panic!("{e:?}")),
        b.unwrap_or_else(|e| panic!("{e:?}")),
    );
    assert_eq!(a.sent + b.sent, 6, "{a:?} {b:?}");
    for later in [now + 300, now + 4000, now + 100_000] {
        assert_eq!(round(&app, &mailer, later).await, MailRound::default());
    }

    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r.2 == "sent"), "{rows:?}");
    let expected: BTreeSet<String> = rows
        .iter()
        .map(|(n, r, ..)| format!("{n}.{r}@guichet.example"))
        .collect();
    let received = sink.messages();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in &received {
        *count.entry(m.message_id.clone()).or_default() += 1;
    }
    assert!(
        count.values().all(|&n| n == 1),
        "a duplicate arrived: {count:?}"
    );
    assert_eq!(count.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for (id, email, topics) in [
        (
            &ann_id,
            "ann@example.org",
            ["Your tickets", "Changed:", "Cancelled:", "Refund for"],
        ),
        (
            &bob_id,
            "bob@example.org",
            ["Vos billets", "Modifié :", "Annulé :", "Remboursement"],
        ),
    ] {
        let mine: Vec<&Received> = received.iter().filter(|m| m.to == email).collect();
        assert_eq!(mine.len(), 4, "{email}: {mine:?}");
        for topic in topics {
            assert_eq!(
                mine.iter().filter(|m| m.subject.starts_with(topic)).count(),
                1,
                "{email} gets one `{topic}`"
            );
        }
        assert!(mine.iter().all(|m| m.message_id.contains(id.as_str())));
    }
    let moved = received
        .iter()
        .find(|m| m.to == "ann@example.org" && m.subject.starts_with("Changed:"))
        .unwrap_or_else(|| panic!("no move notice"));
    assert!(moved.text.contains("Grande Halle, Paris"), "{}", moved.text);
    let refund = received
        .iter()
        .find(|m| m.to == "bob@example.org" && m.subject.starts_with("Remboursement"))
        .unwrap_or_else(|| panic!("no refund notice"));
    assert!(refund.text.contains("20.00 EUR"), "{}", refund.text);
}

async fn an_arabic_buyer_gets_right_to_left_mail_and_a_french_one_french(app: TestApp) {
    let sink = Sink::start();
    let mailer = mailer(&sink);
    let org = app.organizer("rtl-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (amal, _) = buyer(&app, "amal@example.org", Some("AR")).await;
    let (chloe, _) = buyer(&app, "chloe@example.org", None).await;
    let set = app
        .ok(
            Some(&chloe),
            "mutation { setLanguage(language: FR) { email language } }",
            json!({}),
        )
        .await;
    assert_eq!(
        set["setLanguage"],
        json!({ "email": "chloe@example.org", "language": "FR" })
    );
    let me = app.ok(Some(&amal), "{ me { language } }", json!({})).await;
    assert_eq!(me["me"]["language"], "AR");
    let anonymous = app
        .gql(
            None,
            "mutation { setLanguage(language: AR) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        crate::support::error_code(&anonymous).as_deref(),
        Some("UNAUTHENTICATED")
    );
    buy(&app, &amal, &event, &tt, 1, "amal").await;
    buy(&app, &chloe, &event, &tt, 1, "chloe").await;
    let sent = round(&app, &mailer, guichet_server::db::now()).await;
    assert_eq!(sent.sent, 2);
    let messages = sink.messages();
    let to = |email: &str| {
        messages
            .iter()
            .find(|m| m.to == email)
            .unwrap_or_else(|| panic!("nothing for {email}: {messages:?}"))
    };
    let ar = to("amal@example.org");
    assert_eq!(ar.subject, "تذاكرك لـ Checkout");
    assert!(
        ar.html.contains("<html lang=\"ar\" dir=\"rtl\">"),
        "{}",
        ar.html
    );
    assert!(ar.html.contains("<body dir=\"rtl\""), "{}", ar.html);
    assert!(ar.html.contains("تم تأكيد طلبك"), "{}", ar.html);
    assert!(ar.text.starts_with("مرحبًا Camille Martin،"), "{}", ar.text);
    assert!(ar.text.contains("أظهر رمز QR لكل تذكرة"), "{}", ar.text);
    assert_eq!(ar.images.len(), 1);
    let fr = to("chloe@example.org");
    assert_eq!(fr.subject, "Vos billets pour Checkout");
    assert!(
        fr.html.contains("<html lang=\"fr\" dir=\"ltr\">"),
        "{}",
        fr.html
    );
    assert!(fr.text.contains("Votre commande"), "{}", fr.text);
    // Clearing the language goes back to English.
    let cleared = app
        .ok(
            Some(&chloe),
            "mutation { setLanguage(language: null) { language } }",
            json!({}),
        )
        .await;
    assert_eq!(cleared["setLanguage"]["language"], json!(null));
}

async fn a_message_that_keeps_failing_becomes_a_dead_letter_in_metrics(app: TestApp) {
    let mut sink = Sink::start();
    let mailer = mailer(&sink);
    sink.down();
    let org = app.organizer("dead-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (token, _) = buyer(&app, "dead@example.org", None).await;
    buy(&app, &token, &event, &tt, 1, "dead").await;
    let max = app.state.config.mail_max_attempts;
    assert_eq!(max, 10);
    let mut now = guichet_server::db::now();
    for attempt in 1..=max {
        let r = round(&app, &mailer, now).await;
        if attempt < max {
            assert_eq!((r.retried, r.dead), (1, 0), "attempt {attempt}");
        } else {
            assert_eq!((r.retried, r.dead), (0, 1), "attempt {attempt}");
        }
        now += 3601;
    }
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].2.as_str(), rows[0].3), ("dead", max));
    let (_, metrics) = metrics(&app).await;
    assert!(
        metrics.contains("guichet_notifications_total{outcome=\"mail_dead_letter\"} 1"),
        "{metrics}"
    );
    // A dead letter stays dead, even once the server is back.
    sink.up();
    assert_eq!(
        round(&app, &mailer, now + 100_000).await,
        MailRound::default()
    );
    assert!(sink.messages().is_empty());
}

async fn a_recipient_refused_for_good_is_a_dead_letter_at_once(app: TestApp) {
    let sink = Sink::start();
    let mailer = mailer(&sink);
    let org = app.organizer("refusing-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (gone, _) = buyer(&app, "refused@example.org", None).await;
    let (kept, _) = buyer(&app, "kept@example.org", None).await;
    buy(&app, &gone, &event, &tt, 1, "gone").await;
    buy(&app, &kept, &event, &tt, 1, "kept").await;
    let now = guichet_server::db::now();
    let r = round(&app, &mailer, now).await;
    assert_eq!(
        r,
        MailRound {
            listed: 2,
            sent: 1,
            retried: 0,
            dead: 1
        }
    );
    let (status, attempts, error): (String, i64, Option<String>) =
        guichet_server::with_pool!(app.db(), |pool| {
            sqlx::query_as(
                "SELECT d.status, d.attempts, d.last_error FROM mail_deliveries d \
                 JOIN users u ON u.id = d.recipient_id WHERE u.email = 'refused@example.org'",
            )
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        });
    assert_eq!((status.as_str(), attempts), ("dead", 1));
    let error = error.unwrap_or_default();
    assert!(
        error.starts_with("permanent") && error.contains("550"),
        "{error}"
    );
    let (_, metrics) = metrics(&app).await;
    assert!(
        metrics.contains("guichet_notifications_total{outcome=\"mail_dead_letter\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        round(&app, &mailer, now + 100_000).await,
        MailRound::default()
    );
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "kept@example.org");
}

async fn notifications_older_than_a_week_are_not_mailed(app: TestApp) {
    let sink = Sink::start();
    let mailer = mailer(&sink);
    let org = app.organizer("late-org@example.org").await;
    let (event, tt) = on_sale(&app, &org, 1500).await;
    let (token, _) = buyer(&app, "late@example.org", None).await;
    buy(&app, &token, &event, &tt, 1, "late").await;
    // The worker first runs eight days later (SMTP configured late, or stopped for days).
    let later = guichet_server::db::now() + 8 * 24 * 3600;
    assert_eq!(round(&app, &mailer, later).await, MailRound::default());
    let unlisted: (i64,) = guichet_server::with_pool!(app.db(), |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE mail_listed_at IS NULL")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(
        unlisted.0, 0,
        "the old row is marked listed, not left to scan again"
    );
    assert!(deliveries(&app).await.is_empty());
    assert!(sink.messages().is_empty());
}
