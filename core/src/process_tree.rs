//! Killing a process and everything below it, race-free against a tree that is still starting.
//!
//! The sandbox library kills a sandbox on cancel, but a cancel that arrives while bubblewrap is
//! still creating its inner process (its own session and pid namespace, whose parent-death
//! signal is not armed yet) can leave that inner process behind. Stopping the tree top-down
//! first closes that window: a stopped process cannot finish a `clone`, so every process is
//! seen before any is killed.

/// The children of every process, from `/proc/<pid>/stat`.
fn children_of(parents: &[i32]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                .is_some_and(|parent| parents.contains(&parent))
        })
        .collect()
}

fn signal(pid: i32, signal: libc::c_int) {
    // SAFETY: kill(2) takes no pointers.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Kill `root` and every process below it. Each process is stopped first, top-down, so none
/// can start another one (or finish starting the sandbox's inner process, which lives in its
/// own session and pid namespace) while the tree is collected; then all are killed.
pub(crate) fn kill_tree(root: u32) {
    let Ok(root) = i32::try_from(root) else {
        return;
    };
    let mut tree = vec![root];
    signal(root, libc::SIGSTOP);
    loop {
        let fresh: Vec<i32> = children_of(&tree)
            .into_iter()
            .filter(|pid| !tree.contains(pid))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for pid in &fresh {
            signal(*pid, libc::SIGSTOP);
        }
        tree.extend(fresh);
    }
    for pid in tree {
        signal(pid, libc::SIGKILL);
    }
    signal(-root, libc::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_the_root_and_every_descendant() {
        let marker = format!("1000.{}3", std::process::id());
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "sh -c 'sleep {marker} & sleep {marker}' & sleep {marker}; wait"
            ))
            .spawn()
            .unwrap();
        let matching = || -> Vec<i32> {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter(|entry| {
                    std::fs::read(entry.path().join("cmdline")).is_ok_and(|line| {
                        String::from_utf8_lossy(&line).starts_with(&format!("sleep\0{marker}"))
                    })
                })
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while matching().len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "the tree never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        kill_tree(child.id());
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !matching().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let left = matching();
        for pid in &left {
            signal(*pid, libc::SIGKILL);
        }
        assert!(left.is_empty(), "{left:?} left");
    }
}
