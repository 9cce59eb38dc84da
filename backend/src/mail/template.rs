//! The e-mail templates: one plain-text and one HTML file per language and message, which a
//! deployer may replace (`GUICHET_MAIL_TEMPLATES_DIR`).
//!
//! The syntax is a small subset of Mustache: `{{name}}` inserts a value (HTML-escaped in the
//! `.html` files), and `{{#tickets}}…{{/tickets}}` repeats its content once per ticket. A
//! section tag followed by a line break takes the line break with it, so sections can sit on
//! lines of their own. The first line of every `.txt` file is `Subject: …`, then a blank
//! line, then the body. Templates are checked when the server starts: an unknown name or an
//! unclosed section refuses to start, rather than mailing a broken text to buyers.

use std::collections::BTreeMap;
use std::path::Path;

/// A language an account can read its mail in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    /// English (the default).
    En,
    /// French.
    Fr,
    /// Arabic, written right to left.
    Ar,
}

impl Language {
    /// Every language, in the order templates are loaded.
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Ar];

    /// The stored code (`en`, `fr`, `ar`).
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Ar => "ar",
        }
    }

    /// The language of a stored code; `None` for anything else.
    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The messages buyers receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An order completed: the tickets, with their QR codes.
    OrderConfirmed,
    /// Money was given back for some or all tickets of an order.
    OrderRefunded,
    /// The organizer cancelled the event.
    EventCancelled,
    /// The event's time or place changed.
    EventMoved,
}

impl Kind {
    /// Every message.
    pub const ALL: [Kind; 4] = [
        Kind::OrderConfirmed,
        Kind::OrderRefunded,
        Kind::EventCancelled,
        Kind::EventMoved,
    ];

    /// The file name without extension.
    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::OrderConfirmed => "order_confirmed",
            Kind::OrderRefunded => "order_refunded",
            Kind::EventCancelled => "event_cancelled",
            Kind::EventMoved => "event_moved",
        }
    }

    /// The names a template of this kind may use outside the ticket section.
    fn names(self) -> &'static [&'static str] {
        const EVENT: &[&str] = &[
            "name",
            "event_title",
            "event_starts",
            "event_venue",
            "event_city",
        ];
        match self {
            Kind::OrderConfirmed => &[
                "name",
                "event_title",
                "event_starts",
                "event_venue",
                "event_city",
                "order_ref",
                "order_total",
                "ticket_count",
            ],
            Kind::OrderRefunded => &[
                "name",
                "event_title",
                "event_starts",
                "event_venue",
                "event_city",
                "order_ref",
                "refund_amount",
            ],
            Kind::EventCancelled | Kind::EventMoved => EVENT,
        }
    }

    /// The names available inside `{{#tickets}}` (the order confirmation only).
    fn ticket_names(self) -> &'static [&'static str] {
        match self {
            Kind::OrderConfirmed => &["ticket_id", "ticket_type", "credential", "qr_cid"],
            _ => &[],
        }
    }
}

/// Why templates were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A template file could not be read.
    #[error("mail template {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// A template does not parse or uses a name its message does not provide.
    #[error("mail template {file}: {reason}")]
    Invalid {
        /// `<language>/<file>`.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Value(String),
    Tickets(Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// How inserted values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As they are (plain text, subject).
    None,
    /// `& < > " '` as entities.
    Html,
}

/// The values a message is rendered with: names, and one map per ticket.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// Names outside the ticket section.
    pub top: BTreeMap<&'static str, String>,
    /// One map per ticket for `{{#tickets}}`.
    pub tickets: Vec<BTreeMap<&'static str, String>>,
}

