//! What each step needs permission for, checked with SelfSubjectAccessReview before anything is
//! changed, so a missing permission is named up front instead of failing half-way.

use futures::future::try_join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::{Api, api::PostParams};
use kube_runbook::{
    Error,
    cli::{ApiContext, Connection, from_kube_error},
};

use super::plan::{Action, Step};
use crate::inventory::MetaObject;

/// One permission: `verb` on `resource` (with `subresource`) of `group`, in `namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub verb: &'static str,
    pub group: String,
    pub resource: String,
    pub subresource: Option<&'static str>,
    pub namespace: Option<String>,
    pub name: String,
}

impl Permission {
    fn on(
        verb: &'static str,
        object: &MetaObject,
        subresource: Option<&'static str>,
    ) -> Permission {
        Permission {
            verb,
            group: object.resource.group.clone(),
            resource: object.resource.plural.clone(),
            subresource,
            namespace: object.namespace().map(str::to_string),
            name: object.name().to_string(),
        }
    }

    /// `namespaces/finalize`, `deployments.apps`: as RBAC rules and errors name it.
    pub fn resource_name(&self) -> String {
        let resource = match self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.clone(),
        };
        if self.group.is_empty() {
            resource
        } else {
            format!("{resource}.{}", self.group)
        }
    }

    /// "patch configmaps in namespace shop".
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {} in namespace {ns}", self.verb, self.resource_name()),
            None => format!("{} {}", self.verb, self.resource_name()),
        }
    }

    /// The error that says this permission is missing.
    pub fn forbidden(&self) -> Error {
        Error::Forbidden {
            user: "the current user".into(),
            verb: self.verb.to_string(),
            resource: self.resource_name(),
            namespace: self.namespace.clone(),
        }
    }
}

/// The permissions a step needs: reading the object (for the backup) and changing it.
pub fn required(step: &Step) -> Vec<Permission> {
    let target = step.target();
    let change = match &step.action {
        Action::Delete(_) | Action::ForceDeletePod(_) => Permission::on("delete", target, None),
        Action::RemoveFinalizer { .. } | Action::TaintOutOfService(_) | Action::ScaleToZero(_) => {
            Permission::on("patch", target, None)
        }
        Action::FinalizeNamespace { .. } => Permission::on("update", target, Some("finalize")),
    };
    vec![Permission::on("get", target, None), change]
}

/// The permissions of `wanted` the current user lacks.
pub async fn missing(conn: &Connection, wanted: &[Permission]) -> Result<Vec<Permission>, Error> {
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let reviews = wanted.iter().map(|permission| {
        let api = api.clone();
        async move {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(permission.verb.to_string()),
                        group: Some(permission.group.clone()),
                        resource: Some(permission.resource.clone()),
                        subresource: permission.subresource.map(str::to_string),
                        namespace: permission.namespace.clone(),
                        name: Some(permission.name.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| {
                    from_kube_error(
                        e,
                        &ApiContext {
                            server: conn.server.clone(),
                            verb: "create",
                            resource: "selfsubjectaccessreviews.authorization.k8s.io".into(),
                            namespace: None,
                            name: None,
                        },
                    )
                })?;
            let allowed = answer.status.is_some_and(|s| s.allowed);
            Ok::<_, Error>((!allowed).then(|| permission.clone()))
        }
    });
    Ok(try_join_all(reviews).await?.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use kube_runbook::state::Kind;
    use serde_json::json;

    use super::*;
    use crate::fix::plan::Rung;

    #[test]
    fn finalize_needs_update_on_the_subresource() {
        let ns = MetaObject::of_kind(
            Kind::Namespace,
            &serde_json::from_value(json!({"name": "shop"})).unwrap(),
        );
        let step = Step::new(
            Rung::Finalize,
            Action::FinalizeNamespace {
                namespace: ns,
                strands: Vec::new(),
            },
            "x",
            "y",
        );
        let needed = required(&step);
        assert_eq!(needed[1].verb, "update");
        assert_eq!(needed[1].resource_name(), "namespaces/finalize");
        assert_eq!(
            needed[1].forbidden().to_string().lines().next().unwrap(),
            "forbidden: the current user cannot update namespaces/finalize at the cluster scope"
        );
    }

    #[test]
    fn scaling_needs_patch_on_the_grouped_resource() {
        let sts = MetaObject::of_kind(
            Kind::StatefulSet,
            &serde_json::from_value(json!({"name": "db", "namespace": "shop"})).unwrap(),
        );
        let step = Step::new(Rung::FixCause, Action::ScaleToZero(sts), "x", "y");
        let needed = required(&step);
        assert_eq!(
            (needed[1].verb, needed[1].resource_name()),
            ("patch", "statefulsets.apps".to_string())
        );
        assert_eq!(needed[1].namespace.as_deref(), Some("shop"));
    }
}
