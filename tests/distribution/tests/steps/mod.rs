//! The steps of `krew.rs` beyond the install, one file each.

pub mod manifests;
