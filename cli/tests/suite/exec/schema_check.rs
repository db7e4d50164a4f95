//! The committed JSON Schema of `--json` lines: drift test, and a small validator (the subset
//! of JSON Schema the file uses) applied to every line of a real run.

use codex_test_support::{Reply, Script, sse};
use serde_json::{Value, json};

use super::harness::*;

const COMMITTED: &str = include_str!("../../../../exec/schema/exec-events.schema.json");

/// Regenerate with `CODEX_WRITE_EXEC_SCHEMA=1 cargo test -p codex-cli exec_schema`.
#[test]
fn exec_schema_matches_the_committed_file() {
    let generated = codex_exec::event_schema_text();
    if std::env::var_os("CODEX_WRITE_EXEC_SCHEMA").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../exec/schema/exec-events.schema.json"
        );
        std::fs::write(path, &generated).unwrap();
        return;
    }
    assert_eq!(
        generated, COMMITTED,
        "exec/schema/exec-events.schema.json is stale; regenerate it with CODEX_WRITE_EXEC_SCHEMA=1 cargo test -p codex-cli exec_schema"
    );
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/$defs/");
            &root["$defs"][name]
        }
        None => schema,
    }
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        _ => false,
    }
}

/// `Err(reason)` when `value` does not match `schema`.
pub fn validate(root: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let schema = resolve(root, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| validate(root, option, value).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{matching} oneOf branches match {value}"));
        }
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        return Err(format!("{value} is not {constant}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{value} not in {options:?}"));
    }
    match schema.get("type") {
        Some(Value::String(kind)) if !type_matches(kind, value) => {
            return Err(format!("{value} is not {kind}"));
        }
        Some(Value::Array(kinds))
            if !kinds
                .iter()
                .any(|kind| kind.as_str().is_some_and(|kind| type_matches(kind, value))) =>
        {
            return Err(format!("{value} is none of {kinds:?}"));
        }
        _ => {}
    }
    if let Some(minimum) = schema.get("minimum").and_then(Value::as_i64)
        && value.as_i64().is_some_and(|number| number < minimum)
    {
        return Err(format!("{value} < {minimum}"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // The only pattern used: ^item_[0-9]+$.
        assert_eq!(pattern, "^item_[0-9]+$");
        let text = value.as_str().unwrap_or_default();
        let digits = text.strip_prefix("item_").unwrap_or_default();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{value} does not match {pattern}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(name.as_str().unwrap_or_default()) {
                return Err(format!("missing {name} in {value}"));
            }
        }
        for (key, field) in object {
            match properties.and_then(|properties| properties.get(key)) {
                Some(property) => validate(root, property, field)?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("unexpected key {key} in {value}"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for element in array {
            validate(root, items, element)?;
        }
    }
    Ok(())
}

#[test]
fn validator_rejects_what_the_schema_forbids() {
    let root: Value = serde_json::from_str(COMMITTED).unwrap();
    assert!(validate(&root, &root, &json!({"type": "turn.started"})).is_ok());
    for bad in [
        json!({"type": "turn.started", "extra": 1}),
        json!({"type": "thread.started"}),
        json!({"type": "item.completed", "item": {"id": "x1", "type": "agent_message", "text": "a"}}),
        json!({"type": "item.completed", "item": {"id": "item_1", "type": "command_execution", "command": "c", "aggregated_output": "", "exit_code": "0", "status": "completed"}}),
        json!({"type": "nope"}),
    ] {
        assert!(validate(&root, &root, &bad).is_err(), "{bad}");
    }
}

#[test]
fn every_json_line_of_a_rich_run_matches_the_schema() {
    let patch = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch\n";
    let bad_patch = "*** Begin Patch\n*** Frobnicate File: x\n*** End Patch\n";
    let first = Reply::sse([
        sse::created("r1"),
        sse::reasoning("rs_1", "thinking hard", "enc"),
        sse::message("m1", "Working on it"),
        sse::function_call(
            "c1",
            "update_plan",
            &json!({"plan": [{"step": "a", "status": "in_progress"}]}).to_string(),
        ),
        sse::function_call(
            "c2",
            "exec_command",
            &json!({"cmd": "echo json-run; exit 2"}).to_string(),
        ),
        sse::function_call("c3", "apply_patch", &json!({"input": patch}).to_string()),
        sse::function_call(
            "c4",
            "apply_patch",
            &json!({"input": bad_patch}).to_string(),
        ),
        sse::completed("r1"),
    ]);
    let env = ExecEnv::new(Script::new().then(first).then(answer("all done")));
    let output = env.run(["--json", "-s", "workspace-write", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let root: Value = serde_json::from_str(COMMITTED).unwrap();
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for line in &lines {
        validate(&root, &root, line).unwrap_or_else(|error| panic!("{error}"));
    }
    let types: Vec<String> = lines
        .iter()
        .map(|line| match line["item"]["type"].as_str() {
            Some(item) => format!("{}:{item}", line["type"].as_str().unwrap()),
            None => line["type"].as_str().unwrap().to_string(),
        })
        .collect();
    assert_eq!(
        types,
        [
            "thread.started",
            "item.completed:error",
            "turn.started",
            "item.completed:reasoning",
            "item.completed:agent_message",
            "item.started:todo_list",
            "item.started:command_execution",
            "item.completed:command_execution",
            "item.started:file_change",
            "item.completed:file_change",
            "item.completed:file_change",
            "item.completed:agent_message",
            "item.completed:todo_list",
            "turn.completed",
        ]
    );
    let failed_patch = &lines[10]["item"];
    assert_eq!(failed_patch["status"], "failed");
    assert_eq!(
        std::fs::read_to_string(env.work().join("new.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(lines.last().unwrap()["usage"]["input_tokens"], 200);
    assert_eq!(stderr(&output), "Reading additional input from stdin...\n");
}

#[test]
fn failed_turn_and_retry_lines_match_the_schema() {
    let env = ExecEnv::new(
        Script::new()
            .then(Reply::sse([sse::created("cut"), sse::message("m1", "PARTIAL")]).then_close())
            .then(Reply::sse([sse::failed(
                "r",
                "insufficient_quota",
                "no money",
            )])),
    );
    let output = env.run([
        "--json",
        "-c",
        "model_providers.mock.stream_max_retries=1",
        PROMPT,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let root: Value = serde_json::from_str(COMMITTED).unwrap();
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for line in &lines {
        validate(&root, &root, line).unwrap_or_else(|error| panic!("{error}"));
    }
    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"turn.failed"));
    assert!(lines.iter().any(|line| {
        line["type"] == "error"
            && line["message"]
                .as_str()
                .unwrap()
                .starts_with("Reconnecting... 1/1")
    }));
    assert!(lines.iter().any(|line| line["item"]["text"] == "PARTIAL"));
    assert_eq!(
        lines.last().unwrap()["error"]["message"],
        "Quota exceeded. Check your plan and billing details."
    );
}
