//! `User-Agent` in upstream's shape: `<originator>/<version> (<os> <os version>; <arch>)
//! <terminal>`.

use crate::provider::{ProviderEnvironment, env_names};

/// Largest `/etc/os-release` (or macOS version file) read.
#[cfg(any(target_os = "linux", target_os = "macos"))]
const MAX_OS_RELEASE_BYTES: u64 = 64 * 1024;

/// Keep header-safe characters only.
fn header_safe(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(target_os = "linux")]
fn os_name_and_version() -> (String, String) {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(file) = std::fs::File::open("/etc/os-release") {
        let _ = file.take(MAX_OS_RELEASE_BYTES).read_to_string(&mut text);
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .map(|value| value.trim_matches('"').to_string())
    };
    let name = field("ID")
        .map(|id| {
            let mut chars = id.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "Linux".to_string());
    (
        name,
        field("VERSION_ID").unwrap_or_else(|| "unknown".into()),
    )
}

#[cfg(target_os = "macos")]
fn os_name_and_version() -> (String, String) {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(file) = std::fs::File::open("/System/Library/CoreServices/SystemVersion.plist") {
        let _ = file.take(MAX_OS_RELEASE_BYTES).read_to_string(&mut text);
    }
    let version = text
        .split("<key>ProductVersion</key>")
        .nth(1)
        .and_then(|rest| rest.split("<string>").nth(1))
        .and_then(|rest| rest.split("</string>").next())
        .unwrap_or("unknown")
        .to_string();
    ("Mac OS".to_string(), version)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn os_name_and_version() -> (String, String) {
    (std::env::consts::OS.to_string(), "unknown".to_string())
}

fn terminal(env: &ProviderEnvironment) -> String {
    match (
        env.get(env_names::TERM_PROGRAM),
        env.get(env_names::TERM_PROGRAM_VERSION),
    ) {
        (Some(program), Some(version)) => format!("{program}/{version}"),
        (Some(program), None) => program.to_string(),
        (None, _) => env.get(env_names::TERM).unwrap_or("unknown").to_string(),
    }
}

/// The `User-Agent` value for `originator`.
pub(crate) fn user_agent(originator: &str, env: &ProviderEnvironment) -> String {
    let (os, version) = os_name_and_version();
    format!(
        "{}/{} ({} {}; {}) {}",
        header_safe(originator),
        env!("CARGO_PKG_VERSION"),
        header_safe(&os),
        header_safe(&version),
        std::env::consts::ARCH,
        header_safe(&terminal(env))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_header_safety() {
        let env = ProviderEnvironment::from_pairs([
            ("TERM_PROGRAM", "tmux\u{1b}[2J"),
            ("TERM_PROGRAM_VERSION", "3.4"),
        ]);
        let agent = user_agent("codex_exec", &env);
        assert!(
            agent.starts_with(&format!("codex_exec/{} (", env!("CARGO_PKG_VERSION"))),
            "{agent}"
        );
        assert!(
            agent.ends_with(&format!("; {}) tmux[2J/3.4", std::env::consts::ARCH)),
            "{agent}"
        );
        assert!(!agent.contains('\u{1b}'));
        assert!(user_agent("o", &ProviderEnvironment::default()).ends_with(") unknown"));
    }
}
