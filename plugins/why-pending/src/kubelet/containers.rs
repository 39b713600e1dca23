//! Each container of a pod paired with its status, and the paths that cite them.

use k8s_openapi::api::core::v1::{
    Container, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, Pod,
};

/// Where a container is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Init,
    App,
}

impl Section {
    fn spec_list(self) -> &'static str {
        match self {
            Section::Init => "initContainers",
            Section::App => "containers",
        }
    }

    fn status_list(self) -> &'static str {
        match self {
            Section::Init => "initContainerStatuses",
            Section::App => "containerStatuses",
        }
    }
}

/// One container's spec and status.
pub struct ContainerView<'a> {
    pub section: Section,
    pub spec: &'a Container,
    spec_index: usize,
    pub status: Option<&'a ContainerStatus>,
    status_index: Option<usize>,
}

/// Init containers first, then app containers, in spec order.
pub fn containers(pod: &Pod) -> Vec<ContainerView<'_>> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let status = pod.status.as_ref();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let app_statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let init = spec
        .init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| (Section::Init, c, init_statuses));
    let app = spec
        .containers
        .iter()
        .map(|c| (Section::App, c, app_statuses));
    let mut index = [0usize; 2];
    init.chain(app)
        .map(|(section, container, statuses)| {
            let slot = usize::from(section == Section::App);
            let spec_index = index[slot];
            index[slot] += 1;
            let status_index = statuses.iter().position(|s| s.name == container.name);
            ContainerView {
                section,
                spec: container,
                spec_index,
                status: status_index.map(|i| &statuses[i]),
                status_index,
            }
        })
        .collect()
}

impl ContainerView<'_> {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// A restartable init container (`restartPolicy: Always`) runs beside the app containers.
    pub fn is_sidecar(&self) -> bool {
        self.section == Section::Init && self.spec.restart_policy.as_deref() == Some("Always")
    }

    /// An init container that must finish before the next one starts.
    pub fn is_classic_init(&self) -> bool {
        self.section == Section::Init && !self.is_sidecar()
    }

    pub fn waiting(&self) -> Option<&ContainerStateWaiting> {
        self.status?.state.as_ref()?.waiting.as_ref()
    }

    pub fn waiting_reason(&self) -> Option<&str> {
        self.waiting()?.reason.as_deref()
    }

    pub fn waiting_message(&self) -> Option<&str> {
        self.waiting()?.message.as_deref().filter(|m| !m.is_empty())
    }

    pub fn terminated(&self) -> Option<&ContainerStateTerminated> {
        self.status?.state.as_ref()?.terminated.as_ref()
    }

    pub fn last_terminated(&self) -> Option<&ContainerStateTerminated> {
        self.status?.last_state.as_ref()?.terminated.as_ref()
    }

    pub fn is_running(&self) -> bool {
        self.status
            .and_then(|s| s.state.as_ref())
            .is_some_and(|s| s.running.is_some())
    }

    pub fn is_ready(&self) -> bool {
        self.status.is_some_and(|s| s.ready)
    }

    pub fn restart_count(&self) -> i32 {
        self.status.map_or(0, |s| s.restart_count)
    }

    /// `spec.containers[0]` plus `suffix` (e.g. `.image`).
    pub fn spec_path(&self, suffix: &str) -> String {
        format!(
            "spec.{}[{}]{suffix}",
            self.section.spec_list(),
            self.spec_index
        )
    }

    /// `status.containerStatuses[0]` plus `suffix`; the spec path when there is no status yet.
    pub fn status_path(&self, suffix: &str) -> String {
        match self.status_index {
            Some(i) => format!("status.{}[{i}]{suffix}", self.section.status_list()),
            None => self.spec_path(""),
        }
    }

    /// How the kubelet names this container in events' `involvedObject.fieldPath`.
    pub fn event_field_path(&self) -> String {
        format!("spec.{}{{{}}}", self.section.spec_list(), self.spec.name)
    }

    /// "container web" or "init container setup".
    pub fn label(&self) -> String {
        match self.section {
            Section::Init => format!("init container {}", self.spec.name),
            Section::App => format!("container {}", self.spec.name),
        }
    }
}
