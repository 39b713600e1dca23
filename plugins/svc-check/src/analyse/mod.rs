//! The checks, one module per link or concern. Each is a pure function of the [`Context`] that
//! returns observations: findings placed on the link of the chain they concern.

pub mod client;
pub mod dns;
pub mod endpoints;
pub mod finished_pods;
pub mod load_balancer;
pub mod network_policy;
pub mod not_ready;
pub mod ports;
pub mod proxy;
pub mod readiness;
pub mod selector;
pub mod types;

use k8s_openapi::api::core::v1::Event;
use kube_runbook::{
    report::{Source, human_duration},
    state::event_time,
};

use crate::{
    backends::Backends, client::ClientPod, index::Index, infra::Infrastructure, model::Subject,
};

/// Everything a check may look at for one Service.
pub struct Context<'a, 'i> {
    pub index: &'i Index<'a>,
    pub infra: &'i Infrastructure<'a>,
    pub subject: &'i Subject<'a>,
    pub backends: &'i Backends<'a>,
    /// The pod given with `--from`, if any.
    pub client: Option<&'i ClientPod<'a>>,
}

impl Context<'_, '_> {
    /// An event as evidence, aged relative to when the state was observed.
    pub fn event_source(&self, event: &Event) -> Source {
        let last_seen = event_time(event).map(|t| {
            let age = self.index.state.observed_at.duration_since(t);
            format!("{} ago", human_duration(age.unsigned_abs()))
        });
        Source::event(event, last_seen)
    }
}
