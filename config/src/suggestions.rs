//! "Did you mean?" for permission profile names and configuration keys.

use std::fmt;

use toml::Table;

use crate::permissions::BUILTIN_PROFILE_NAMES;

/// What a user could have meant by an unknown permission profile name: the nearest names (best
/// first) and every profile that can be selected (built-ins first, then `[permissions]` names
/// sorted). Displays as `; did you mean `…`? (defined profiles: …)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSuggestions {
    pub nearest: Vec<String>,
    pub defined: Vec<String>,
}

impl ProfileSuggestions {
    /// Suggestions for `name` among the built-ins and the profiles of `catalog`.
    pub(crate) fn new(name: &str, catalog: Option<&Table>) -> ProfileSuggestions {
        let defined = permission_profile_names(catalog);
        let nearest = codex_utils_fuzzy_match::nearest(name, defined.iter().map(String::as_str))
            .into_iter()
            .map(str::to_string)
            .collect();
        ProfileSuggestions { nearest, defined }
    }
}

impl fmt::Display for ProfileSuggestions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = codex_utils_fuzzy_match::did_you_mean(&self.nearest) {
            write!(formatter, "; {text}")?;
        }
        if !self.defined.is_empty() {
            let names: Vec<String> = self
                .defined
                .iter()
                .map(|name| format!("`{name}`"))
                .collect();
            write!(formatter, " (defined profiles: {})", names.join(", "))?;
        }
        Ok(())
    }
}

/// The built-in profiles, then the `[permissions]` names of `catalog` sorted (built-in-looking
/// `:` names are left out: they are refused anyway).
pub fn permission_profile_names(catalog: Option<&Table>) -> Vec<String> {
    let mut own: Vec<String> = catalog
        .into_iter()
        .flat_map(Table::keys)
        .filter(|name| !name.starts_with(':'))
        .cloned()
        .collect();
    own.sort();
    BUILTIN_PROFILE_NAMES
        .iter()
        .map(|name| (*name).to_string())
        .chain(own)
        .collect()
}

/// `; did you mean `…`?` for an unknown key among `known`, or an empty string.
pub(crate) fn key_suggestion<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let nearest = codex_utils_fuzzy_match::nearest(key, known);
    codex_utils_fuzzy_match::did_you_mean(&nearest)
        .map(|text| format!("; {text}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_suggestions_list_built_ins_then_own_profiles() {
        let catalog: Table = toml::from_str("[zeta]\n[alpha]\n").unwrap();
        let suggestions = ProfileSuggestions::new("workspace", Some(&catalog));
        assert_eq!(suggestions.nearest, [":workspace"]);
        assert_eq!(
            suggestions.to_string(),
            "; did you mean `:workspace`? (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`, `alpha`, `zeta`)"
        );
        let none = ProfileSuggestions::new("qqqq", None);
        assert_eq!(
            none.to_string(),
            " (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`)"
        );
    }

    #[test]
    fn key_suggestions() {
        assert_eq!(
            key_suggestion("sandbox_mod", ["sandbox_mode", "model"]),
            "; did you mean `sandbox_mode`?"
        );
        assert_eq!(key_suggestion("zzz", ["sandbox_mode"]), "");
    }
}
