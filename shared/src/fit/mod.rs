//! The scheduler fit engine: why a pod does not fit each node, computed the way kube-scheduler
//! v1.37's default profile filters nodes, and what the scheduler itself would report.
//!
//! Build a [`Snapshot`] once from a [`crate::state::ClusterState`] (or from slices), then
//! [`evaluate`] pods against it. Every default filter runs on every node and every failing one is
//! kept, with the scheduler's exact reason string, the evidence, a plain explanation and a fix.
//! [`SchedulerView`] reduces that to what the scheduler reports (only the first failing plugin
//! per node, counted per reason), so it can be compared with a FailedScheduling message parsed
//! by [`parse_message`] using [`compare`]. [`what_if`](WhatIf) questions and greedy placement
//! ([`simulate`]) serve `kubectl safe-drain`.
//!
//! Everything here is a pure function of its inputs.

mod affinity_term;
mod compare;
mod evaluate;
mod filters;
mod fragmentation;
mod index;
mod labels;
mod message;
mod pod_lists;
mod pod_records;
mod quantity;
mod ranking;
pub mod reasons;
mod requests;
mod resources;
mod scheduler_view;
mod what_if;

#[cfg(test)]
mod testing;

pub use compare::{Agreement, KnownCause, ReasonDifference, compare};
pub use evaluate::{NodeVerdict, PodFit, evaluate};
pub use filters::{
    Code, Detail, Plugin, PreFilterRejection, Rejection, TaintRef, TermMismatch, scheduling_gates,
};
pub use fragmentation::Fragmentation;
pub use index::Snapshot;
pub use message::{ParsedMessage, normalize_reason, parse_message};
pub(crate) use pod_records::PodRecords;
pub use quantity::{Quantity, QuantityError};
pub use ranking::RankedNode;
pub use requests::{
    RequestBreakdown, assigned_pod_requests, node_allocatable, pod_request_breakdown, pod_requests,
};
pub use resources::{
    CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Resources, format_amount, is_scalar_resource,
    quantity_string,
};
pub use scheduler_view::{NodeOutcome, SchedulerView};
pub use what_if::{Placement, WhatIf, place_all, replacement_pod, simulate};
