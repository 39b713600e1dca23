//! What the user asked about: one pod, the pods of a workload, or every unhealthy pod.

use kube_runbook::Error;

/// The workload kinds whose pods can be examined, with kubectl's names and short names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
}

impl OwnerKind {
    fn parse(text: &str) -> Option<OwnerKind> {
        match text.to_lowercase().as_str() {
            "deploy" | "deployment" | "deployments" | "deployment.apps" => {
                Some(OwnerKind::Deployment)
            }
            "rs" | "replicaset" | "replicasets" | "replicaset.apps" => Some(OwnerKind::ReplicaSet),
            "sts" | "statefulset" | "statefulsets" | "statefulset.apps" => {
                Some(OwnerKind::StatefulSet)
            }
            "ds" | "daemonset" | "daemonsets" | "daemonset.apps" => Some(OwnerKind::DaemonSet),
            "job" | "jobs" | "job.batch" => Some(OwnerKind::Job),
            _ => None,
        }
    }

    /// The `kind` field value.
    pub fn kind_name(self) -> &'static str {
        match self {
            OwnerKind::Deployment => "Deployment",
            OwnerKind::ReplicaSet => "ReplicaSet",
            OwnerKind::StatefulSet => "StatefulSet",
            OwnerKind::DaemonSet => "DaemonSet",
            OwnerKind::Job => "Job",
        }
    }
}

/// The parsed TARGET argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every pod in scope that is not Running and Ready, or is restarting.
    Unhealthy,
    Pod(String),
    Owner(OwnerKind, String),
}

impl Target {
    /// Parses `POD`, `pod/POD` or `TYPE/NAME`.
    pub fn parse(text: Option<&str>) -> Result<Target, Error> {
        let Some(text) = text else {
            return Ok(Target::Unhealthy);
        };
        let Some((kind, name)) = text.split_once('/') else {
            return Ok(Target::Pod(text.to_string()));
        };
        if name.is_empty() {
            return Err(Error::Usage(format!(
                "\"{text}\" names no object: use TYPE/NAME, e.g. deploy/web"
            )));
        }
        if matches!(kind.to_lowercase().as_str(), "po" | "pod" | "pods") {
            return Ok(Target::Pod(name.to_string()));
        }
        OwnerKind::parse(kind).map(|k| Target::Owner(k, name.to_string())).ok_or_else(|| {
            Error::Usage(format!(
                "unsupported type \"{kind}\": use a pod name, or pod, deploy, rs, sts, ds or job followed by /NAME"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(Target::parse(None).unwrap(), Target::Unhealthy);
        assert_eq!(
            Target::parse(Some("web-1")).unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            Target::parse(Some("pod/web-1")).unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            Target::parse(Some("deploy/web")).unwrap(),
            Target::Owner(OwnerKind::Deployment, "web".into())
        );
        assert_eq!(
            Target::parse(Some("StatefulSet/db")).unwrap(),
            Target::Owner(OwnerKind::StatefulSet, "db".into())
        );
        assert_eq!(
            Target::parse(Some("job.batch/x")).unwrap(),
            Target::Owner(OwnerKind::Job, "x".into())
        );
    }

    #[test]
    fn rejects_unsupported_types_clearly() {
        let err = Target::parse(Some("svc/web")).unwrap_err();
        assert!(
            err.to_string().starts_with("unsupported type \"svc\""),
            "{err}"
        );
        assert_eq!(err.exit_code(), kube_runbook::exit_code::USAGE);
        assert!(Target::parse(Some("deploy/")).is_err());
    }
}