impl Template {
    /// Parses `text`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Template, TemplateError> {
        let invalid = |reason: String| TemplateError::Invalid {
            file: file.to_owned(),
            reason,
        };
        let mut stack: Vec<Vec<Node>> = vec![Vec::new()];
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let (before, after) = rest.split_at(open);
            if !before.is_empty() {
                push(&mut stack, Node::Text(before.to_owned()));
            }
            let Some(close) = after.find("}}") else {
                return Err(invalid("a `{{` is never closed".into()));
            };
            let tag = after[2..close].trim();
            rest = &after[close + 2..];
            if let Some(section) = tag.strip_prefix('#') {
                if section.trim() != "tickets" || stack.len() > 1 {
                    return Err(invalid(format!(
                        "unknown section `{section}` (only one level of `tickets`)"
                    )));
                }
                stack.push(Vec::new());
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            } else if let Some(section) = tag.strip_prefix('/') {
                if section.trim() != "tickets" || stack.len() != 2 {
                    return Err(invalid(format!("`{{{{/{section}}}}}` closes nothing")));
                }
                let inner = stack.pop().unwrap_or_default();
                push(&mut stack, Node::Tickets(inner));
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            } else if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(invalid(format!("`{{{{{tag}}}}}` is not a name")));
            } else {
                push(&mut stack, Node::Value(tag.to_owned()));
            }
        }
        if !rest.is_empty() {
            push(&mut stack, Node::Text(rest.to_owned()));
        }
        if stack.len() != 1 {
            return Err(invalid("`{{#tickets}}` is never closed".into()));
        }
        Ok(Template {
            nodes: stack.pop().unwrap_or_default(),
        })
    }

    /// Checks that every name is one `kind` provides.
    fn check(&self, kind: Kind, file: &str) -> Result<(), TemplateError> {
        fn walk(nodes: &[Node], allowed: &[&str], tickets: &[&str]) -> Result<(), String> {
            for node in nodes {
                match node {
                    Node::Text(_) => {}
                    Node::Value(name) if allowed.contains(&name.as_str()) => {}
                    Node::Value(name) => return Err(format!("unknown name `{{{{{name}}}}}`")),
                    Node::Tickets(_) if tickets.is_empty() => {
                        return Err("this message has no `{{#tickets}}` section".into());
                    }
                    Node::Tickets(inner) => {
                        let both: Vec<&str> =
                            allowed.iter().chain(tickets.iter()).copied().collect();
                        walk(inner, &both, &[])?;
                    }
                }
            }
            Ok(())
        }
        walk(&self.nodes, kind.names(), kind.ticket_names()).map_err(|reason| {
            TemplateError::Invalid {
                file: file.to_owned(),
                reason,
            }
        })
    }

    /// Renders with `values`, escaping inserted values as `escape` says.
    pub fn render(&self, values: &Values, escape: Escape) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, values, None, escape, &mut out);
        out
    }
}

fn push(stack: &mut [Vec<Node>], node: Node) {
    if let Some(top) = stack.last_mut() {
        top.push(node);
    }
}

fn render_nodes(
    nodes: &[Node],
    values: &Values,
    ticket: Option<&BTreeMap<&'static str, String>>,
    escape: Escape,
    out: &mut String,
) {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Value(name) => {
                let value = ticket
                    .and_then(|t| t.get(name.as_str()))
                    .or_else(|| values.top.get(name.as_str()))
                    .map_or("", String::as_str);
                match escape {
                    Escape::None => out.push_str(value),
                    Escape::Html => escape_html(value, out),
                }
            }
            Node::Tickets(inner) => {
                for t in &values.tickets {
                    render_nodes(inner, values, Some(t), escape, out);
                }
            }
        }
    }
}

fn escape_html(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// One message in one language: subject, plain text and HTML.
#[derive(Debug, Clone)]
pub struct MessageTemplates {
    /// The subject line (from the `.txt` file's first line).
    pub subject: Template,
    /// The plain-text part.
    pub text: Template,
    /// The HTML part.
    pub html: Template,
}

/// Every message in every language.
#[derive(Debug, Clone)]
pub struct Templates {
    by_key: BTreeMap<(Language, Kind), MessageTemplates>,
}

/// The built-in templates, compiled into the binary.
fn builtin(language: Language, kind: Kind) -> (&'static str, &'static str) {
    macro_rules! files {
        ($(($lang:ident, $code:literal, $kind:ident, $stem:literal)),+ $(,)?) => {
            match (language, kind) {
                $((Language::$lang, Kind::$kind) => (
                    include_str!(concat!("../../templates/mail/", $code, "/", $stem, ".txt")),
                    include_str!(concat!("../../templates/mail/", $code, "/", $stem, ".html")),
                ),)+
            }
        };
    }
    files![
        (En, "en", OrderConfirmed, "order_confirmed"),
        (En, "en", OrderRefunded, "order_refunded"),
        (En, "en", EventCancelled, "event_cancelled"),
        (En, "en", EventMoved, "event_moved"),
        (Fr, "fr", OrderConfirmed, "order_confirmed"),
        (Fr, "fr", OrderRefunded, "order_refunded"),
        (Fr, "fr", EventCancelled, "event_cancelled"),
        (Fr, "fr", EventMoved, "event_moved"),
        (Ar, "ar", OrderConfirmed, "order_confirmed"),
        (Ar, "ar", OrderRefunded, "order_refunded"),
        (Ar, "ar", EventCancelled, "event_cancelled"),
        (Ar, "ar", EventMoved, "event_moved"),
    ]
}

impl Templates {
    /// The built-in templates, each replaced by `<dir>/<language>/<name>.{txt,html}` when
    /// `dir` is given and that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut by_key = BTreeMap::new();
        for language in Language::ALL {
            for kind in Kind::ALL {
                let (text, html) = builtin(language, kind);
                let stem = format!("{}/{}", language.code(), kind.file_stem());
                let read = |ext: &str, default: &str| -> Result<String, TemplateError> {
                    let Some(dir) = dir else {
                        return Ok(default.to_owned());
                    };
                    let path = dir.join(format!("{stem}.{ext}"));
                    match std::fs::read_to_string(&path) {
                        Ok(text) => Ok(text),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            Ok(default.to_owned())
                        }
                        Err(source) => Err(TemplateError::Read {
                            path: path.display().to_string(),
                            source,
                        }),
                    }
                };
                let text = read("txt", text)?;
                let html = read("html", html)?;
                let txt_file = format!("{stem}.txt");
                let html_file = format!("{stem}.html");
                let (subject, body) =
                    split_subject(&text).ok_or_else(|| TemplateError::Invalid {
                        file: txt_file.clone(),
                        reason: "the first line must be `Subject: …`, then a blank line".into(),
                    })?;
                let templates = MessageTemplates {
                    subject: Template::parse(subject, &txt_file)?,
                    text: Template::parse(body, &txt_file)?,
                    html: Template::parse(&html, &html_file)?,
                };
                if templates
                    .subject
                    .nodes
                    .iter()
                    .any(|n| matches!(n, Node::Tickets(_)))
                {
                    return Err(TemplateError::Invalid {
                        file: txt_file,
                        reason: "the subject cannot hold `{{#tickets}}`".into(),
                    });
                }
                templates.subject.check(kind, &txt_file)?;
                templates.text.check(kind, &txt_file)?;
                templates.html.check(kind, &html_file)?;
                by_key.insert((language, kind), templates);
            }
        }
        Ok(Templates { by_key })
    }

    /// The templates of `kind` in `language`.
    pub fn get(&self, language: Language, kind: Kind) -> Option<&MessageTemplates> {
        self.by_key.get(&(language, kind))
    }
}

