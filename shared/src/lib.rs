//! Cluster helpers shared by the kube-runbooks kubectl plugins.
//!
//! Every plugin follows the same path: parse [`cli::KubectlFlags`], [`cli::connect`] (or open a
//! snapshot), load a [`state::ClusterState`] holding only the kinds it needs, analyse it with pure
//! functions into [`report::Finding`]s, and render a [`report::Report`] as text, JSON or YAML.
//! Every failure is an [`Error`] with a documented [`exit_code`].

pub mod app;
pub mod cli;
pub mod completion;
pub mod error;
pub mod exit_code;
pub mod fit;
pub mod interrupt;
pub mod label_selector;
pub mod report;
pub mod selector;
pub mod state;

pub use error::Error;

/// Every plugin links this crate, so this is every plugin's allocator: loading and analysing
/// hundreds of thousands of objects spent most of its time in the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
