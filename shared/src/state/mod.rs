//! Cluster state as plain Rust values, loaded from the live API or from a snapshot; analysis code
//! cannot tell the two apart.

mod cluster_state;
mod events;
mod kind;
mod live;
mod owners;
mod pager;
mod snapshot;
mod throttle;

pub use cluster_state::{ClusterState, Origin, Stored, Unavailable};
pub use events::{event_count, event_reporter, event_time};
pub use kind::Kind;
pub use live::{LiveOptions, load_live};
pub use owners::controller_of;
pub use pager::{PAGE_SIZE, list_all};
pub use snapshot::load_snapshot;
pub use throttle::retry_throttled;
