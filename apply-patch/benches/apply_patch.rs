//! Patches per second on a 10 000-line file with a 100-hunk patch (one changed line per hunk,
//! three lines of context on each side, as models write them): parse alone; parse + verify
//! (reads the file, matches every chunk, builds the new text in memory); the same plus the
//! unified diff; and parse + verify + apply with the atomic, fsynced write.
//!
//! Run with `scripts/bench-apply-patch` (release build). `BENCH_SECONDS` sets the time spent
//! per measurement (default 1); `BENCH_ONLY=<text>` runs only the measurements whose name
//! contains it. Most of the in-memory time on this file is page faults: the allocator hands the
//! freed half-megabyte buffers back to the kernel at the top of the heap, so a loop that
//! allocates and frees them gets fresh pages every time. When something else lives above them
//! (here the policy guard, built just before its line) they are reused and the same work is
//! about three times faster; a busy agent process is closer to that case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use codex_apply_patch::{WriteGuard, apply, parse_patch, verify};

#[path = "../tests/suite/common.rs"]
#[expect(
    dead_code,
    reason = "the bench uses only the policy of the test support"
)]
mod common;

use common::workspace_policy;

const LINES: usize = 10_000;
const HUNKS: usize = 100;
const CONTEXT: usize = 3;

fn line(index: usize, version: &str) -> String {
    format!("    let value_{index} = compute({index}, \"{version}\"); // line {index}")
}

fn file(changed: &str) -> String {
    (0..LINES)
        .map(|index| {
            let version = if index % (LINES / HUNKS) == LINES / HUNKS / 2 {
                changed
            } else {
                "same"
            };
            line(index, version) + "\n"
        })
        .collect()
}

/// The patch turning `file(from)` into `file(to)`.
fn patch(from: &str, to: &str) -> String {
    let mut text = String::from("*** Begin Patch\n*** Update File: big.rs\n");
    for hunk in 0..HUNKS {
        let target = hunk * (LINES / HUNKS) + LINES / HUNKS / 2;
        text.push_str("@@\n");
        for index in target - CONTEXT..target {
            text.push_str(&format!(" {}\n", line(index, "same")));
        }
        text.push_str(&format!("-{}\n+{}\n", line(target, from), line(target, to)));
        for index in target + 1..=target + CONTEXT {
            text.push_str(&format!(" {}\n", line(index, "same")));
        }
    }
    text.push_str("*** End Patch\n");
    text
}

/// Run `step` repeatedly for about `budget`; patches per second (each call applies `per_call`).
/// `NaN` (not run) when `BENCH_ONLY` is set and not part of `name`.
fn measure(name: &str, budget: Duration, per_call: usize, mut step: impl FnMut()) -> f64 {
    if std::env::var("BENCH_ONLY").is_ok_and(|only| !name.contains(&only)) {
        return f64::NAN;
    }
    // Warm up (caches, the allocator's thresholds) for a fifth of the budget.
    let warm_up = Instant::now();
    while warm_up.elapsed() < budget / 5 {
        step();
    }
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed() < budget {
        step();
        calls += 1;
    }
    (calls * per_call) as f64 / start.elapsed().as_secs_f64()
}

fn report(name: &str, per_second: f64) {
    if per_second.is_nan() {
        return;
    }
    println!(
        "{name:<34} {per_second:>10.0} patches/s  ({:>8.1} µs/patch)",
        1e6 / per_second
    );
}

fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1.0);
    let budget = Duration::from_secs_f64(seconds);
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    let path = cwd.join("big.rs");
    std::fs::write(&path, file("old")).unwrap();
    let forward = patch("old", "new");
    let backward = patch("new", "old");
    let guard = WriteGuard::unrestricted();
    println!(
        "apply-patch: {LINES}-line file ({} KiB), {HUNKS} hunks with {CONTEXT} lines of context ({} KiB patch)",
        file("old").len() / 1024,
        forward.len() / 1024
    );

    report(
        "parse",
        measure("parse", budget, 1, || {
            black_box(parse_patch(black_box(&forward)).unwrap());
        }),
    );
    report(
        "parse + verify (in memory)",
        measure("parse + verify (in memory)", budget, 1, || {
            let patch = parse_patch(&forward).unwrap();
            black_box(verify(&patch, &cwd, &guard).unwrap());
        }),
    );
    report(
        "parse + verify + unified diff",
        measure("parse + verify + unified diff", budget, 1, || {
            let patch = parse_patch(&forward).unwrap();
            let changes = verify(&patch, &cwd, &guard).unwrap();
            black_box(changes.changes()[0].unified_diff());
        }),
    );
    let policy_guard = WriteGuard::for_policy(&workspace_policy(&cwd));
    report(
        "parse + verify, policy guard",
        measure("parse + verify, policy guard", budget, 1, || {
            let patch = parse_patch(&forward).unwrap();
            black_box(verify(&patch, &cwd, &policy_guard).unwrap());
        }),
    );
    report(
        "parse + verify + apply (atomic)",
        measure("parse + verify + apply (atomic)", budget, 2, || {
            for text in [&forward, &backward] {
                let patch = parse_patch(text).unwrap();
                let changes = verify(&patch, &cwd, &guard).unwrap();
                black_box(apply(&changes).unwrap());
            }
        }),
    );
    assert_eq!(
        std::fs::read_to_string(Path::new(&path)).unwrap(),
        file("old")
    );
}
