//! Killing every descendant of a subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of a sandboxed
//! command (double forks, `setsid`) are re-parented to the subreaper, so killing its children
//! until none is left ends the whole tree.

use std::io;

/// Kill every descendant (as a subreaper, every orphan of the tree is our child) and reap them
/// all, until this process has no child left.
///
/// Each round SIGKILLs every child and, depth first, each one's own children: a process is
/// signalled before its children are listed, so the listing cannot be stale (a dying process
/// does not reap, and only we reap the orphans). A signalled process cannot fork any more
/// (a fatal signal aborts a `fork` in progress), so what a round misses was forked by a process
/// not yet signalled in it, and every round reaps at least one process: against a tree that
/// keeps forking the loop ends once the processes in flight are gone, bounded by the process
/// limit (`RLIMIT_NPROC` for a non-root user; the pids cgroup, which codex also kills, for root).
pub fn kill_descendants() {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    loop {
        for child in children_of(me) {
            kill_subtree(child, 0);
        }
        let mut status = 0;
        // SAFETY: waits for any child of ours; `status` is a valid out-pointer.
        let reaped = unsafe { libc::waitpid(-1, &mut status, 0) };
        if reaped < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                // ECHILD: nothing is left.
                _ => return,
            }
        }
        // Reap whatever else has died before listing again.
        // SAFETY: as above, without waiting.
        while unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } > 0 {}
    }
}

/// SIGKILL `pid`, then its children (listed once it is signalled), depth first.
fn kill_subtree(pid: i32, depth: usize) {
    // SAFETY: `pid` is our unreaped child or the child of a process we signalled (which can no
    // longer reap it), so the number still names that process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    // Deeper trees are reached in later rounds, as their parents die and they become ours.
    if depth < 64 {
        for grandchild in children_of(pid) {
            kill_subtree(grandchild, depth + 1);
        }
    }
}

/// The children of every thread of `pid` (`/proc/<pid>/task/<tid>/children`).
pub fn children_of(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        children.extend(
            list.split_whitespace()
                .filter_map(|child| child.parse::<i32>().ok()),
        );
    }
    children
}
