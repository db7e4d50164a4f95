//! "Did you mean?" for names a user typed: subcommands, permission profiles, feature flags,
//! configuration keys.
//!
//! - [`nearest`]: the closest candidates to a mistyped name, best first, deterministic.
//! - [`did_you_mean`]: the suggestion as text (``did you mean `x`?``).
//! - [`edit_distance`]: the distance used for ranking.
//!
//! Matching is case-insensitive, treats `-` and `_` alike, and ignores a leading `:` (so
//! `workspace` finds `:workspace`). A candidate is kept when it is equal after that
//! normalisation, when one name is a prefix of the other (3 characters or more), or when the
//! edit distance (insertions, deletions, substitutions and swaps of two neighbours) is at most
//! a third of the longer name, and at least 1.

mod distance;
mod suggest;

pub use distance::edit_distance;
pub use suggest::MAX_SUGGESTIONS;
pub use suggest::did_you_mean;
pub use suggest::nearest;
