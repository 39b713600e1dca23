//! `kubectl why-pending` as a library: the binary loads the state and prints the report; what
//! lies in between, [`findings`], is here so that benchmarks run exactly what the command runs.

mod analyse;
pub mod args;
pub mod gather;
mod kubelet;
mod owner;
mod scheduling;
mod select;
pub mod target;

use kube_runbook::{
    Error,
    report::Finding,
    selector::LabelQuery,
    state::{ClusterState, Kind},
};

use crate::target::Target;

/// Everything the command concludes from a loaded state: the namespace is checked to exist,
/// the target resolved among the pods in scope, and each of its pods explained.
pub fn findings(
    state: &ClusterState,
    target: &Target,
    namespace: Option<&str>,
    labels: &LabelQuery,
) -> Result<Vec<Finding>, Error> {
    if let Some(ns) = namespace
        && state.has(Kind::Namespace)
        && !state
            .namespaces
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(ns))
    {
        return Err(Error::not_found(
            "namespace",
            ns,
            None,
            state
                .namespaces
                .iter()
                .filter_map(|n| n.metadata.name.as_deref()),
        ));
    }
    let selection = select::select(state, target, namespace, labels)?;
    Ok(analyse::explain(state, &selection))
}
