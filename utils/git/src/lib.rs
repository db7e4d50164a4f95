//! Git metadata read directly from `.git`, never by running `git`: a repository (or a sandboxed
//! command that could write into it) can configure `git` to run programs (`core.fsmonitor`,
//! hooks, filters), so security decisions read the files themselves.
//!
//! - `files`: bounded reads of small regular files (a FIFO or a huge file never blocks or
//!   exhausts the reader).
//! - `repository`: finding a repository, its git directory (through a `gitdir:` pointer) and
//!   common directory (linked worktrees), its object format, its linked worktrees.
//! - `index`: the index (`DIRC` versions 2–4): gitlinks (submodules) and tracked blobs.
//! - `object`: blob object ids (SHA-1 or SHA-256), to tell whether a file matches the index.
//! - `config`: where git configuration sends the next `git` for code (`core.hooksPath`,
//!   included files).

mod config;
mod files;
mod index;
mod object;
mod repository;

pub use config::ConfigLocations;
pub use config::ConfigPointers;
pub use files::read_small_regular_file;
pub use index::Index;
pub use index::IndexEntry;
pub use index::IndexError;
pub use index::MAX_INDEX_BYTES;
pub use object::ObjectFormat;
pub use object::blob_id;
pub use repository::Repository;
pub use repository::TrackedState;
