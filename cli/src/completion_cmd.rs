//! `codex completion [SHELL]`: clap's script, with `-P` completing permission profile names
//! and `-p` profile names (`$CODEX_HOME/<name>.config.toml`) instead of file names. The
//! scripts ask the binary for the names at completion time (`codex completion --values …`,
//! hidden), so they follow the configuration of the directory being typed in.

use std::process::ExitCode;

use clap::Command;
use clap_complete::Shell;
use codex_config::{LoaderOptions, RequirementsMode};

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to generate completions for.
    #[arg(value_enum, default_value_t = Shell::Bash)]
    shell: Shell,

    /// Print the candidates for one option, one per line (used by the scripts).
    #[arg(long, value_enum, hide = true)]
    values: Option<CompletionValues>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CompletionValues {
    /// `-P`: built-in and defined permission profiles.
    PermissionProfiles,
    /// `-p`: the profile files in `$CODEX_HOME`.
    Profiles,
}

impl CompletionValues {
    fn flag(self) -> &'static str {
        match self {
            CompletionValues::PermissionProfiles => "permission-profiles",
            CompletionValues::Profiles => "profiles",
        }
    }

    /// The options (long, short) whose values these are.
    fn options(self) -> (&'static str, char) {
        match self {
            CompletionValues::PermissionProfiles => ("permission-profile", 'P'),
            CompletionValues::Profiles => ("profile", 'p'),
        }
    }
}

const KINDS: [CompletionValues; 2] = [
    CompletionValues::PermissionProfiles,
    CompletionValues::Profiles,
];

pub fn run(args: CompletionArgs, mut command: Command) -> anyhow::Result<ExitCode> {
    let text = match args.values {
        Some(kind) => candidates(kind).join("\n") + "\n",
        None => {
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "codex", &mut script);
            patch(args.shell, &String::from_utf8_lossy(&script))
        }
    };
    crate::output::write(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Names for `kind`; errors (no CODEX_HOME, a broken configuration) leave what is known.
fn candidates(kind: CompletionValues) -> Vec<String> {
    let Ok(codex_home) = codex_config::find_codex_home() else {
        return Vec::new();
    };
    match kind {
        CompletionValues::Profiles => profile_names(&codex_home),
        CompletionValues::PermissionProfiles => {
            let Ok(cwd) = std::env::current_dir() else {
                return Vec::new();
            };
            let mut options = LoaderOptions::new(cwd, codex_home);
            options.requirements = RequirementsMode::Ignore;
            options.defer_sandbox_refusals = true;
            match codex_config::load_config(&options) {
                Ok(config) => config.permission_profile_names(),
                // A configuration that does not load (often because of the very profile being
                // chosen) still offers the built-ins and the user file's profiles.
                Err(_) => {
                    let catalog = read_user_config(&options.codex_home);
                    let profiles = catalog
                        .as_ref()
                        .and_then(|table| table.get("permissions"))
                        .and_then(toml::Value::as_table);
                    codex_config::permission_profile_names(profiles)
                }
            }
        }
    }
}

/// `$CODEX_HOME/config.toml` as a table (at most 1 MiB, like the loader); `None` when it
/// cannot be read or parsed.
fn read_user_config(codex_home: &std::path::Path) -> Option<toml::Table> {
    use std::io::Read as _;
    let file = std::fs::File::open(codex_home.join("config.toml")).ok()?;
    let mut text = String::new();
    file.take(1024 * 1024).read_to_string(&mut text).ok()?;
    toml::from_str(&text).ok()
}

/// `<name>` for every `$CODEX_HOME/<name>.config.toml` whose name `--profile` accepts.
fn profile_names(codex_home: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(codex_home) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file_name = entry.file_name().into_string().ok()?;
            let name = file_name.strip_suffix(".config.toml")?;
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            valid.then(|| name.to_string())
        })
        .collect();
    names.sort();
    names
}

/// Replace file-name completion of `-P`/`-p` with the names the binary lists.
fn patch(shell: Shell, script: &str) -> String {
    match shell {
        Shell::Bash => patch_bash(script),
        Shell::Zsh => patch_zsh(script),
        Shell::Fish => patch_fish(script),
        _ => script.to_string(),
    }
}

