//! The steps of `krew.rs` after the install, one file each: the plugins' real commands through
//! kubectl, kubectl's live completion of their arguments, and what the manifests say.

pub mod commands;
pub mod completion;
pub mod manifests;
