//! Cluster state as plain Rust values, loaded from the live API or from a snapshot; analysis code
//! cannot tell the two apart.

mod cluster_state;
mod kind;
mod live;
mod snapshot;

pub use cluster_state::{ClusterState, Origin, Stored, Unavailable};
pub use kind::Kind;
pub use live::{LiveOptions, load_live};
pub use snapshot::load_snapshot;
