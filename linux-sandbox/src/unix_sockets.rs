//! Host pathname unix sockets, from `/proc/net/unix` of the caller's network namespace.
//!
//! When the network is restricted but some socket paths are allowed, `connect()` must stay
//! possible for `AF_UNIX`, so every *other* bound pathname socket visible in the sandbox is masked.
//! Residual gap: sockets bound after the plan was made, and sockets bound in other network
//! namespaces (they are not listed here), stay reachable if their path is visible.

use std::path::PathBuf;

use crate::error::PlanSandboxError;

/// Bound pathname sockets of the current network namespace (abstract ones are skipped: a new
/// network namespace hides them).
pub(crate) fn host_socket_paths() -> Result<Vec<PathBuf>, PlanSandboxError> {
    let text = std::fs::read("/proc/net/unix")
        .map_err(|source| PlanSandboxError::UnixSocketList { source })?;
    Ok(parse(&text))
}

/// Parse `/proc/net/unix`: `Num RefCount Protocol Flags Type St Inode [Path]`.
pub(crate) fn parse(text: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut paths: Vec<PathBuf> = text
        .split(|byte| *byte == b'\n')
        .skip(1)
        .filter_map(|line| {
            let mut rest = line;
            for _ in 0..7 {
                let trimmed = trim_start(rest);
                let end = trimmed.iter().position(|byte| *byte == b' ')?;
                rest = &trimmed[end..];
            }
            let path = trim_start(rest);
            (path.first() == Some(&b'/')).then(|| PathBuf::from(std::ffi::OsStr::from_bytes(path)))
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| *byte != b' ')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_pathname_sockets_and_skips_abstract_and_unbound_ones() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n\
0000000000000000: 00000002 00000000 00010000 0001 01 20316 /run/systemd/private\n\
0000000000000000: 00000002 00000000 00010000 0001 01 17412 @/org/kernel/abstract\n\
0000000000000000: 00000003 00000000 00000000 0001 03 31337\n\
0000000000000000: 00000002 00000000 00010000 0001 01 20317 /tmp/with space.sock\n\
0000000000000000: 00000002 00000000 00010000 0001 01 20318 /run/systemd/private\n";
        assert_eq!(
            parse(text),
            vec![
                PathBuf::from("/run/systemd/private"),
                PathBuf::from("/tmp/with space.sock")
            ]
        );
    }

    #[test]
    fn reads_the_live_table() {
        // Fails closed rather than returning an empty list when the table cannot be read.
        let paths = host_socket_paths().unwrap();
        assert!(paths.iter().all(|path| path.is_absolute()));
    }
}
