//! Our own "did you mean?" for a mistyped subcommand (clap's suggestion is replaced): the
//! nearest names come from `codex-utils-fuzzy-match`, among the subcommands of the command the
//! name was typed after.

use std::ffi::OsString;

use clap::Command;
use clap::error::{ContextKind, ContextValue, ErrorKind};

/// For an unknown subcommand, the same clap error with our suggestions; other errors unchanged.
pub fn refine(error: clap::Error, root: &Command, args: &[OsString]) -> clap::Error {
    if error.kind() != ErrorKind::InvalidSubcommand {
        return error;
    }
    let Some(ContextValue::String(invalid)) = error.get(ContextKind::InvalidSubcommand) else {
        return error;
    };
    let invalid = invalid.clone();
    let parent = parent_command(root, args, &invalid);
    let names = subcommand_names(parent);
    let nearest = codex_utils_fuzzy_match::nearest(&invalid, names.iter().map(String::as_str));
    let mut refined = clap::Error::new(ErrorKind::InvalidSubcommand).with_cmd(parent);
    refined.insert(
        ContextKind::InvalidSubcommand,
        ContextValue::String(invalid.clone()),
    );
    if !nearest.is_empty() {
        refined.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(nearest.iter().map(|name| name.to_string()).collect()),
        );
    }
    if let Some(usage) = error.get(ContextKind::Usage) {
        refined.insert(ContextKind::Usage, usage.clone());
    }
    refined
}

/// The visible subcommands of `command` (names and visible aliases), plus `help`.
fn subcommand_names(command: &Command) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        names.push(sub.get_name().to_string());
        names.extend(sub.get_visible_aliases().map(str::to_string));
    }
    if command.has_subcommands() && !command.is_disable_help_subcommand_set() {
        names.push("help".to_string());
    }
    names
}

/// The command `invalid` was typed after: follow the subcommands named in `args` (skipping
/// options and their values) until `invalid`.
fn parent_command<'a>(root: &'a Command, args: &[OsString], invalid: &str) -> &'a Command {
    let mut current = root;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            break;
        };
        if text == invalid || text == "--" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            if !long.contains('=') && takes_value(current, |arg| arg.get_long() == Some(long)) {
                rest.next();
            }
            continue;
        }
        if let Some(shorts) = text.strip_prefix('-')
            && let Some(short) = shorts.chars().next()
        {
            // `-cKEY=VALUE` carries its value; `-c KEY=VALUE` takes the next argument.
            if shorts.chars().count() == 1
                && takes_value(current, |arg| arg.get_short() == Some(short))
            {
                rest.next();
            }
            continue;
        }
        match current.find_subcommand(text) {
            Some(sub) => current = sub,
            None => break,
        }
    }
    current
}

fn takes_value(command: &Command, matches: impl Fn(&clap::Arg) -> bool) -> bool {
    command
        .get_arguments()
        .find(|arg| matches(arg))
        .is_some_and(|arg| arg.get_action().takes_values())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> Command {
        Command::new("codex")
            .subcommand_required(true)
            .arg(clap::Arg::new("config").short('c').long("config"))
            .subcommand(
                Command::new("login")
                    .arg(clap::Arg::new("config").short('c').long("config"))
                    .subcommand(Command::new("status")),
            )
            .subcommand(Command::new("logout"))
            .subcommand(Command::new("sandbox").visible_alias("debug"))
            .subcommand(Command::new("secret").hide(true))
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn suggestions(list: &[&str]) -> Option<ContextValue> {
        let args = args(list);
        let error = command().try_get_matches_from(&args).unwrap_err();
        refine(error, &command(), &args)
            .get(ContextKind::SuggestedSubcommand)
            .cloned()
    }

    fn strings(names: &[&str]) -> Option<ContextValue> {
        Some(ContextValue::Strings(
            names.iter().map(|name| name.to_string()).collect(),
        ))
    }

    #[test]
    fn suggests_among_the_subcommands_of_the_right_command() {
        assert_eq!(suggestions(&["codex", "logn"]), strings(&["login"]));
        assert_eq!(
            suggestions(&["codex", "-c", "a=1", "login", "-c", "b=2", "stauts"]),
            strings(&["status"])
        );
        assert_eq!(
            suggestions(&["codex", "--config=a=1", "sandbx"]),
            strings(&["sandbox"])
        );
        assert_eq!(suggestions(&["codex", "debgu"]), strings(&["debug"]));
    }

    #[test]
    fn hidden_subcommands_are_not_suggested_and_far_names_get_none() {
        assert_eq!(suggestions(&["codex", "secrte"]), None);
        assert_eq!(suggestions(&["codex", "deploy"]), None);
    }

    #[test]
    fn other_errors_are_unchanged() {
        let args = args(&["codex", "--nope"]);
        let error = command().try_get_matches_from(&args).unwrap_err();
        let kind = error.kind();
        assert_eq!(refine(error, &command(), &args).kind(), kind);
    }
}
