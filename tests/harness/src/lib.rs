//! End-to-end test harness for kube-runbooks: a real, local Kubernetes control plane.
//!
//! [`ControlPlane::shared`] starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler
//! and kwok (fake kubelets) once per test binary, on free `127.0.0.1` ports, and hands out
//! kubeconfigs, clients and helpers to create fake nodes, namespaces and objects, wait for state
//! and run plugin binaries against the cluster.
//!
//! ```no_run
//! # async fn demo() {
//! use kube_runbooks_harness::{ControlPlane, FakeNode};
//! let cp = ControlPlane::shared().await;
//! cp.add_node(FakeNode::new("node-a").cpu("4").memory("8Gi")).await;
//! let ns = cp.namespace("demo").await;
//! ns.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").await;
//! let out = cp.kubectl(&["get", "cm", "-n", ns.name()]).await;
//! assert_eq!(out.code, Some(0), "{out}");
//! # }
//! ```
//!
//! Nodes are cluster-wide and shared by every test of the binary: a test that needs a fixed set of
//! nodes gives them distinctive labels or taints and selects or tolerates exactly those.
//!
//! The [`generator`] module builds large synthetic clusters (snapshot files or live loads).

mod apply;
pub mod bench;
mod binaries;
mod components;
mod control_plane;
pub mod generator;
mod health;
mod heartbeat;
mod kubeconfig;
mod namespaces;
mod nodes;
mod pki;
mod ports;
mod process;
mod run;
mod startup;
mod users;
pub mod wait;
mod workdir;

pub use apply::apply_yaml;
pub use binaries::Binaries;
pub use control_plane::ControlPlane;
pub use namespaces::TestNamespace;
pub use nodes::FakeNode;
pub use run::{RunCommand, RunOutput};
pub use wait::{DEFAULT_TIMEOUT, poll_until, wait_for};
