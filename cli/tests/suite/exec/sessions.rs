//! Rollout files, `--ephemeral`, resume.
