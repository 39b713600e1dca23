//! What a filter says about a node: the scheduler's reason string plus the evidence, a plain
//! explanation and a fix.

use std::fmt;

use serde::Serialize;

/// A scheduler plugin, ordered as the default profile runs its filters
/// (`pkg/scheduler/apis/config/v1/default_plugins.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Plugin {
    SchedulingGates,
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    VolumeRestrictions,
    NodeVolumeLimits,
    VolumeBinding,
    VolumeZone,
    PodTopologySpread,
    InterPodAffinity,
}

impl Plugin {
    /// The plugin's registered name.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::SchedulingGates => "SchedulingGates",
            Plugin::NodeUnschedulable => "NodeUnschedulable",
            Plugin::NodeName => "NodeName",
            Plugin::TaintToleration => "TaintToleration",
            Plugin::NodeAffinity => "NodeAffinity",
            Plugin::NodePorts => "NodePorts",
            Plugin::NodeResourcesFit => "NodeResourcesFit",
            Plugin::VolumeRestrictions => "VolumeRestrictions",
            Plugin::NodeVolumeLimits => "NodeVolumeLimits",
            Plugin::VolumeBinding => "VolumeBinding",
            Plugin::VolumeZone => "VolumeZone",
            Plugin::PodTopologySpread => "PodTopologySpread",
            Plugin::InterPodAffinity => "InterPodAffinity",
        }
    }
}

impl fmt::Display for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The status code behind a rejection; it decides whether preemption is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Code {
    /// Evicting lower-priority pods could make the node fit.
    Unschedulable,
    /// Preemption cannot help ("Preemption is not helpful for scheduling").
    UnschedulableAndUnresolvable,
}

/// One reason a filter rejects a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub plugin: Plugin,
    /// The exact reason string kube-scheduler v1.37 reports, e.g. `Insufficient cpu`.
    pub reason: String,
    pub code: Code,
    /// What is wrong, in plain words.
    pub explanation: String,
    /// The facts behind it, e.g. `requests 4 CPU; node allocatable 2 CPU, ...`.
    pub evidence: Vec<String>,
    /// What to change.
    pub fix: String,
    /// A manifest fragment implementing the fix, when there is one (e.g. a toleration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_yaml: Option<String>,
    pub detail: Detail,
}

impl Rejection {
    pub(crate) fn new(
        plugin: Plugin,
        code: Code,
        reason: impl Into<String>,
        detail: Detail,
    ) -> Self {
        Rejection {
            plugin,
            reason: reason.into(),
            code,
            explanation: String::new(),
            evidence: Vec::new(),
            fix: String::new(),
            fix_yaml: None,
            detail,
        }
    }

    pub(crate) fn explained(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = explanation.into();
        self
    }

    pub(crate) fn with_evidence(mut self, fact: impl Into<String>) -> Self {
        self.evidence.push(fact.into());
        self
    }

    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    pub(crate) fn with_fix_yaml(mut self, yaml: String) -> Self {
        self.fix_yaml = Some(yaml);
        self
    }
}

/// A rejection of the whole pod before any node is looked at (a PreFilter plugin).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreFilterRejection {
    pub plugin: Plugin,
    /// The exact message, which replaces the per-node histogram in FailedScheduling.
    pub message: String,
    pub explanation: String,
    pub fix: String,
}

/// A taint as `key=value:Effect`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaintRef {
    pub key: String,
    pub value: String,
    pub effect: String,
}

impl fmt::Display for TaintRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

/// Why a node selector term did not match a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermMismatch {
    /// 1-based position of the term in `nodeSelectorTerms`.
    pub term: usize,
    /// The first requirement of the term the node fails, in kubectl syntax.
    pub requirement: String,
    /// The node's value for the requirement's key, if it has one.
    pub node_value: Option<String>,
}

/// Structured facts behind a rejection, for machine consumers and ranking.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Detail {
    Cordoned,
    NodeNameMismatch {
        requested: String,
    },
    UntoleratedTaints {
        taints: Vec<TaintRef>,
    },
    NodeSelectorMismatch {
        key: String,
        wanted: String,
        node_value: Option<String>,
    },
    NodeAffinityMismatch {
        failed_terms: Vec<TermMismatch>,
    },
    HostPortInUse {
        host_ip: String,
        protocol: String,
        port: i32,
        held_by: String,
    },
    InsufficientResource {
        resource: String,
        requested: i64,
        allocatable: i64,
        used: i64,
        free: i64,
    },
    TooManyPods {
        allowed: i64,
        existing: usize,
    },
    DiskConflict {
        volume: String,
        held_by: String,
    },
    ReadWriteOncePodInUse {
        claim: String,
        used_by: Vec<String>,
    },
    BoundVolumeMissing {
        claim: String,
        volume: String,
    },
    VolumeNodeAffinityConflict {
        claim: String,
        volume: String,
        failed_terms: Vec<TermMismatch>,
    },
    NoVolumeToBind {
        claim: String,
        storage_class: String,
        why: String,
    },
    VolumeZoneConflict {
        volume: String,
        label: String,
        allowed: Vec<String>,
        node_value: Option<String>,
    },
    MissingTopologyLabel {
        topology_key: String,
    },
    TopologySkew {
        topology_key: String,
        domain: String,
        matching_pods: usize,
        self_match: bool,
        global_minimum: usize,
        max_skew: i32,
        domains: usize,
        min_domains: i32,
    },
    PodAffinityUnsatisfied {
        topology_key: String,
        node_value: Option<String>,
        term: String,
    },
    /// `pods` names at most ten of the `pod_count` conflicting pods.
    PodAntiAffinityConflict {
        topology_key: String,
        domain: String,
        pods: Vec<String>,
        pod_count: usize,
    },
    /// `pods` names at most ten of the `pod_count` pods whose anti-affinity excludes this one.
    ExistingPodsAntiAffinity {
        topology_key: String,
        domain: String,
        pods: Vec<String>,
        pod_count: usize,
    },
}
