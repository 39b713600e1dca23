//! End-to-end scenarios of `kubectl svc-check` against the real control plane of the harness:
//! one per check, asserting the verdict line and the culprit, and healthy Services reported
//! healthy. Each scenario has its own namespace and nodes.

mod cluster;
mod errors;
mod healthy;
mod load_balancer;
mod manual;
mod network_policy;
mod output;
mod path;
mod ports;
mod readiness;
mod selector;
mod types;
