//! `--log-denials`: turning `log stream --style ndjson` output into a short report.
//!
//! Each JSON line's `eventMessage` looks like `Sandbox: bash(4242) deny(1) file-write-data
//! /dev/tty`. It is matched by hand with the semantics of the regular expression
//! `^Sandbox:\s*(.+?)\((\d+)\)\s+deny\(.*?\)\s*(.+)$`: the process name is the shortest prefix
//! followed by `(<digits>)`, so names that contain parentheses themselves still parse. Only
//! denials of processes in the command's tree are reported, each `(name, capability)` once, in
//! order of first appearance.

use std::collections::HashSet;
use std::fmt::Write as _;

/// The `log stream --predicate` that selects sandbox violation reports.
pub const LOG_STREAM_PREDICATE: &str = r#"(((processID == 0) AND (senderImagePath CONTAINS "/Sandbox")) OR (subsystem == "com.apple.sandbox.reporting"))"#;

const READY_PREFIX: &str = "Filtering the log data using ";

/// True for the line `log stream` prints once its filter is installed; events are only captured
/// after it.
pub fn is_log_stream_ready_line(line: &str) -> bool {
    line.starts_with(READY_PREFIX)
}

/// One sandbox violation reported by the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxDenial {
    /// The process name as the kernel reports it (may contain spaces and parentheses).
    pub process: String,
    pub pid: u32,
    /// The operation and its argument, e.g. `file-write-data /dev/tty`.
    pub capability: String,
}

/// Parse one `log stream --style ndjson` line. Anything that is not a JSON event whose
/// `eventMessage` is a sandbox denial gives `None`.
pub fn parse_denial_line(line: &str) -> Option<SandboxDenial> {
    let event: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    parse_denial_message(event.get("eventMessage")?.as_str()?)
}

fn parse_denial_message(message: &str) -> Option<SandboxDenial> {
    let rest = message.strip_prefix("Sandbox:")?;
    let rest = rest.trim_start_matches(char::is_whitespace);
    // `(.+?)`: try every `(` after a non-empty name, shortest name first.
    for (open, _) in rest.match_indices('(') {
        let name = &rest[..open];
        if name.contains('\n') {
            return None;
        }
        if name.is_empty() {
            continue;
        }
        if let Some((pid, capability)) = after_name(&rest[open + 1..]) {
            return Some(SandboxDenial {
                process: name.to_string(),
                pid,
                capability: capability.to_string(),
            });
        }
    }
    None
}

/// Match `(\d+)\)\s+deny\(.*?\)\s*(.+)$` against `text` (which follows the name's `(`).
fn after_name(text: &str) -> Option<(u32, &str)> {
    let digits_end = text
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(text.len());
    if digits_end == 0 {
        return None;
    }
    let pid: u32 = text[..digits_end].parse().ok()?;
    let text = text[digits_end..].strip_prefix(')')?;
    let after_space = text.trim_start_matches(char::is_whitespace);
    if after_space.len() == text.len() {
        return None;
    }
    let arguments = after_space.strip_prefix("deny(")?;
    let close = arguments.find([')', '\n'])?;
    if arguments[close..].starts_with('\n') {
        return None;
    }
    let capability = arguments[close + 1..].trim_start_matches(char::is_whitespace);
    if capability.is_empty() || capability.contains('\n') {
        return None;
    }
    Some((pid, capability))
}

/// Collects parsed denials while the command runs and reports the relevant ones afterwards.
#[derive(Debug, Default, Clone)]
pub struct DenialCollector {
    denials: Vec<SandboxDenial>,
}

