//! Issue 14: what a prompt-injected model must never achieve.
