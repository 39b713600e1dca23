//! End-to-end tests of `kubectl safe-drain` against the real local control plane (etcd,
//! kube-apiserver, kube-controller-manager with the disruption controller, kube-scheduler, kwok),
//! side by side with the real `kubectl drain`.

mod drain;
mod interrupt;
mod pdb;
mod plan;
mod support;
