//! What a pod requests and what a node offers, computed like kube-scheduler does.
//!
//! Pod requests follow `PodRequests` in `k8s.io/component-helpers/resource/helpers.go` (KEP-753):
//! `max(Σcontainers + Σsidecars, max over init containers i of (init_i + Σsidecars before i))`,
//! then pod-level `spec.resources.requests` replace cpu, memory and hugepages, then
//! `spec.overhead` is added. Sums are exact; each resource is rounded up once at the end
//! (`MilliValue()` for cpu, `Value()` otherwise), as `NodeResourcesFit` does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use serde::Serialize;

use super::quantity::Quantity;
use super::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Resources};

/// How a pod's request was put together, for showing the arithmetic.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBreakdown {
    /// Σ of the regular containers' requests.
    pub containers: Resources,
    /// Σ of the restartable init containers (sidecars), which run alongside the containers.
    pub sidecars: Resources,
    /// The largest need while an ordinary init container runs: it plus the sidecars started
    /// before it.
    pub init_peak: Resources,
    /// `spec.resources.requests` (pod-level resources) for cpu, memory and hugepages, which
    /// replace the container totals for those resources.
    pub pod_level: Option<Resources>,
    /// `spec.overhead` (RuntimeClass), added on top.
    pub overhead: Resources,
    /// What the scheduler compares with free node capacity.
    pub total: Resources,
    /// Quantities that could not be parsed and were left out, e.g. `container app: cpu "x"`.
    pub invalid_quantities: Vec<String>,
}

/// The request kube-scheduler computes for a pod it is about to place.
pub fn pod_requests(pod: &Pod) -> Resources {
    pod_request_breakdown(pod).total
}

/// [`pod_requests`] with every step of the calculation.
pub fn pod_request_breakdown(pod: &Pod) -> RequestBreakdown {
    let mut invalid = Vec::new();
    let parts = aggregate(pod, &mut invalid, container_requests);
    let pod_level = pod_level_requests(pod, &mut invalid);
    let overhead = overhead(pod, &mut invalid);
    let total = finish(parts.total(), pod_level.as_ref(), &overhead);
    RequestBreakdown {
        containers: round(&parts.containers),
        sidecars: round(&parts.sidecars),
        init_peak: round(&parts.init_peak),
        pod_level: pod_level.as_ref().map(round),
        overhead: round(&overhead),
        total: round(&total),
        invalid_quantities: invalid,
    }
}

/// What an assigned pod holds on its node: as [`pod_requests`], but for each container the
/// largest of its spec, its allocated resources and its actuated resources, as the scheduler
/// counts pods with in-place resizes (`UseStatusResources`).
pub fn assigned_pod_requests(pod: &Pod) -> Resources {
    if let Some(requests) = containers_only_requests(pod) {
        return requests;
    }
    let mut invalid = Vec::new();
    let mut largest = aggregate(pod, &mut invalid, container_requests).total();
    if has_status_resources(pod) {
        let allocated = aggregate(pod, &mut invalid, |c| {
            container_status(pod, &c.name)
                .and_then(|cs| cs.allocated_resources.as_ref())
                .or(container_requests(c))
        });
        let actuated = aggregate(pod, &mut invalid, |c| {
            let status = container_status(pod, &c.name);
            status
                .and_then(|cs| cs.resources.as_ref())
                .and_then(|r| r.requests.as_ref())
                .or(status.and_then(|cs| cs.allocated_resources.as_ref()))
                .or(container_requests(c))
        });
        largest.max_with(&allocated.total());
        largest.max_with(&actuated.total());
    }
    let pod_level = pod_level_requests(pod, &mut invalid);
    let overhead = overhead(pod, &mut invalid);
    round(&finish(largest, pod_level.as_ref(), &overhead))
}

