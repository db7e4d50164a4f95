//! Protected metadata paths (`.git`, `.codex`, `.agents`) inside writable roots.
