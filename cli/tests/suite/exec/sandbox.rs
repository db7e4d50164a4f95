//! Commands under each sandbox mode, patches, and interruption.
