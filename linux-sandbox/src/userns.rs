//! Whether unprivileged user namespaces (which bubblewrap needs) are available. Only cheap
//! `/proc/sys` reads: used by `plan()` for definite answers and by errors for hints.

use std::path::Path;

pub(crate) const ENABLE_HINT: &str = "enable user namespaces (e.g. `sysctl -w kernel.unprivileged_userns_clone=1`, `sysctl -w user.max_user_namespaces=15000`, or on Ubuntu `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` / an AppArmor profile for bwrap), or opt into the legacy Landlock backend with `-c use_legacy_landlock=true`";

/// The sysctl values that decide whether a user namespace can be created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UserNamespaceSysctls {
    pub max_user_namespaces: Option<u64>,
    pub unprivileged_userns_clone: Option<u64>,
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
}

impl UserNamespaceSysctls {
    pub(crate) fn read() -> Self {
        UserNamespaceSysctls {
            max_user_namespaces: read_number("/proc/sys/user/max_user_namespaces"),
            unprivileged_userns_clone: read_number("/proc/sys/kernel/unprivileged_userns_clone"),
            apparmor_restrict_unprivileged_userns: read_number(
                "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            ),
        }
    }

    /// A setting that certainly prevents creating a user namespace, if any.
    pub(crate) fn definite_blocker(&self, privileged: bool) -> Option<String> {
        if self.max_user_namespaces == Some(0) {
            return Some("`user.max_user_namespaces` is 0".to_string());
        }
        if !privileged && self.unprivileged_userns_clone == Some(0) {
            return Some("`kernel.unprivileged_userns_clone` is 0".to_string());
        }
        None
    }

    /// Every setting that may prevent it (for a hint after bubblewrap failed).
    pub(crate) fn possible_blocker(&self, privileged: bool) -> Option<String> {
        if let Some(reason) = self.definite_blocker(privileged) {
            return Some(reason);
        }
        if !privileged && self.apparmor_restrict_unprivileged_userns == Some(1) {
            return Some(
                "AppArmor restricts unprivileged user namespaces (`kernel.apparmor_restrict_unprivileged_userns` is 1)"
                    .to_string(),
            );
        }
        None
    }
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(Path::new(path))
        .ok()
        .and_then(|text| text.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_max_namespaces_blocks_everyone() {
        let sysctls = UserNamespaceSysctls {
            max_user_namespaces: Some(0),
            ..Default::default()
        };
        assert!(sysctls.definite_blocker(true).is_some());
    }

    #[test]
    fn debian_switch_only_blocks_unprivileged_users() {
        let sysctls = UserNamespaceSysctls {
            max_user_namespaces: Some(1000),
            unprivileged_userns_clone: Some(0),
            apparmor_restrict_unprivileged_userns: None,
        };
        assert_eq!(sysctls.definite_blocker(true), None);
        assert!(sysctls.definite_blocker(false).is_some());
    }

    #[test]
    fn apparmor_restriction_is_only_a_possible_blocker() {
        let sysctls = UserNamespaceSysctls {
            max_user_namespaces: Some(1000),
            unprivileged_userns_clone: None,
            apparmor_restrict_unprivileged_userns: Some(1),
        };
        assert_eq!(sysctls.definite_blocker(false), None);
        assert!(sysctls.possible_blocker(false).is_some());
        assert_eq!(sysctls.possible_blocker(true), None);
    }
}
