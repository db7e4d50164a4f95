//! Recognising a command that is an `apply_patch` call, so the agent can verify and apply the
//! patch itself instead of running a shell:
//!
//! - `["apply_patch" | "applypatch", PATCH]`;
//! - `[bash|zsh|sh, -c|-lc, SCRIPT]` (also `pwsh|powershell [-NoProfile] -Command` and
//!   `cmd /c`) where the whole script is `apply_patch <<'EOF' … EOF`, optionally preceded by
//!   `cd DIR && ` (DIR becomes the working directory).
//!
//! Anything else is not an invocation (`None`): it runs as an ordinary command, inside the OS
//! sandbox, where `apply_patch` is the `codex` binary under that name. The script recogniser is
//! deliberately narrow: a `cd` argument with expansions, a heredoc with anything after it, or a
//! second command all fall through to the shell. A bare patch given as the command (or as the
//! script) is an error with upstream's message.

use std::path::{Path, PathBuf};

use crate::parser::{ParseError, Patch, parse_patch};

const COMMAND_NAMES: [&str; 2] = ["apply_patch", "applypatch"];

/// A recognised `apply_patch` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyPatchInvocation {
    pub patch: Patch,
    /// The `cd DIR` of a `cd DIR && apply_patch <<'EOF'` script, as written.
    pub workdir: Option<PathBuf>,
}

/// Why a recognised invocation cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(
        "patch detected without explicit call to apply_patch. Rerun as [\"apply_patch\", \"<patch>\"]"
    )]
    ImplicitInvocation,
}

impl ApplyPatchInvocation {
    /// `Some` when `argv` is an `apply_patch` call (or a bare patch, which is an error); `None`
    /// when it is some other command.
    pub fn from_argv(argv: &[String]) -> Option<Result<ApplyPatchInvocation, InvocationError>> {
        match argv {
            [body] if parse_patch(body).is_ok() => Some(Err(InvocationError::ImplicitInvocation)),
            [command, body] if COMMAND_NAMES.contains(&command.as_str()) => Some(
                parse_patch(body)
                    .map(|patch| ApplyPatchInvocation {
                        patch,
                        workdir: None,
                    })
                    .map_err(InvocationError::from),
            ),
            _ => {
                let script = shell_script(argv)?;
                if parse_patch(script).is_ok() {
                    return Some(Err(InvocationError::ImplicitInvocation));
                }
                let (body, workdir) = heredoc_call(script)?;
                Some(
                    parse_patch(body)
                        .map(|patch| ApplyPatchInvocation {
                            patch,
                            workdir: workdir.map(PathBuf::from),
                        })
                        .map_err(InvocationError::from),
                )
            }
        }
    }

    /// The directory the patch's paths are relative to: `workdir` against `cwd`.
    pub fn cwd(&self, cwd: &Path) -> PathBuf {
        match &self.workdir {
            Some(workdir) => codex_sandbox_policy::normalize(&cwd.join(workdir)),
            None => cwd.to_path_buf(),
        }
    }
}

/// The script of `shell -c SCRIPT` for the shells upstream recognises.
fn shell_script(argv: &[String]) -> Option<&str> {
    let (shell, flags, script) = match argv {
        [shell, flag, script] => (shell, vec![flag.as_str()], script),
        [shell, first, flag, script] => (shell, vec![first.as_str(), flag.as_str()], script),
        _ => return None,
    };
    let name = Path::new(shell).file_stem()?.to_str()?.to_ascii_lowercase();
    let accepted = match (name.as_str(), flags.as_slice()) {
        ("bash" | "zsh" | "sh", ["-c" | "-lc"]) => true,
        ("pwsh" | "powershell", [flag]) => flag.eq_ignore_ascii_case("-command"),
        ("pwsh" | "powershell", [first, flag]) => {
            first.eq_ignore_ascii_case("-noprofile") && flag.eq_ignore_ascii_case("-command")
        }
        ("cmd", [flag]) => flag.eq_ignore_ascii_case("/c"),
        _ => false,
    };
    accepted.then_some(script.as_str())
}

