//! The human transcript on stderr, in upstream's layout. Every string that came from the model
//! or a tool goes through [`visible`]; the only escape sequences written are our own colours.

use std::io::Write;
use std::time::Duration;

use codex_core::{CommandStatus, Event, PatchChangeKind, PlanStepStatus, first_lines};

use crate::visible::visible;

/// Lines of command output shown per command.
const OUTPUT_LINES: usize = 20;

/// Our own styles.
#[derive(Debug, Clone, Copy)]
enum Style {
    Bold,
    Dim,
    Italic,
    Red,
    Green,
    Yellow,
    Magenta,
    Cyan,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Italic => "3",
            Style::Red => "31",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Magenta => "35",
            Style::Cyan => "36",
        }
    }
}

/// The header values.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub version: String,
    pub workdir: String,
    pub model: String,
    pub provider: String,
    pub sandbox: String,
    pub reasoning_effort: Option<String>,
    pub session_id: String,
    pub prompt: String,
}

pub struct HumanPrinter {
    color: bool,
}

/// `1,234,567`.
pub fn with_separators(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `12ms`, `1.50s`, `2m 05s`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.2}s", duration.as_secs_f64())
    } else {
        format!("{}m {:02}s", millis / 60_000, (millis % 60_000) / 1000)
    }
}

impl HumanPrinter {
    pub fn new(color: bool) -> HumanPrinter {
        HumanPrinter { color }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("\u{1b}[{}m{text}\u{1b}[0m", style.code())
        } else {
            text.to_string()
        }
    }

    fn write(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    pub fn line(&self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    pub fn header(&self, header: &Header) {
        let mut text = format!("codex v{} (research preview)\n--------\n", header.version);
        let mut field = |key: &str, value: &str| {
            text.push_str(&format!(
                "{}: {}\n",
                self.paint(Style::Bold, key),
                visible(value)
            ));
        };
        field("workdir", &header.workdir);
        field("model", &header.model);
        field("provider", &header.provider);
        field("approval", "never");
        field("sandbox", &header.sandbox);
        if let Some(effort) = &header.reasoning_effort {
            field("reasoning effort", effort);
        }
        field("session id", &header.session_id);
        text.push_str("--------\n");
        text.push_str(&format!(
            "{}\n{}\n",
            self.paint(Style::Cyan, "user"),
            visible(&header.prompt)
        ));
        self.write(&text);
    }

    pub fn event(&self, event: &Event) {
        let text = match event {
            Event::TurnStarted | Event::TokenCount { .. } => return,
            Event::Warning { message } => format!(
                "{} {}\n",
                self.paint(Style::Yellow, "warning:"),
                visible(message)
            ),
            Event::StreamRetry { message } => {
                format!("{}\n", self.paint(Style::Dim, &visible(message)))
            }
            Event::Reasoning { text } => format!(
                "{}\n{}\n",
                self.paint(Style::Italic, &self.paint(Style::Magenta, "thinking")),
                self.paint(Style::Italic, &visible(text))
            ),
            Event::AgentMessage { text } => {
                format!(
                    "{}\n{}\n",
                    self.paint(Style::Magenta, &self.paint(Style::Bold, "codex")),
                    visible(text)
                )
            }
            Event::CommandBegin { command, cwd, .. } => format!(
                "{}\n{} in {}\n",
                self.paint(Style::Magenta, &self.paint(Style::Bold, "exec")),
                self.paint(Style::Bold, &visible(command)),
                visible(&cwd.display().to_string())
            ),
            Event::CommandEnd {
                exit_code,
                status,
                aggregated_output,
                duration,
                ..
            } => {
                let took = format_duration(*duration);
                let head = match (status, exit_code) {
                    (CommandStatus::Completed, _) => {
                        self.paint(Style::Green, &format!(" succeeded in {took}:"))
                    }
                    (_, Some(code)) => {
                        self.paint(Style::Red, &format!(" exited {code} in {took}:"))
                    }
                    (_, None) => self.paint(Style::Red, &format!(" could not run ({took}):")),
                };
                let (shown, total) = first_lines(aggregated_output, OUTPUT_LINES);
                let mut text = format!("{head}\n");
                if !shown.is_empty() {
                    text.push_str(&self.paint(Style::Dim, &visible(shown)));
                    text.push('\n');
                }
                if total > OUTPUT_LINES {
                    text.push_str(
                        &self.paint(Style::Dim, &format!("… +{} lines", total - OUTPUT_LINES)),
                    );
                    text.push('\n');
                }
                text
            }
            Event::PatchBegin { changes, .. } => {
                let mut text = format!(
                    "{}\n",
                    self.paint(Style::Magenta, &self.paint(Style::Bold, "apply patch"))
                );
                for change in changes {
                    let path = visible(&change.path.display().to_string());
                    let line = match &change.kind {
                        PatchChangeKind::Add => format!("A {path}"),
                        PatchChangeKind::Delete => format!("D {path}"),
                        PatchChangeKind::Update {
                            move_path: Some(to),
                        } => {
                            format!("R {path} -> {}", visible(&to.display().to_string()))
                        }
                        PatchChangeKind::Update { move_path: None } => format!("M {path}"),
                    };
                    text.push_str(&self.paint(Style::Bold, &line));
                    text.push('\n');
                    for diff_line in change.diff.lines() {
                        let shown = visible(diff_line);
                        let painted = if diff_line.starts_with('+') {
                            self.paint(Style::Green, &shown)
                        } else if diff_line.starts_with('-') {
                            self.paint(Style::Red, &shown)
                        } else {
                            shown
                        };
                        text.push_str(&painted);
                        text.push('\n');
                    }
                }
                text
            }
            Event::PatchEnd {
                success, output, ..
            } => {
                if *success {
                    format!("{}\n", self.paint(Style::Green, "patch: completed"))
                } else {
                    format!(
                        "{}\n{}\n",
                        self.paint(Style::Red, "patch: failed"),
                        self.paint(Style::Dim, &visible(output))
                    )
                }
            }
            Event::PlanUpdate { explanation, plan } => {
                let mut text = format!("{}\n", self.paint(Style::Magenta, "Plan update"));
                if let Some(explanation) = explanation {
                    text.push_str(&format!(
                        "{}\n",
                        self.paint(Style::Italic, &visible(explanation))
                    ));
                }
                for step in plan {
                    let mark = match step.status {
                        PlanStepStatus::Completed => self.paint(Style::Green, "✓"),
                        PlanStepStatus::InProgress => self.paint(Style::Cyan, "→"),
                        PlanStepStatus::Pending => self.paint(Style::Dim, "•"),
                    };
                    text.push_str(&format!("  {mark} {}\n", visible(&step.step)));
                }
                text
            }
            Event::ImageViewed { path, .. } => {
                format!(
                    "{} {}\n",
                    self.paint(Style::Magenta, "viewed image"),
                    visible(&path.display().to_string())
                )
            }
            Event::TurnComplete { usage, .. } => format!(
                "{}\n{}\n",
                self.paint(Style::Magenta, "tokens used"),
                with_separators(usage.blended_total())
            ),
            Event::TurnFailed { message, .. } => format!(
                "{} {}\n",
                self.paint(Style::Red, "ERROR:"),
                visible(message)
            ),
            Event::TurnAborted { .. } => {
                format!("{}\n", self.paint(Style::Red, "task interrupted"))
            }
        };
        self.write(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        assert_eq!(with_separators(0), "0");
        assert_eq!(with_separators(19_542), "19,542");
        assert_eq!(with_separators(1_234_567), "1,234,567");
        assert_eq!(format_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.50s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m 05s");
    }
}
