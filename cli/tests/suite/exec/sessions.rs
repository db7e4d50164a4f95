//! Rollout files, `--ephemeral`, resume by id and `--last`.

use std::os::unix::fs::PermissionsExt;

use codex_test_support::Script;
use serde_json::Value;

use super::harness::*;

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn rollout_is_written_private_and_ephemeral_writes_nothing() {
    let env = ExecEnv::new(Script::new().otherwise(answer("saved")));
    let output = env.exec([PROMPT]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let files = env.rollouts();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("rollout-") && name.ends_with(".jsonl"),
        "{name}"
    );
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(env.codex_home().join("sessions"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let lines = records(&files[0]);
    assert_eq!(lines[0]["type"], "session_meta");
    let id = lines[0]["payload"]["id"].as_str().unwrap();
    assert!(name.contains(id));
    assert!(stderr(&output).contains(&format!("session id: {id}")));
    assert!(
        lines
            .iter()
            .any(|line| line["payload"]["type"] == "task_complete")
    );
    assert!(
        lines
            .iter()
            .any(|line| line["type"] == "response_item" && line["payload"]["role"] == "assistant")
    );

    let ephemeral = ExecEnv::new(Script::new().otherwise(answer("gone")));
    let output = ephemeral.run(["--ephemeral", PROMPT]);
    assert_eq!(output.status.code(), Some(0));
    assert!(ephemeral.rollouts().is_empty());
}

#[test]
fn resume_by_id_and_last_append_and_replay_the_history() {
    let env = ExecEnv::new(Script::new().otherwise(answer("first answer")));
    assert_eq!(env.run(["first task"]).status.code(), Some(0));
    let file = env.rollouts()[0].clone();
    let id = records(&file)[0]["payload"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let by_id = env.run(["resume", &id, "second task"]);
    assert_eq!(by_id.status.code(), Some(0), "{}", stderr(&by_id));
    let last = env.run(["resume", "--last", "third task"]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    assert_eq!(
        env.rollouts(),
        vec![file.clone()],
        "the same file is appended"
    );
    let bodies = env.bodies();
    assert_eq!(bodies.len(), 3);
    let texts: Vec<String> = bodies[2]["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["content"][0]["text"].as_str().map(str::to_string))
        .collect();
    for expected in ["first task", "first answer", "second task", "third task"] {
        assert!(
            texts.iter().any(|text| text == expected),
            "{expected} missing from {texts:?}"
        );
    }
    let mut json = env
        .exec(["resume", "--last", "--json", "fourth"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0));
    let first: Value = serde_json::from_str(stdout(&json).lines().next().unwrap()).unwrap();
    assert_eq!(first["thread_id"], id.as_str());
    // `--last` only matches this directory unless `--all`.
    json = env
        .exec(["resume", "--last", "x"])
        .current_dir(env.outside())
        .arg("--skip-git-repo-check")
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let all = env
        .exec(["--skip-git-repo-check", "resume", "--last", "--all", "y"])
        .current_dir(env.outside())
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    // An id and `--last` together is a usage error.
    let conflict = env.run(["resume", "--last", &id, "z"]);
    assert_eq!(conflict.status.code(), Some(2));
}

#[test]
fn ephemeral_resume_replays_without_appending() {
    let env = ExecEnv::new(Script::new().otherwise(answer("first answer")));
    assert_eq!(env.run(["first task"]).status.code(), Some(0));
    let file = env.rollouts()[0].clone();
    let before = std::fs::read_to_string(&file).unwrap();
    let output = env.run(["--ephemeral", "resume", "--last", "again"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "an ephemeral resume wrote to the file"
    );
    let last = env.bodies().pop().unwrap().to_string();
    assert!(
        last.contains("first task") && last.contains("again"),
        "{last}"
    );
}