impl DenialCollector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one line of `log stream` output; returns whether it was a denial.
    pub fn push_line(&mut self, line: &str) -> bool {
        match parse_denial_line(line) {
            Some(denial) => {
                self.denials.push(denial);
                true
            }
            None => false,
        }
    }

    /// Denials of `tracked_pids`, each `(process, capability)` once, in order of first appearance.
    pub fn denials_for(&self, tracked_pids: &HashSet<u32>) -> Vec<SandboxDenial> {
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        self.denials
            .iter()
            .filter(|denial| tracked_pids.contains(&denial.pid))
            .filter(|denial| seen.insert((&denial.process, &denial.capability)))
            .cloned()
            .collect()
    }

    /// The text printed to stderr after the command exits.
    pub fn report(&self, tracked_pids: &HashSet<u32>) -> String {
        let denials = self.denials_for(tracked_pids);
        let mut report = String::from("\n=== Sandbox denials ===\n");
        if denials.is_empty() {
            report.push_str("None found.\n");
        }
        for denial in denials {
            let _ = writeln!(report, "({}) {}", denial.process, denial.capability);
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as `log stream --style ndjson --predicate …` prints them (trimmed to the fields that
    /// matter plus a few realistic neighbours).
    const SAMPLE: &[&str] = &[
        r#"Filtering the log data using "(((processID == 0) AND (senderImagePath CONTAINS \"/Sandbox\")) OR (subsystem == \"com.apple.sandbox.reporting\"))""#,
        r#"{"traceID":4203620357,"eventMessage":"Sandbox: bash(4242) deny(1) file-write-data \/dev\/tty","eventType":"logEvent","source":null,"formatString":"Sandbox: %s(%d) %s%s(%d) %s","activityIdentifier":0,"subsystem":"","category":"","threadID":912345,"processImagePath":"\/kernel","senderImagePath":"\/System\/Library\/Extensions\/Sandbox.kext\/Contents\/MacOS\/Sandbox","timestamp":"2025-06-03 10:14:02.118312+0200","machTimestamp":311093554512,"messageType":"Error","processID":0}"#,
        r#"{"traceID":4203620358,"eventMessage":"Sandbox: cat(4250) deny(1) file-read-data \/Users\/dev\/.ssh\/id_ed25519","eventType":"logEvent","subsystem":"","processImagePath":"\/kernel","senderImagePath":"\/System\/Library\/Extensions\/Sandbox.kext\/Contents\/MacOS\/Sandbox","timestamp":"2025-06-03 10:14:02.201007+0200","messageType":"Error","processID":0}"#,
        r#"{"traceID":4203620359,"eventMessage":"Sandbox: bash(4242) deny(1) file-write-data \/dev\/tty","eventType":"logEvent","subsystem":"","processID":0,"timestamp":"2025-06-03 10:14:02.310400+0200"}"#,
        r#"{"traceID":4203620360,"eventMessage":"Sandbox: mdworker_shared(611) deny(1) mach-lookup com.apple.metadata.mds","eventType":"logEvent","subsystem":"","processID":0,"timestamp":"2025-06-03 10:14:02.400100+0200"}"#,
        r#"{"traceID":4203620361,"eventMessage":"Sandbox: Python Helper (Renderer)(4261) deny(2) network-outbound 93.184.216.34:443","eventType":"logEvent","subsystem":"com.apple.sandbox.reporting","category":"violation","processID":4261,"timestamp":"2025-06-03 10:14:02.511998+0200"}"#,
        r#"{"traceID":4203620362,"eventMessage":"1 duplicate report for Sandbox: bash(4242) deny(1) file-write-data \/dev\/tty","eventType":"logEvent","processID":0}"#,
        r#"{"traceID":4203620363,"eventMessage":"Sandbox: cat(4250) deny(1) file-read-data \/Users\/dev\/.ssh\/id_ed25519","eventType":"logEvent","processID":0}"#,
        "not json at all",
        r#"{"eventType":"activityCreateEvent","processID":0}"#,
    ];

    fn collected() -> DenialCollector {
        let mut collector = DenialCollector::new();
        for line in SAMPLE {
            collector.push_line(line);
        }
        collector
    }

    #[test]
    fn parses_name_pid_and_capability() {
        assert_eq!(
            parse_denial_line(SAMPLE[1]),
            Some(SandboxDenial {
                process: "bash".to_string(),
                pid: 4242,
                capability: "file-write-data /dev/tty".to_string(),
            })
        );
    }

    #[test]
    fn process_names_may_contain_parentheses_and_spaces() {
        let denial = parse_denial_line(SAMPLE[5]).unwrap();
        assert_eq!(denial.process, "Python Helper (Renderer)");
        assert_eq!(denial.pid, 4261);
        assert_eq!(denial.capability, "network-outbound 93.184.216.34:443");
    }

    #[test]
    fn non_denial_lines_are_ignored() {
        for line in [SAMPLE[0], SAMPLE[6], SAMPLE[8], SAMPLE[9]] {
            assert_eq!(parse_denial_line(line), None, "{line}");
        }
    }

    #[test]
    fn message_grammar_edges() {
        let parse = parse_denial_message;
        assert_eq!(parse("Sandbox:bash(1) deny(1) x").unwrap().process, "bash");
        assert_eq!(parse("Sandbox: a(b)(7) deny(1) op arg").unwrap().pid, 7);
        assert_eq!(
            parse("Sandbox: bash(1)deny(1) x"),
            None,
            "needs space before deny"
        );
        assert_eq!(
            parse("Sandbox: bash(x) deny(1) x"),
            None,
            "pid must be digits"
        );
        assert_eq!(parse("Sandbox: bash(1) allow(1) x"), None);
        assert_eq!(
            parse("Sandbox: bash(1) deny(1)"),
            None,
            "capability required"
        );
        assert_eq!(parse("Sandbox: (1) deny(1) x"), None, "name required");
        assert_eq!(
            parse("Sandbox: bash(1) deny(1 with note) op")
                .unwrap()
                .capability,
            "op"
        );
        assert_eq!(parse("Sandbox: bash(1) deny(1) op\nmore"), None);
        assert_eq!(parse("Sandbox: bash(99999999999) deny(1) op"), None);
    }

    #[test]
    fn report_keeps_tracked_pids_only_deduplicated_in_order() {
        let tracked: HashSet<u32> = [4242, 4250, 4261].into_iter().collect();
        assert_eq!(
            collected().report(&tracked),
            "\n=== Sandbox denials ===\n\
             (bash) file-write-data /dev/tty\n\
             (cat) file-read-data /Users/dev/.ssh/id_ed25519\n\
             (Python Helper (Renderer)) network-outbound 93.184.216.34:443\n"
        );
    }

    #[test]
    fn report_says_none_found_when_nothing_tracked_was_denied() {
        let tracked: HashSet<u32> = [1].into_iter().collect();
        assert_eq!(
            collected().report(&tracked),
            "\n=== Sandbox denials ===\nNone found.\n"
        );
    }

    #[test]
    fn ready_line_is_recognised() {
        assert!(is_log_stream_ready_line(SAMPLE[0]));
        assert!(!is_log_stream_ready_line(SAMPLE[1]));
    }
}
