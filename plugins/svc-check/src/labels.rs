//! Label helpers of this plugin: the shared selector types, and a Service selector's text.

pub use kube_runbook::label_selector::{
    CompiledSelector as Compiled, Labels, labels_or_empty as or_empty,
};

/// A Service selector in kubectl syntax: `app=web,tier=frontend`.
pub fn selector_text(selector: &Labels) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}
