//! Support for the distribution tests (`tests/krew.rs`): the release built once per test binary
//! with `krew/release.sh`, the archives served over HTTP on 127.0.0.1, and a krew user's
//! environment (its own HOME, KREW_ROOT and PATH) to run kubectl, krew and the validator in.
//!
//! Building the release costs one `cargo build --release` of the four plugins (about 10 minutes
//! on 2 cores from a cold target directory, seconds when nothing changed).

mod release;
mod serve;
mod user;

pub use release::{PLUGINS, Platform, Release, executable};
pub use serve::Server;
pub use user::{KrewUser, Output};