/// The requests of the common pod, which only has regular containers (no init containers, no
/// pod-level requests, no overhead, no resized status) with valid quantities: their exact sum,
/// rounded. `None` for any other pod, which [`assigned_pod_requests`] computes in full.
fn containers_only_requests(pod: &Pod) -> Option<Resources> {
    let spec = pod.spec.as_ref()?;
    let only_containers = spec.init_containers.as_ref().is_none_or(Vec::is_empty)
        && spec.overhead.is_none()
        && spec.resources.as_ref().is_none_or(|r| r.requests.is_none())
        && !has_status_resources(pod);
    if !only_containers {
        return None;
    }
    let mut total = ExactList::default();
    for container in &spec.containers {
        for (name, quantity) in container_requests(container).into_iter().flatten() {
            total.add_one(name, Quantity::parse(&quantity.0).ok()?);
        }
    }
    Some(round(&total))
}

/// `status.allocatable` of a node (never capacity), with unparsable entries left out.
pub fn node_allocatable(node: &Node) -> Resources {
    let allocatable = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    round(&parse_list(
        allocatable,
        || "allocatable".to_string(),
        &mut Vec::new(),
    ))
}

/// Exact amounts per resource name, before rounding. The native resources have their own
/// slots and others go to a list, so that summing the requests of 150,000 pods allocates
/// nothing.
#[derive(Clone, Debug, Default)]
struct ExactList<'p> {
    /// cpu, memory, ephemeral-storage and pods, in the order of [`NATIVE`].
    native: [Option<Quantity>; 4],
    others: Vec<(&'p str, Quantity)>,
}

const NATIVE: [&str; 4] = [CPU, MEMORY, EPHEMERAL_STORAGE, PODS];

impl<'p> ExactList<'p> {
    fn iter(&self) -> impl Iterator<Item = (&'p str, Quantity)> + '_ {
        let native = NATIVE
            .into_iter()
            .zip(&self.native)
            .filter_map(|(name, quantity)| Some((name, (*quantity)?)));
        native.chain(self.others.iter().copied())
    }

    fn push(&mut self, name: &'p str, quantity: Quantity) {
        match NATIVE.iter().position(|native| *native == name) {
            Some(slot) => self.native[slot] = Some(quantity),
            None => self.others.push((name, quantity)),
        }
    }

    fn set(&mut self, name: &'p str, quantity: Quantity) {
        let existing = match NATIVE.iter().position(|native| *native == name) {
            Some(slot) => self.native[slot].as_mut(),
            None => self
                .others
                .iter_mut()
                .find(|(existing, _)| *existing == name)
                .map(|(_, quantity)| quantity),
        };
        match existing {
            Some(existing) => *existing = quantity,
            None => self.push(name, quantity),
        }
    }

    fn add(&mut self, other: &ExactList<'p>) {
        self.merge(other, Quantity::saturating_add);
    }

    fn max_with(&mut self, other: &ExactList<'p>) {
        self.merge(other, Ord::max);
    }

    /// Adds `quantity` of `name`.
    fn add_one(&mut self, name: &'p str, quantity: Quantity) {
        match NATIVE.iter().position(|native| *native == name) {
            Some(slot) => {
                let mine = &mut self.native[slot];
                *mine = Some(mine.map_or(quantity, |mine| mine.saturating_add(quantity)));
            }
            None => match self
                .others
                .iter_mut()
                .find(|(existing, _)| *existing == name)
            {
                Some((_, mine)) => *mine = mine.saturating_add(quantity),
                None => self.others.push((name, quantity)),
            },
        }
    }

    /// Takes every entry of `other`, combined with this one's where both have the name.
    fn merge(&mut self, other: &ExactList<'p>, combine: fn(Quantity, Quantity) -> Quantity) {
        for (mine, theirs) in self.native.iter_mut().zip(&other.native) {
            if let Some(theirs) = *theirs {
                *mine = Some(mine.map_or(theirs, |mine| combine(mine, theirs)));
            }
        }
        for &(name, theirs) in &other.others {
            match self
                .others
                .iter_mut()
                .find(|(existing, _)| *existing == name)
            {
                Some((_, mine)) => *mine = combine(*mine, theirs),
                None => self.others.push((name, theirs)),
            }
        }
    }
}

struct ContainerParts<'p> {
    containers: ExactList<'p>,
    sidecars: ExactList<'p>,
    init_peak: ExactList<'p>,
}

