//! End-to-end tests of kubectl why-pending against the real control plane.

mod cli;
mod connection;
mod kubeconfigs;
mod kubelet;
