//! The steps of `krew.rs` beyond the install, one file each: the plugins' real commands through
//! kubectl, and what the manifests say.

pub mod commands;
pub mod manifests;
