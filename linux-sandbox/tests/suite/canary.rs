//! The machine features the other tests rely on. If one is missing, this fails, so coverage is
//! never skipped silently (e.g. a TIOCSTI probe that cannot succeed even unsandboxed).

fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_string())
}

#[test]
fn machine_matches_the_expected_kernel_features() {
    let mut missing = Vec::new();
    if !std::path::Path::new("/usr/bin/bwrap").exists() {
        missing.push("bubblewrap at /usr/bin/bwrap".to_string());
    }
    if !super::harness::is_root() {
        missing.push("running as root (needed to also run the matrix as uid 65534)".to_string());
    }
    if sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        missing.push("user namespaces (user.max_user_namespaces is 0)".to_string());
    }
    if sysctl("/proc/sys/kernel/io_uring_disabled").is_some_and(|value| value != "0") {
        missing.push(
            "io_uring enabled (kernel.io_uring_disabled = 0) for the io_uring probe's control"
                .to_string(),
        );
    }
    if sysctl("/proc/sys/dev/tty/legacy_tiocsti").is_some_and(|value| value != "1") {
        missing.push("dev.tty.legacy_tiocsti = 1 for the TIOCSTI probe's control".to_string());
    }
    // SAFETY: querying the Landlock ABI version with a NULL attribute has no memory effects.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    if abi < 6 {
        missing.push(format!(
            "Landlock ABI >= 6 (signal and abstract socket scoping), found {abi}"
        ));
    }
    assert!(
        missing.is_empty(),
        "this machine lacks: {}",
        missing.join(", ")
    );
}