/// `Subject: …\n\n<body>` → (subject, body).
fn split_subject(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (first, rest) = text.split_once('\n')?;
    let subject = first.strip_prefix("Subject:")?.trim();
    let body = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    Some((subject, body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is the test failing.
mod tests {
    use super::*;

    fn values() -> Values {
        let mut v = Values::default();
        v.top.insert("name", "Ada <& Co>".into());
        for id in ["t1", "t2"] {
            let mut t = BTreeMap::new();
            t.insert("ticket_id", id.to_owned());
            v.tickets.push(t);
        }
        v
    }

    #[test]
    fn values_are_inserted_escaped_in_html_and_sections_repeat() {
        let t = Template::parse(
            "Hi {{ name }}!\n{{#tickets}}\n- {{ticket_id}}\n{{/tickets}}\nbye",
            "t",
        )
        .unwrap();
        assert_eq!(
            t.render(&values(), Escape::None),
            "Hi Ada <& Co>!\n- t1\n- t2\nbye"
        );
        assert_eq!(
            t.render(&values(), Escape::Html),
            "Hi Ada &lt;&amp; Co&gt;!\n- t1\n- t2\nbye"
        );
    }

    #[test]
    fn broken_templates_are_refused_with_the_reason() {
        for (text, reason) in [
            ("{{name", "never closed"),
            ("{{#tickets}}x", "never closed"),
            ("{{/tickets}}", "closes nothing"),
            ("{{#seats}}{{/seats}}", "unknown section"),
            (
                "{{#tickets}}{{#tickets}}{{/tickets}}{{/tickets}}",
                "only one level",
            ),
            ("{{a b}}", "not a name"),
        ] {
            let err = Template::parse(text, "x").unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
        let unknown = Template::parse("{{password}}", "x").unwrap();
        let err = unknown
            .check(Kind::EventMoved, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown name `{{password}}`"), "{err}");
        let section = Template::parse("{{#tickets}}{{/tickets}}", "x").unwrap();
        let err = section
            .check(Kind::OrderRefunded, "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `{{#tickets}}`"), "{err}");
    }

    #[test]
    fn builtin_templates_load_and_a_directory_replaces_one_file() {
        let builtin = Templates::load(None).unwrap();
        let ar = builtin.get(Language::Ar, Kind::OrderConfirmed).unwrap();
        assert!(
            ar.html
                .render(&values(), Escape::Html)
                .contains("dir=\"rtl\"")
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fr")).unwrap();
        std::fs::write(
            dir.path().join("fr/event_moved.txt"),
            "Subject: Nouveau lieu pour {{event_title}}\n\n{{name}}, on déménage.\n",
        )
        .unwrap();
        let custom = Templates::load(Some(dir.path())).unwrap();
        let moved = custom.get(Language::Fr, Kind::EventMoved).unwrap();
        let mut v = values();
        v.top.insert("event_title", "Jazz".into());
        assert_eq!(
            moved.subject.render(&v, Escape::None),
            "Nouveau lieu pour Jazz"
        );
        assert_eq!(
            moved.text.render(&v, Escape::None),
            "Ada <& Co>, on déménage.\n"
        );
        // The HTML part and every other file stay built in.
        let en = custom.get(Language::En, Kind::EventMoved).unwrap();
        assert_eq!(
            en.subject.render(&v, Escape::None),
            builtin
                .get(Language::En, Kind::EventMoved)
                .unwrap()
                .subject
                .render(&v, Escape::None)
        );
        std::fs::write(dir.path().join("fr/event_moved.txt"), "no subject\n").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("fr/event_moved.txt") && err.contains("Subject"),
            "{err}"
        );
    }
}
