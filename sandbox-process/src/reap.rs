//! Killing every descendant of a subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of a sandboxed
//! command (double forks, `setsid`) are re-parented to the subreaper, so killing its children
//! until none is left ends the whole tree.

use std::io;

/// The pids whose parent is `parent`, from `/proc/<pid>/stat`.
fn children_of(parent: i32) -> io::Result<Vec<i32>> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the command name may hold spaces and parentheses.
        let Some(close) = stat.iter().rposition(|byte| *byte == b')') else {
            continue;
        };
        let rest = String::from_utf8_lossy(&stat[close + 1..]);
        let mut fields = rest.split_whitespace();
        let _state = fields.next();
        if fields.next().and_then(|ppid| ppid.parse::<i32>().ok()) == Some(parent) {
            children.push(pid);
        }
    }
    Ok(children)
}

/// SIGKILL every child of this process, reap, and repeat until none is left (grandchildren
/// re-parent here as their parents die). Only our own children are signalled: they cannot be
/// reaped by anyone else, so their pids cannot be reused meanwhile.
pub fn kill_all_children() {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    for _ in 0..10_000 {
        let children = children_of(me).unwrap_or_default();
        for child in &children {
            // SAFETY: signals one of our own unreaped children.
            unsafe { libc::kill(*child, libc::SIGKILL) };
        }
        // Reap everything that has died, waiting for at least one when some were signalled.
        let mut reaped_any = false;
        loop {
            let flags = if children.is_empty() || reaped_any {
                libc::WNOHANG
            } else {
                0
            };
            let mut status = 0;
            // SAFETY: reaps any child of ours; `status` is a valid out-pointer.
            let result = unsafe { libc::waitpid(-1, &mut status, flags) };
            if result > 0 {
                reaped_any = true;
                continue;
            }
            break;
        }
        if children.is_empty() {
            return;
        }
    }
}