/// `(heredoc body, cd directory)` when `script` is exactly `[cd DIR && ]apply_patch <<DELIM`,
/// the body, and the delimiter line (then only whitespace).
fn heredoc_call(script: &str) -> Option<(&str, Option<String>)> {
    let mut rest = script.trim_start();
    let mut workdir = None;
    if let Some(after_cd) = rest.strip_prefix("cd")
        && after_cd.starts_with([' ', '\t'])
    {
        let (directory, after) = shell_word(after_cd.trim_start_matches([' ', '\t']))?;
        rest = after
            .trim_start_matches([' ', '\t'])
            .strip_prefix("&&")?
            .trim_start_matches([' ', '\t', '\n']);
        workdir = Some(directory);
    }
    let name = COMMAND_NAMES.iter().find(|name| rest.starts_with(**name))?;
    rest = rest[name.len()..].trim_start_matches([' ', '\t']);
    rest = rest.strip_prefix("<<")?;
    if rest.starts_with(['<', '-']) {
        return None;
    }
    rest = rest.trim_start_matches([' ', '\t']);
    let (delimiter, after) = heredoc_delimiter(rest)?;
    let (first_line, body_and_rest) = after.split_once('\n')?;
    if !first_line.trim().is_empty() {
        return None;
    }
    // The body ends at the first line that is exactly the delimiter.
    let mut offset = 0;
    for line in body_and_rest.split_inclusive('\n') {
        if line.trim_end_matches('\n') == delimiter {
            let trailing = &body_and_rest[offset + line.len()..];
            if !trailing.trim().is_empty() {
                return None;
            }
            let body = body_and_rest[..offset].trim_end_matches('\n');
            return Some((body, workdir));
        }
        offset += line.len();
    }
    None
}

/// The delimiter word of `'WORD'`, `"WORD"` or `WORD`, and what follows it.
fn heredoc_delimiter(text: &str) -> Option<(&str, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote) {
            let (word, after) = inner.split_once(quote)?;
            return (!word.is_empty() && word.chars().all(is_word)).then_some((word, after));
        }
    }
    let end = text.find(|c: char| !is_word(c)).unwrap_or(text.len());
    (end > 0).then(|| (&text[..end], &text[end..]))
}

