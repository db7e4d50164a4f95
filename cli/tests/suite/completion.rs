//! `codex completion`: the bash script completes `-P` with profile names and `-p` with the
//! profile files, run in a real bash.

use std::process::Command;

use crate::suite::common::{TestEnv, code, run, stderr, stdout};

/// What the generated bash completion offers for `line` (the cursor at its end).
fn complete(env: &TestEnv, line: &str) -> String {
    let script = env.root().join("codex.bash");
    let output = run(env.codex(["completion", "bash"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    std::fs::write(&script, stdout(&output)).unwrap();
    let binary = env!("CARGO_BIN_EXE_codex");
    let driver = format!(
        r#"source "{script}"
line="{binary} {line}"
COMP_LINE="$line"; COMP_POINT=${{#line}}
# Split as bash does for completion: at blanks, and around `:`.
words=(); for w in $(printf '%s' "$line" | sed 's/:/ : /g'); do words+=("$w"); done
[[ "$line" == *" " ]] && words+=("")
COMP_WORDS=("${{words[@]}}"); COMP_CWORD=$(( ${{#words[@]}} - 1 ))
_codex "{binary}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script = script.display(),
    );
    let output = run(Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", env.home())
        .env("CODEX_HOME", env.codex_home())
        .env("CODEX_SYSTEM_CONFIG_DIR", env.system_dir())
        .current_dir(env.work()));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn permission_profiles_and_profile_files_complete_by_name() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "[permissions.dev.filesystem]\n\":root\" = \"read\"\n",
    );
    env.write("home/.codex/work.config.toml", "");
    env.write("home/.codex/ci.config.toml", "");
    env.write("work/notes.txt", "");
    assert_eq!(
        complete(&env, "sandbox -P "),
        ":read-only\n:workspace\n:danger-full-access\ndev\n"
    );
    assert_eq!(complete(&env, "sandbox -P :w"), "workspace\n");
    assert_eq!(complete(&env, "sandbox --permission-profile d"), "dev\n");
    assert_eq!(complete(&env, "sandbox -p "), "ci\nwork\n");
    assert_eq!(complete(&env, "sandbox --profile w"), "work\n");
    // Other options still complete file names.
    assert_eq!(complete(&env, "sandbox --cd no"), "notes.txt\n");
}
