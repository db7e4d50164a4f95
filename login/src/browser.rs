//! Opening the authorize URL in a browser. Never fatal: the caller always prints the URL.
//!
//! `BROWSER` is honoured as on other Unix tools: `:`-separated commands, tried in order; `%s` in
//! a command is replaced by the URL, otherwise the URL is appended as the last argument. The
//! command is split on whitespace and run directly (no shell), with null stdio. Without
//! `BROWSER`, `xdg-open` (Linux and BSD) or `open` (macOS) is tried.

use std::process::{Command, Stdio};

/// `true` when some browser command could be started.
pub(crate) fn open(url: &str, browser: Option<&str>) -> bool {
    let candidates: Vec<String> = match browser {
        Some(spec) => spec.split(':').map(str::to_string).collect(),
        None if cfg!(target_os = "macos") => vec!["open".to_string()],
        None => vec!["xdg-open".to_string()],
    };
    candidates.iter().any(|candidate| spawn(candidate, url))
}

fn spawn(command: &str, url: &str) -> bool {
    let mut words = command.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let mut substituted = false;
    let mut args: Vec<String> = words
        .map(|word| {
            if word.contains("%s") {
                substituted = true;
                word.replace("%s", url)
            } else {
                word.to_string()
            }
        })
        .collect();
    if !substituted {
        args.push(url.to_string());
    }
    Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn tries_each_browser_command_and_passes_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("url.txt");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$1\" > {}\n", out.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let spec = format!("/nonexistent/browser:{}", script.display());
        assert!(open("http://localhost:1/a?b=c&d", Some(&spec)));
        for _ in 0..200 {
            if std::fs::read_to_string(&out).is_ok_and(|text| text.ends_with('\n')) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "http://localhost:1/a?b=c&d\n"
        );
        assert!(!open("http://x", Some("/nonexistent/one:/nonexistent/two")));
    }
}
