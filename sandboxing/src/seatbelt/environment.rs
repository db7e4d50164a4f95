//! The command's complete environment: the caller's (already filtered by
//! `shell_environment_policy`) with the sandbox's own variables applied on top.
//!
//! The runner clears its environment and sets exactly this list, so nothing of the process that
//! builds the plan leaks into the command.

use std::ffi::{OsStr, OsString};

use super::SeatbeltPlanError;

/// `caller` with every name of `changes` removed, then `changes` appended. A name that appears
/// more than once in `caller` keeps its last value, at the position of its first appearance.
pub(crate) fn complete(
    caller: &[(OsString, OsString)],
    changes: &[(String, String)],
) -> Result<Vec<(OsString, OsString)>, SeatbeltPlanError> {
    let mut env: Vec<(OsString, OsString)> = Vec::with_capacity(caller.len() + changes.len());
    for (name, value) in caller {
        check(name, value)?;
        if changes.iter().any(|(changed, _)| name == changed.as_str()) {
            continue;
        }
        match env.iter_mut().find(|(existing, _)| existing == name) {
            Some(entry) => entry.1 = value.clone(),
            None => env.push((name.clone(), value.clone())),
        }
    }
    env.extend(
        changes
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value))),
    );
    Ok(env)
}

/// The names only (values may be secrets), for `Debug`.
pub(crate) fn names(env: &[(OsString, OsString)]) -> Vec<&OsStr> {
    env.iter().map(|(name, _)| name.as_os_str()).collect()
}

/// A name must be non-empty without `=` or NUL (`NAME=VALUE` would otherwise set another
/// variable than the one meant); a value must not contain NUL (it could not be passed).
fn check(name: &OsStr, value: &OsStr) -> Result<(), SeatbeltPlanError> {
    let name_bytes = name.as_encoded_bytes();
    if name_bytes.is_empty() || name_bytes.contains(&b'=') || name_bytes.contains(&0) {
        return Err(SeatbeltPlanError::InvalidEnvironmentName {
            name: printable(name),
        });
    }
    if value.as_encoded_bytes().contains(&0) {
        return Err(SeatbeltPlanError::InvalidEnvironmentValue {
            name: printable(name),
        });
    }
    Ok(())
}

fn printable(name: &OsStr) -> String {
    name.to_string_lossy()
        .chars()
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        items
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    #[test]
    fn changes_override_the_caller_and_duplicates_collapse() {
        let caller = pairs(&[
            ("PATH", "/usr/bin"),
            ("CODEX_SANDBOX", "none"),
            ("HOME", "/Users/dev"),
            ("PATH", "/bin"),
        ]);
        let changes = vec![("CODEX_SANDBOX".to_string(), "seatbelt".to_string())];
        assert_eq!(
            complete(&caller, &changes).unwrap(),
            pairs(&[
                ("PATH", "/bin"),
                ("HOME", "/Users/dev"),
                ("CODEX_SANDBOX", "seatbelt")
            ])
        );
    }

    #[test]
    fn malformed_names_and_values_are_refused_without_showing_the_value() {
        for name in ["", "A=B", "A\0B"] {
            let caller = pairs(&[(name, "v")]);
            assert!(matches!(
                complete(&caller, &[]),
                Err(SeatbeltPlanError::InvalidEnvironmentName { .. })
            ));
        }
        let caller = pairs(&[("TOKEN", "sec\0ret")]);
        let error = complete(&caller, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the value of environment variable `TOKEN` contains a NUL byte"
        );
    }
}