impl<'p> ContainerParts<'p> {
    fn total(&self) -> ExactList<'p> {
        let mut total = self.containers.clone();
        total.add(&self.sidecars);
        total.max_with(&self.init_peak);
        total
    }
}

fn aggregate<'p>(
    pod: &'p Pod,
    invalid: &mut Vec<String>,
    requests_of: impl Fn(&'p Container) -> Option<&'p BTreeMap<String, ApiQuantity>>,
) -> ContainerParts<'p> {
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let mut parts = ContainerParts {
        containers: ExactList::default(),
        sidecars: ExactList::default(),
        init_peak: ExactList::default(),
    };
    for container in containers {
        let context = || format!("container {}", container.name);
        parts
            .containers
            .add(&parse_list(requests_of(container), context, invalid));
    }
    for container in init_containers {
        let context = || format!("init container {}", container.name);
        let requests = parse_list(requests_of(container), context, invalid);
        if is_sidecar(container) {
            parts.sidecars.add(&requests);
            parts.init_peak.max_with(&parts.sidecars);
        } else {
            let mut while_running = requests;
            while_running.add(&parts.sidecars);
            parts.init_peak.max_with(&while_running);
        }
    }
    parts
}

/// A restartable init container (`restartPolicy: Always`), i.e. a sidecar.
pub(crate) fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn container_requests(container: &Container) -> Option<&BTreeMap<String, ApiQuantity>> {
    container
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
}

fn has_status_resources(pod: &Pod) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    let lists = [
        status.container_statuses.as_deref(),
        status.init_container_statuses.as_deref(),
    ];
    lists.into_iter().flatten().flatten().any(|cs| {
        cs.allocated_resources.is_some()
            || cs.resources.as_ref().is_some_and(|r| r.requests.is_some())
    })
}

fn container_status<'p>(pod: &'p Pod, name: &str) -> Option<&'p ContainerStatus> {
    let status = pod.status.as_ref()?;
    let lists = [
        status.container_statuses.as_deref(),
        status.init_container_statuses.as_deref(),
    ];
    lists
        .into_iter()
        .flatten()
        .flatten()
        .find(|cs| cs.name == name)
}

fn overhead<'p>(pod: &'p Pod, invalid: &mut Vec<String>) -> ExactList<'p> {
    let overhead = pod.spec.as_ref().and_then(|s| s.overhead.as_ref());
    parse_list(overhead, || "overhead".to_string(), invalid)
}

fn pod_level_requests<'p>(pod: &'p Pod, invalid: &mut Vec<String>) -> Option<ExactList<'p>> {
    let requests = pod.spec.as_ref()?.resources.as_ref()?.requests.as_ref()?;
    let supported = |name: &str| name == CPU || name == MEMORY || name.starts_with("hugepages-");
    if !requests.keys().any(|name| supported(name)) {
        return None;
    }
    let parsed = parse_list(
        Some(requests),
        || "pod-level resources".to_string(),
        invalid,
    );
    let mut kept = ExactList::default();
    for (name, quantity) in parsed.iter().filter(|(name, _)| supported(name)) {
        kept.push(name, quantity);
    }
    Some(kept)
}

fn finish<'p>(
    mut total: ExactList<'p>,
    pod_level: Option<&ExactList<'p>>,
    overhead: &ExactList<'p>,
) -> ExactList<'p> {
    for (name, quantity) in pod_level.into_iter().flat_map(ExactList::iter) {
        total.set(name, quantity);
    }
    total.add(overhead);
    total
}

fn parse_list<'p>(
    list: Option<&'p BTreeMap<String, ApiQuantity>>,
    context: impl Fn() -> String,
    invalid: &mut Vec<String>,
) -> ExactList<'p> {
    let mut parsed = ExactList::default();
    for (name, quantity) in list.into_iter().flatten() {
        match Quantity::parse(&quantity.0) {
            Ok(value) => parsed.push(name, value),
            Err(error) => invalid.push(format!("{}: {name}: {error}", context())),
        }
    }
    parsed
}

