//! Ranking candidates and phrasing the suggestion.

use crate::distance::edit_distance;

/// At most this many names are suggested.
pub const MAX_SUGGESTIONS: usize = 3;

/// Names shorter than this are not matched by prefix (`l` is not a prefix match for `login`).
const MIN_PREFIX: usize = 3;

/// How a candidate matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    /// Equal after normalisation (case, `-`/`_`, a leading `:`).
    Normalised,
    /// One name starts with the other.
    Prefix,
    /// Within the edit-distance cutoff.
    Edit,
}

/// Lowercase, `-` → `_`, without a leading `:`.
fn normalise(name: &str) -> String {
    name.strip_prefix(':')
        .unwrap_or(name)
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '-' { '_' } else { c })
        .collect()
}

/// The largest edit distance accepted between names of these lengths: a third of the longer
/// one, and at least 1.
fn cutoff(input_len: usize, candidate_len: usize) -> usize {
    (input_len.max(candidate_len) / 3).max(1)
}

/// The candidates closest to `input`, best first: equal after normalisation, then prefix
/// matches, then by edit distance; ties are broken by the distance, then by name, so the order
/// never depends on the order of `candidates`. At most [`MAX_SUGGESTIONS`], duplicates removed;
/// an input equal to a candidate yields that candidate alone; empty when nothing is close.
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted = normalise(input);
    let wanted_len = wanted.chars().count();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut ranked: Vec<(Match, usize, &'a str)> = Vec::new();
    for candidate in candidates {
        if candidate == input {
            return vec![candidate];
        }
        let name = normalise(candidate);
        let name_len = name.chars().count();
        let distance = edit_distance(&wanted, &name);
        let kind = if name == wanted {
            Match::Normalised
        } else if wanted_len.min(name_len) >= MIN_PREFIX
            && (name.starts_with(&wanted) || wanted.starts_with(&name))
        {
            Match::Prefix
        } else if distance <= cutoff(wanted_len, name_len) {
            Match::Edit
        } else {
            continue;
        };
        ranked.push((kind, distance, candidate));
    }
    ranked.sort_unstable();
    ranked.dedup_by(|a, b| a.2 == b.2);
    if let Some(first) = ranked.first()
        && first.0 == Match::Normalised
    {
        ranked.retain(|entry| entry.0 == Match::Normalised);
    }
    ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, name)| name)
        .collect()
}

/// ``did you mean `a`?``, ``did you mean `a` or `b`?``, ``did you mean `a`, `b` or `c`?``;
/// `None` for no names.
pub fn did_you_mean<S: AsRef<str>>(names: &[S]) -> Option<String> {
    let quoted: Vec<String> = names
        .iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect();
    let (last, rest) = quoted.split_last()?;
    if rest.is_empty() {
        return Some(format!("did you mean {last}?"));
    }
    Some(format!("did you mean {} or {last}?", rest.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBCOMMANDS: &[&str] = &[
        "sandbox",
        "login",
        "logout",
        "config",
        "features",
        "completion",
        "help",
    ];
    const PROFILES: &[&str] = &[":read-only", ":workspace", ":danger-full-access", "dev"];
    const FEATURES: &[&str] = &[
        "elevated_windows_sandbox",
        "experimental_windows_sandbox",
        "network_proxy",
        "use_legacy_landlock",
        "use_linux_sandbox_bwrap",
    ];

    fn near(input: &str, candidates: &[&'static str]) -> Vec<&'static str> {
        nearest(input, candidates.iter().copied())
    }

    #[test]
    fn a_missing_colon_finds_the_built_in_profile_alone() {
        assert_eq!(near("workspace", PROFILES), [":workspace"]);
        assert_eq!(near("read-only", PROFILES), [":read-only"]);
        assert_eq!(near("READ_ONLY", PROFILES), [":read-only"]);
    }

    #[test]
    fn typos_find_the_nearest_names() {
        assert_eq!(near("logn", SUBCOMMANDS), ["login"]);
        assert_eq!(near("snadbox", SUBCOMMANDS), ["sandbox"]);
        assert_eq!(near("confg", SUBCOMMANDS), ["config"]);
        assert_eq!(near("featurs", SUBCOMMANDS), ["features"]);
        assert_eq!(near("netwrk_proxy", FEATURES), ["network_proxy"]);
        assert_eq!(near("network-proxy", FEATURES), ["network_proxy"]);
        assert_eq!(near(":worksapce", PROFILES), [":workspace"]);
    }

    #[test]
    fn prefixes_match_both_ways() {
        assert_eq!(near("work", PROFILES), [":workspace"]);
        assert_eq!(near("feature", SUBCOMMANDS), ["features"]);
        assert_eq!(near("logins", SUBCOMMANDS), ["login"]);
        assert_eq!(near("log", SUBCOMMANDS), ["login", "logout"]);
        assert!(near("lo", SUBCOMMANDS).is_empty(), "too short for a prefix");
    }

    #[test]
    fn far_names_are_not_suggested() {
        assert!(near("xyz", SUBCOMMANDS).is_empty());
        assert!(near("deploy", SUBCOMMANDS).is_empty());
        assert!(near("", SUBCOMMANDS).is_empty());
        assert!(near(":", PROFILES).is_empty());
        assert!(near("logn", &[]).is_empty());
    }

    #[test]
    fn order_is_deterministic_whatever_the_candidate_order() {
        let candidates = ["beta", "alpha", "alphb", "alpho"];
        let mut reversed = candidates;
        reversed.reverse();
        let forward = nearest("alphx", candidates);
        assert_eq!(forward, ["alpha", "alphb", "alpho"]);
        assert_eq!(nearest("alphx", reversed), forward);
    }

    #[test]
    fn at_most_three_are_suggested_and_duplicates_are_dropped() {
        let names = ["aaa1", "aaa2", "aaa3", "aaa4", "aaa1"];
        assert_eq!(nearest("aaa", names), ["aaa1", "aaa2", "aaa3"]);
    }

    #[test]
    fn an_exact_name_is_the_only_suggestion() {
        assert_eq!(nearest("login", ["logout", "login"]), ["login"]);
    }

    #[test]
    fn phrasing() {
        assert_eq!(did_you_mean::<&str>(&[]), None);
        assert_eq!(did_you_mean(&["a"]).unwrap(), "did you mean `a`?");
        assert_eq!(
            did_you_mean(&["a", "b"]).unwrap(),
            "did you mean `a` or `b`?"
        );
        assert_eq!(
            did_you_mean(&["a", "b", "c"]).unwrap(),
            "did you mean `a`, `b` or `c`?"
        );
    }
}
