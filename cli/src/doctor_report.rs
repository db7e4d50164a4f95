//! The `codex doctor` report: checks with an `ok`/`warn`/`fail` status, their human rendering
//! (one line per check, a `hint:` under each failure) and the `--json` object (documented in the
//! README under "Machine-readable output"; keys are only ever added).

use serde_json::{Map, Value, json};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, but something is weaker or missing (e.g. a credential store lost at reboot).
    Warn,
    /// Something that stops a sandboxed command from running here.
    Fail,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// The report's sections, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Sandbox,
    Configuration,
    SignIn,
}

impl Section {
    const ALL: [Section; 3] = [Section::Sandbox, Section::Configuration, Section::SignIn];

    fn title(self) -> &'static str {
        match self {
            Section::Sandbox => "Sandbox",
            Section::Configuration => "Configuration",
            Section::SignIn => "Sign-in",
        }
    }

    /// The key of the section's object in `--json`.
    pub fn key(self) -> &'static str {
        match self {
            Section::Sandbox => "sandbox",
            Section::Configuration => "config",
            Section::SignIn => "sign_in",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub section: Section,
    /// Stable identifier in `--json` (`bubblewrap`, `user_config`, …).
    pub id: String,
    /// What the human line starts with (`bubblewrap`, `user config`, …).
    pub label: String,
    pub status: Status,
    pub summary: String,
    /// What to do about it (failures always have one).
    pub hint: Option<String>,
    /// Extra facts printed under the line (refused bubblewrap copies …).
    pub notes: Vec<String>,
}

impl Check {
    pub fn new(
        section: Section,
        id: impl Into<String>,
        label: impl Into<String>,
        status: Status,
        summary: impl Into<String>,
    ) -> Check {
        Check {
            section,
            id: id.into(),
            label: label.into(),
            status,
            summary: summary.into(),
            hint: None,
            notes: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: Option<String>) -> Check {
        self.hint = hint;
        self
    }

    pub fn note(mut self, note: String) -> Check {
        self.notes.push(note);
        self
    }
}

/// Every check plus the structured data of each section.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
    /// Section key → object (see the README).
    pub data: Map<String, Value>,
    /// A sandboxed command ran (or can run) here: exit code 0.
    pub can_run: bool,
}

/// Width of the label column.
const LABEL_WIDTH: usize = 19;

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// Set `key` of the section's object.
    pub fn set(&mut self, section: Section, key: &str, value: Value) {
        let entry = self
            .data
            .entry(section.key())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(key.to_string(), value);
        }
    }

    /// The human report: a title per section, one line per check, hints and notes indented
    /// below, then the verdict.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for section in Section::ALL {
            text.push_str(section.title());
            text.push('\n');
            for check in self.checks.iter().filter(|check| check.section == section) {
                let status = check.status.name();
                let label = &check.label;
                text.push_str(&format!(
                    "  {status:<5} {label:<LABEL_WIDTH$} {}\n",
                    check.summary
                ));
                let indent = " ".repeat(8 + LABEL_WIDTH + 1);
                for note in &check.notes {
                    text.push_str(&format!("{indent}{note}\n"));
                }
                if let Some(hint) = &check.hint {
                    text.push_str(&format!("{indent}hint: {hint}\n"));
                }
            }
        }
        text.push('\n');
        text.push_str(if self.can_run {
            "A sandboxed command can run here.\n"
        } else {
            "No sandboxed command can run here: fix the failures above.\n"
        });
        text
    }

    /// `{"ok": …, "checks": [...], "sandbox": {...}, "config": {...}, "sign_in": {...}}`.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|check| {
                json!({
                    "section": check.section.key(),
                    "id": check.id,
                    "status": check.status.name(),
                    "summary": check.summary,
                    "hint": check.hint,
                    "notes": check.notes,
                })
            })
            .collect();
        let mut object = Map::new();
        object.insert("ok".into(), json!(self.can_run));
        object.insert("checks".into(), Value::Array(checks));
        for section in Section::ALL {
            let value = self
                .data
                .get(section.key())
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            object.insert(section.key().into(), value);
        }
        Value::Object(object)
    }
}

/// A URL as it may be shown: without user information or query (either may hold a secret).
pub fn displayable_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest
                .find('/')
                .map_or((rest, ""), |index| rest.split_at(index));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_string(),
    }
}

/// Text from outside (a command's stderr, a file) as one printable line of at most `limit`
/// characters.
pub fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > limit {
        let cut: String = flat.chars().take(limit).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_queries() {
        assert_eq!(
            displayable_url("https://user:pw@host.example/v1/responses?key=s3cret"),
            "https://host.example/v1/responses"
        );
        assert_eq!(
            displayable_url("http://localhost:11434/v1/responses"),
            "http://localhost:11434/v1/responses"
        );
        assert_eq!(displayable_url("https://h@x"), "https://x");
    }

    #[test]
    fn outside_text_becomes_one_bounded_line() {
        assert_eq!(one_line(" a\nb\u{1b}[2J ", 10), "a b [2J");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn failures_print_their_hint_below_the_line() {
        let mut report = Report::default();
        report.push(
            Check::new(
                Section::Sandbox,
                "seccomp",
                "seccomp",
                Status::Fail,
                "unavailable",
            )
            .hint(Some("boot another kernel".into())),
        );
        let text = report.render();
        assert!(text.starts_with(
            "Sandbox\n  fail  seccomp             unavailable\n                            hint: boot another kernel\nConfiguration\nSign-in\n"
        ), "{text}");
        assert!(text.ends_with("fix the failures above.\n"));
        assert_eq!(report.to_json()["checks"][0]["status"], json!("fail"));
    }
}
