//! Unique per-test namespaces.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{Event, Namespace, Pod, ServiceAccount};
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, PostParams};
use serde_json::json;

use crate::ControlPlane;
use crate::wait::{self, DEFAULT_TIMEOUT};

/// A namespace made for one test, ready for pods (its `default` ServiceAccount exists). It is
/// not deleted on drop; call [`TestNamespace::delete`] if the test needs that.
#[derive(Clone)]
pub struct TestNamespace {
    name: String,
    client: kube::Client,
}

impl ControlPlane {
    /// Creates namespace `<prefix>-<counter>-<random>` and waits for its default ServiceAccount.
    pub async fn namespace(&self, prefix: &str) -> TestNamespace {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = unique_name(prefix, n);
        let client = self.client();
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns = serde_json::from_value(json!({"metadata": {"name": name}}))
            .unwrap_or_else(|e| panic!("invalid namespace {name}: {e}"));
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace {name}: {e}"));
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
        wait::poll_until(
            DEFAULT_TIMEOUT,
            &format!("default ServiceAccount in {name}"),
            || async {
                match accounts.get_opt("default").await {
                    Ok(Some(_)) => Ok(()),
                    Ok(None) => Err("not created yet".to_string()),
                    Err(e) => Err(e.to_string()),
                }
            },
        )
        .await;
        TestNamespace { name, client }
    }
}

/// `<prefix>-<n>-<4 hex>`, lower-cased, valid as a DNS label.
fn unique_name(prefix: &str, n: u64) -> String {
    let mut clean: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    clean.truncate(40);
    let clean = clean.trim_matches('-');
    let clean = if clean.is_empty() { "test" } else { clean };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let random = (nanos ^ std::process::id().rotate_left(16)) & 0xffff;
    format!("{clean}-{n}-{random:04x}")
}

impl TestNamespace {
    /// The namespace name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An admin client (default namespace of requests is not set; use `Api::namespaced`).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// A typed API for namespaced kind `K` in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Applies multi-document YAML; namespaced objects default to this namespace.
    pub async fn apply_yaml(&self, yaml: &str) -> Vec<DynamicObject> {
        crate::apply::apply_yaml(&self.client, &self.name, yaml).await
    }

    /// Waits until pod `name` has phase `phase`.
    pub async fn wait_pod_phase(&self, name: &str, phase: &str) -> Pod {
        wait::pod_phase(&self.client, &self.name, name, phase, DEFAULT_TIMEOUT).await
    }

    /// Waits until pod `name` is bound to a node.
    pub async fn wait_pod_scheduled(&self, name: &str) -> Pod {
        wait::pod_scheduled(&self.client, &self.name, name, DEFAULT_TIMEOUT).await
    }

    /// Waits until pod `name` has condition `type_`=`status`.
    pub async fn wait_pod_condition(&self, name: &str, type_: &str, status: &str) -> Pod {
        wait::pod_condition(
            &self.client,
            &self.name,
            name,
            type_,
            status,
            DEFAULT_TIMEOUT,
        )
        .await
    }

    /// Waits until `count` pods matching `selector` are Running and Ready.
    pub async fn wait_pods_ready(&self, selector: &str, count: usize) -> Vec<Pod> {
        wait::pods_ready(&self.client, &self.name, selector, count, DEFAULT_TIMEOUT).await
    }

    /// Waits for an event with `reason` about object `involved_name` in this namespace.
    pub async fn wait_event(&self, involved_name: &str, reason: &str) -> Event {
        wait::event(
            &self.client,
            &self.name,
            involved_name,
            reason,
            DEFAULT_TIMEOUT,
        )
        .await
    }

    /// Deletes the namespace and, if `wait` is set, waits (up to `timeout`) until the namespace
    /// controller has removed it.
    pub async fn delete(&self, wait: Option<Duration>) {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        namespaces
            .delete(&self.name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("cannot delete namespace {}: {e}", self.name));
        if let Some(timeout) = wait {
            wait::deleted(&namespaces, &self.name, timeout).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_dns_labels() {
        let name = super::unique_name("My_Test.Prefix", 7);
        assert!(name.starts_with("my-test-prefix-7-"), "{name}");
        assert!(name.len() <= 63);
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
}