/// A `cd` argument without expansions: `'…'`, `"…"` (no `$`, `` ` ``, `\` or `"` inside) or a
/// bare word of ordinary characters; returns it and what follows.
fn shell_word(text: &str) -> Option<(String, &str)> {
    if let Some(inner) = text.strip_prefix('\'') {
        let (word, after) = inner.split_once('\'')?;
        return (!word.is_empty() && !word.contains('\n')).then(|| (word.to_string(), after));
    }
    if let Some(inner) = text.strip_prefix('"') {
        let (word, after) = inner.split_once('"')?;
        let plain = !word.is_empty() && !word.contains(['$', '`', '\\', '\n']);
        return plain.then(|| (word.to_string(), after));
    }
    let ordinary = |c: char| c.is_alphanumeric() || "/._-+,:@%=".contains(c);
    let end = text.find(|c: char| !ordinary(c)).unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::Hunk;

    const PATCH: &str = "*** Begin Patch\n*** Add File: foo\n+hi\n*** End Patch";

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|part| part.to_string()).collect()
    }

    fn heredoc(prefix: &str, suffix: &str) -> String {
        format!("{prefix}apply_patch <<'PATCH'\n{PATCH}\nPATCH{suffix}")
    }

    fn workdir(argv: &[String]) -> Option<Option<PathBuf>> {
        match ApplyPatchInvocation::from_argv(argv)? {
            Ok(invocation) => {
                assert_eq!(
                    invocation.patch.hunks,
                    vec![Hunk::Add {
                        path: PathBuf::from("foo"),
                        contents: "hi\n".to_string()
                    }]
                );
                Some(invocation.workdir)
            }
            Err(error) => panic!("unexpected error: {error}"),
        }
    }

    #[test]
    fn direct_calls() {
        assert_eq!(workdir(&argv(&["apply_patch", PATCH])), Some(None));
        assert_eq!(workdir(&argv(&["applypatch", PATCH])), Some(None));
        let wrapped = format!("<<'EOF'\n{PATCH}\nEOF\n");
        assert_eq!(workdir(&argv(&["apply_patch", &wrapped])), Some(None));
        assert!(matches!(
            ApplyPatchInvocation::from_argv(&argv(&["apply_patch", "nope"])),
            Some(Err(InvocationError::Parse(_)))
        ));
        assert_eq!(ApplyPatchInvocation::from_argv(&argv(&["ls", "-l"])), None);
    }

    #[test]
    fn heredoc_scripts_under_each_shell() {
        let script = heredoc("", "\n");
        for shell in [
            &["bash", "-lc"][..],
            &["/bin/bash", "-c"],
            &["zsh", "-lc"],
            &["sh", "-c"],
            &["pwsh", "-NoProfile", "-Command"],
            &["powershell.exe", "-Command"],
            &["cmd.exe", "/c"],
        ] {
            let mut command = argv(shell);
            command.push(script.clone());
            assert_eq!(workdir(&command), Some(None), "{shell:?}");
        }
        for delimiter in ["EOF", "\"EOF\""] {
            let script = format!("applypatch <<{delimiter}\n{PATCH}\nEOF");
            assert_eq!(workdir(&argv(&["bash", "-lc", &script])), Some(None));
        }
        assert_eq!(
            ApplyPatchInvocation::from_argv(&argv(&["fish", "-c", &script])),
            None
        );
        assert_eq!(
            ApplyPatchInvocation::from_argv(&argv(&["bash", "-x", &script])),
            None
        );
    }

    #[test]
    fn cd_prefix_sets_the_workdir() {
        for (prefix, expected) in [
            ("cd foo && ", "foo"),
            ("cd 'foo bar' && ", "foo bar"),
            ("cd \"foo bar\" && ", "foo bar"),
            ("  cd /abs/dir-1.2 &&\n", "/abs/dir-1.2"),
        ] {
            let script = heredoc(prefix, "");
            assert_eq!(
                workdir(&argv(&["bash", "-lc", &script])),
                Some(Some(PathBuf::from(expected))),
                "{prefix:?}"
            );
        }
        let invocation = ApplyPatchInvocation {
            patch: Patch { hunks: Vec::new() },
            workdir: Some(PathBuf::from("../x")),
        };
        assert_eq!(
            invocation.cwd(Path::new("/repo/sub")),
            PathBuf::from("/repo/x")
        );
    }

    #[test]
    fn other_scripts_are_ordinary_commands() {
        for script in [
            heredoc("cd foo; ", ""),
            heredoc("cd bar || ", ""),
            heredoc("cd bar | ", ""),
            heredoc("echo foo && ", ""),
            heredoc("cd foo && cd bar && ", ""),
            heredoc("cd foo bar && ", ""),
            heredoc("cd $HOME && ", ""),
            heredoc("cd \"$HOME\" && ", ""),
            heredoc("cd `pwd` && ", ""),
            heredoc("", " && echo done"),
            heredoc("", "\necho done"),
            heredoc("echo foo; cd bar && ", ""),
            format!("apply_patch foo <<'PATCH'\n{PATCH}\nPATCH"),
            format!("apply_patch <<-'PATCH'\n{PATCH}\nPATCH"),
            format!("apply_patch <<<'{PATCH}'"),
            format!("apply_patch <<'PATCH' > out\n{PATCH}\nPATCH"),
            format!("apply_patch <<'PATCH'\n{PATCH}\n"),
            format!("apply_patchx <<'PATCH'\n{PATCH}\nPATCH"),
        ] {
            assert_eq!(
                ApplyPatchInvocation::from_argv(&argv(&["bash", "-lc", &script])),
                None,
                "{script:?}"
            );
        }
    }

    #[test]
    fn a_bare_patch_is_rejected_with_upstream_message() {
        for command in [argv(&[PATCH]), argv(&["bash", "-lc", PATCH])] {
            let error = ApplyPatchInvocation::from_argv(&command)
                .unwrap()
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                "patch detected without explicit call to apply_patch. Rerun as [\"apply_patch\", \"<patch>\"]"
            );
        }
    }

    #[test]
    fn a_bad_patch_in_a_heredoc_is_a_parse_error() {
        let script = "apply_patch <<'EOF'\n*** Begin Patch\n*** Frob: x\n*** End Patch\nEOF";
        assert!(matches!(
            ApplyPatchInvocation::from_argv(&argv(&["bash", "-lc", script])),
            Some(Err(InvocationError::Parse(ParseError::InvalidHunk {
                line_number: 2,
                ..
            })))
        ));
    }
}