/// Defined before clap's function: complete the whole word being typed (bash splits words at
/// `:`, which every built-in profile starts with), then drop the part before the last `:` as
/// bash-completion's `__ltrim_colon_completions` does.
const BASH_HELPER: &str = r#"_codex_values() {
    local word="${COMP_LINE:0:COMP_POINT}"
    word="${word##*[[:space:]=]}"
    local values
    values="$("${COMP_WORDS[0]}" completion --values "$1" 2>/dev/null)"
    COMPREPLY=($(compgen -W "${values}" -- "${word}"))
    if [[ "${word}" == *:* && "${COMP_WORDBREAKS}" == *:* ]]; then
        local prefix="${word%"${word##*:}"}"
        local i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[$i]="${COMPREPLY[$i]#"$prefix"}"
        done
    fi
}

"#;

fn patch_bash(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + BASH_HELPER.len());
    out.push_str(BASH_HELPER);
    let mut pending: Option<CompletionValues> = None;
    for line in script.lines() {
        let trimmed = line.trim();
        if let Some(kind) = KINDS.iter().copied().find(|kind| {
            let (long, short) = kind.options();
            trimmed == format!("--{long})") || trimmed == format!("-{short})")
        }) {
            pending = Some(kind);
        } else if let Some(kind) = pending.take()
            && trimmed == "COMPREPLY=($(compgen -f \"${cur}\"))"
        {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!("{indent}_codex_values {}\n", kind.flag()));
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if trimmed == "prev=\"$3\"" {
            // `-P :w` is split into `-P`, `:`, `w`: the option is the word before the `:`.
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(&format!(
                "{indent}if [[ \"${{prev}}\" == \":\" && ${{COMP_CWORD}} -ge 2 ]]; then prev=\"${{COMP_WORDS[COMP_CWORD-2]}}\"; fi\n"
            ));
        }
    }
    out
}

fn patch_zsh(script: &str) -> String {
    let helper = "\n_codex_values() {\n    local -a values\n    values=(${(f)\"$(${words[1]} completion --values $1 2>/dev/null)\"})\n    compadd -a values\n}\n";
    let mut out = String::with_capacity(script.len() + helper.len());
    for (index, line) in script.lines().enumerate() {
        let kind = KINDS.iter().copied().find(|kind| {
            let (long, short) = kind.options();
            line.starts_with(&format!("'-{short}+[")) || line.starts_with(&format!("'--{long}=["))
        });
        match kind {
            Some(kind) if line.contains(":_default'") => out.push_str(&line.replacen(
                ":_default'",
                &format!(":_codex_values {}'", kind.flag()),
                1,
            )),
            _ => out.push_str(line),
        }
        out.push('\n');
        if index == 0 {
            out.push_str(helper);
        }
    }
    out
}

fn patch_fish(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    for line in script.lines() {
        out.push_str(line);
        if let Some(kind) = KINDS.iter().copied().find(|kind| {
            let (long, short) = kind.options();
            line.contains(&format!(" -s {short} -l {long} ")) && line.ends_with(" -r")
        }) {
            out.push_str(&format!(
                " -f -a \"(codex completion --values {} 2>/dev/null)\"",
                kind.flag()
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_are_the_config_files_with_valid_names() {
        let home = tempfile::tempdir().unwrap();
        for file in [
            "work.config.toml",
            "b-2.config.toml",
            "config.toml",
            ".config.toml",
            "bad name.config.toml",
            "notes.toml",
        ] {
            std::fs::write(home.path().join(file), "").unwrap();
        }
        assert_eq!(profile_names(home.path()), ["b-2", "work"]);
    }

    #[test]
    fn patches_only_the_value_lines_of_the_two_options() {
        let bash = "        -P)\n            COMPREPLY=($(compgen -f \"${cur}\"))\n        --cd)\n            COMPREPLY=($(compgen -f \"${cur}\"))\n";
        let patched = patch_bash(bash);
        assert!(patched.contains("    _codex_values permission-profiles\n"));
        assert_eq!(patched.matches("compgen -f").count(), 1, "{patched}");

        let zsh = "#compdef codex\n'-P+[x]:NAME:_default' \\\n'--profile=[y]:NAME:_default' \\\n'--cd=[z]:DIR:_default' \\\n";
        let patched = patch_zsh(zsh);
        assert!(
            patched.starts_with("#compdef codex\n\n_codex_values() {"),
            "{patched}"
        );
        assert!(patched.contains("'-P+[x]:NAME:_codex_values permission-profiles' \\\n"));
        assert!(patched.contains("'--profile=[y]:NAME:_codex_values profiles' \\\n"));
        assert!(
            patched.contains("'--cd=[z]:DIR:_default' \\\n"),
            "{patched}"
        );

        let fish = "complete -c codex -s p -l profile -d 'x' -r\ncomplete -c codex -s C -l cd -r\n";
        let patched = patch_fish(fish);
        assert_eq!(patched.matches("--values profiles").count(), 1, "{patched}");
    }
}