fn round(exact: &ExactList) -> Resources {
    let mut rounded = Resources::default();
    for (name, quantity) in exact.iter() {
        let amount = if name == CPU {
            quantity.milli_ceil()
        } else {
            quantity.units_ceil()
        };
        rounded.set(name, amount);
    }
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec}),
        )
        .unwrap()
    }

    fn container(name: &str, cpu: &str, memory: &str) -> serde_json::Value {
        json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}})
    }

    fn sidecar(name: &str, cpu: &str, memory: &str) -> serde_json::Value {
        let mut c = container(name, cpu, memory);
        c["restartPolicy"] = json!("Always");
        c
    }

    const G: i64 = 1_000_000_000;

    #[test]
    fn upstream_fit_go_example_init_max_versus_container_sum() {
        let pod = pod(json!({
            "initContainers": [container("ic1", "2", "1G"), container("ic2", "2", "3G")],
            "containers": [container("c1", "2", "1G"), container("c2", "1", "1G")],
        }));
        let requests = pod_requests(&pod);
        assert_eq!(requests.get(CPU), 3000);
        assert_eq!(requests.get(MEMORY), 3 * G);
    }

    #[test]
    fn sidecars_add_to_containers_and_to_later_init_containers() {
        // KEP-753: init peak = max(ic1, sidecar + ic2); steady state = containers + sidecar.
        let pod = pod(json!({
            "initContainers": [
                container("ic1", "1", "1G"),
                sidecar("proxy", "500m", "1G"),
                container("ic2", "2", "2G"),
            ],
            "containers": [container("app", "1", "1G")],
        }));
        let breakdown = pod_request_breakdown(&pod);
        assert_eq!(breakdown.sidecars.get(CPU), 500);
        assert_eq!(breakdown.init_peak.get(CPU), 2500);
        assert_eq!(breakdown.init_peak.get(MEMORY), 3 * G);
        assert_eq!(breakdown.total.get(CPU), 2500);
        assert_eq!(breakdown.total.get(MEMORY), 3 * G);
    }

    #[test]
    fn sidecars_dominate_when_steady_state_is_larger() {
        let pod = pod(json!({
            "initContainers": [sidecar("proxy", "1", "1G"), container("migrate", "1", "1G")],
            "containers": [container("app", "2", "2G")],
        }));
        let requests = pod_requests(&pod);
        assert_eq!(requests.get(CPU), 3000);
        assert_eq!(requests.get(MEMORY), 3 * G);
    }

    #[test]
    fn overhead_is_added_on_top() {
        let pod = pod(json!({
            "containers": [container("app", "1", "1G")],
            "overhead": {"cpu": "250m", "memory": "120Mi"},
        }));
        let requests = pod_requests(&pod);
        assert_eq!(requests.get(CPU), 1250);
        assert_eq!(requests.get(MEMORY), G + 120 * 1024 * 1024);
    }

    #[test]
    fn pod_level_resources_replace_cpu_and_memory_but_not_others() {
        let pod = pod(json!({
            "resources": {"requests": {"cpu": "4", "memory": "8Gi"}},
            "containers": [{
                "name": "app",
                "resources": {"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi", "nvidia.com/gpu": "1"}},
            }],
            "overhead": {"cpu": "100m"},
        }));
        let breakdown = pod_request_breakdown(&pod);
        assert_eq!(breakdown.total.get(CPU), 4100);
        assert_eq!(breakdown.total.get(MEMORY), 8 * 1024 * 1024 * 1024);
        assert_eq!(breakdown.total.get(EPHEMERAL_STORAGE), 1024 * 1024 * 1024);
        assert_eq!(breakdown.total.get("nvidia.com/gpu"), 1);
        assert!(breakdown.pod_level.is_some());
    }

    #[test]
    fn pod_level_requests_of_only_unsupported_resources_are_ignored() {
        let pod = pod(json!({
            "resources": {"requests": {"ephemeral-storage": "5Gi"}},
            "containers": [container("app", "1", "1G")],
        }));
        let breakdown = pod_request_breakdown(&pod);
        assert!(breakdown.pod_level.is_none());
        assert_eq!(breakdown.total.get(EPHEMERAL_STORAGE), 0);
    }

    #[test]
    fn exact_sums_round_once() {
        let pod = pod(json!({
            "containers": [container("a", "100.5m", "1"), container("b", "100.5m", "1")],
        }));
        assert_eq!(pod_requests(&pod).get(CPU), 201);
    }

    #[test]
    fn extended_resources_and_hugepages_are_counted() {
        let pod = pod(json!({"containers": [{
            "name": "app",
            "resources": {"requests": {"nvidia.com/gpu": "2", "hugepages-2Mi": "100Mi", "storage": "1Gi"}},
        }]}));
        let requests = pod_requests(&pod);
        assert_eq!(requests.get("nvidia.com/gpu"), 2);
        assert_eq!(requests.get("hugepages-2Mi"), 100 * 1024 * 1024);
        assert_eq!(requests.get("storage"), 0);
    }

    #[test]
    fn a_pod_of_plain_containers_sums_them_like_the_full_calculation() {
        let plain = pod(json!({"containers": [
            container("a", "100.5m", "1Gi"),
            {"name": "b", "resources": {"requests": {"cpu": "100.5m", "nvidia.com/gpu": "1", "storage": "1Gi"}}},
            {"name": "c"},
        ]}));
        let fast = containers_only_requests(&plain).expect("only containers");
        assert_eq!(fast, pod_requests(&plain));
        assert_eq!(fast.get(CPU), 201);
        assert_eq!(fast.get("nvidia.com/gpu"), 1);
        let with_overhead =
            pod(json!({"containers": [container("a", "1", "1Gi")], "overhead": {"cpu": "1"}}));
        assert!(containers_only_requests(&with_overhead).is_none());
        assert_eq!(assigned_pod_requests(&with_overhead).get(CPU), 2000);
        let invalid = pod(json!({"containers": [container("a", "lots", "1Gi")]}));
        assert!(containers_only_requests(&invalid).is_none());
        assert_eq!(
            assigned_pod_requests(&invalid).get(MEMORY),
            1024 * 1024 * 1024
        );
    }

    #[test]
    fn no_requests_means_zero() {
        let pod = pod(json!({"containers": [{"name": "app"}]}));
        assert!(pod_requests(&pod).requests_nothing());
    }

    #[test]
    fn invalid_quantities_are_reported_and_skipped() {
        let pod = pod(json!({"containers": [container("app", "lots", "1Gi")]}));
        let breakdown = pod_request_breakdown(&pod);
        assert_eq!(breakdown.total.get(CPU), 0);
        assert_eq!(breakdown.total.get(MEMORY), 1024 * 1024 * 1024);
        assert_eq!(breakdown.invalid_quantities.len(), 1);
        assert!(breakdown.invalid_quantities[0].starts_with("container app: cpu"));
    }

    #[test]
    fn assigned_pods_count_the_larger_of_spec_and_resized_status() {
        let mut pod = pod(json!({"nodeName": "n1", "containers": [container("app", "1", "1Gi")]}));
        pod.status = Some(
            serde_json::from_value(json!({"containerStatuses": [{
                "name": "app", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                "allocatedResources": {"cpu": "2"},
                "resources": {"requests": {"cpu": "1500m", "memory": "512Mi"}},
            }]}))
            .unwrap(),
        );
        let held = assigned_pod_requests(&pod);
        assert_eq!(held.get(CPU), 2000);
        assert_eq!(held.get(MEMORY), 1024 * 1024 * 1024);
        assert_eq!(pod_requests(&pod).get(CPU), 1000);
    }

    #[test]
    fn node_allocatable_reads_status_allocatable() {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n1"},
            "status": {
                "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "allocatable": {"cpu": "7910m", "memory": "31Gi", "pods": "110", "nvidia.com/gpu": "4"},
            },
        }))
        .unwrap();
        let allocatable = node_allocatable(&node);
        assert_eq!(allocatable.get(CPU), 7910);
        assert_eq!(allocatable.get(MEMORY), 31 * 1024 * 1024 * 1024);
        assert_eq!(allocatable.get(PODS), 110);
        assert_eq!(allocatable.get("nvidia.com/gpu"), 4);
    }
}
