//! macOS Seatbelt: the `sandbox-exec` invocation and denial-log parsing.
