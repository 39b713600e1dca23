//! Fetches the names a completion offers: objects from the cluster the typed flags point at, or
//! entries of the kubeconfig.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, ListParams},
    core::GroupVersionKind,
};

use super::{
    cobra::{Candidate, Reply},
    nouns::KubeconfigEntry,
    plan::{Lookup, Source},
    status::{is_cordoned, node_status, pod_status},
};
use crate::{
    cli::{self, KubeconfigSource, KubectlFlags, resolve_kubeconfig},
    state::Kind,
};

/// Fetches the names and builds the reply; when the fetch fails, only the fixed candidates
/// (or, without any, an error directive so the shell shows nothing).
pub async fn answer(lookup: Lookup) -> Reply {
    match names(lookup.source, &lookup.flags).await {
        Some(found) => {
            let shown = found
                .into_iter()
                .filter(|c| !lookup.except.contains(&c.value))
                .map(|c| Candidate {
                    value: format!("{}{}", lookup.prefix, c.value),
                    ..c
                });
            Reply::matching(
                lookup.fixed.into_iter().chain(shown).collect(),
                &lookup.word,
            )
        }
        None if !lookup.fixed.is_empty() => Reply::matching(lookup.fixed, &lookup.word),
        None => Reply::error(),
    }
}

/// The names, or None when the kubeconfig or the cluster cannot be read (completion stays
/// silent: nothing is printed on the user's prompt).
async fn names(source: Source, flags: &KubectlFlags) -> Option<Vec<Candidate>> {
    let listed = match source {
        Source::Kubeconfig(entry) => return kubeconfig_names(flags, entry),
        Source::CordonedNodes => nodes(cli::connect(flags).await.ok()?.client, true).await,
        Source::Objects(kind) => {
            let conn = cli::connect(flags).await.ok()?;
            let namespace = (!flags.all_namespaces).then_some(conn.namespace.as_str());
            match kind {
                Kind::Pod => pods(conn.client.clone(), namespace).await,
                Kind::Node => nodes(conn.client.clone(), false).await,
                _ => metadata(conn.client.clone(), kind, namespace).await,
            }
        }
    };
    listed.ok()
}

async fn pods(client: Client, namespace: Option<&str>) -> kube::Result<Vec<Candidate>> {
    let api: Api<Pod> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .iter()
        .filter_map(|pod| {
            Some(Candidate::described(
                pod.metadata.name.clone()?,
                pod_status(pod),
            ))
        })
        .collect())
}

async fn nodes(client: Client, only_cordoned: bool) -> kube::Result<Vec<Candidate>> {
    let list = Api::<Node>::all(client)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|node| !only_cordoned || is_cordoned(node))
        .filter_map(|node| {
            Some(Candidate::described(
                node.metadata.name.clone()?,
                node_status(node),
            ))
        })
        .collect())
}

/// Names only (metadata lists: no object bodies, no secret data), marking those being deleted.
async fn metadata(
    client: Client,
    kind: Kind,
    namespace: Option<&str>,
) -> kube::Result<Vec<Candidate>> {
    let gvk = GroupVersionKind::gvk(kind.group(), "v1", kind.kind_name());
    let resource = ApiResource::from_gvk_with_plural(&gvk, kind.resource());
    let api: Api<DynamicObject> = match namespace {
        Some(ns) if kind.namespaced() => Api::namespaced_with(client, ns, &resource),
        _ => Api::all_with(client, &resource),
    };
    let list = api.list_metadata(&ListParams::default()).await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|object| {
            let name = object.metadata.name?;
            Some(match object.metadata.deletion_timestamp {
                Some(_) => Candidate::described(name, "Terminating"),
                None => Candidate::new(name),
            })
        })
        .collect())
}

fn kubeconfig_names(flags: &KubectlFlags, entry: KubeconfigEntry) -> Option<Vec<Candidate>> {
    let env_value = std::env::var("KUBECONFIG").ok();
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let KubeconfigSource::Files(_, config) = resolve_kubeconfig(
        flags.kubeconfig.as_deref(),
        env_value.as_deref(),
        home.as_deref(),
        false,
    )
    .ok()?
    else {
        return Some(Vec::new());
    };
    Some(match entry {
        KubeconfigEntry::Context => config
            .contexts
            .iter()
            .map(|c| {
                let cluster = c
                    .context
                    .as_ref()
                    .map(|x| x.cluster.clone())
                    .unwrap_or_default();
                Candidate::described(c.name.clone(), cluster)
            })
            .collect(),
        KubeconfigEntry::Cluster => config
            .clusters
            .iter()
            .map(|c| Candidate::new(c.name.clone()))
            .collect(),
        KubeconfigEntry::User => config
            .auth_infos
            .iter()
            .map(|u| Candidate::new(u.name.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: east\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: prod\n  context: {cluster: east, user: admin}\n- name: staging\n  context: {cluster: east, user: admin}\nusers:\n- name: admin\n  user: {token: t}\n";

    fn lookup(source: Source, kubeconfig: &std::path::Path, word: &str) -> Lookup {
        Lookup {
            source,
            flags: KubectlFlags {
                kubeconfig: Some(kubeconfig.display().to_string()),
                request_timeout: "1s".into(),
                ..KubectlFlags::default()
            },
            prefix: String::new(),
            word: word.into(),
            except: Vec::new(),
            fixed: Vec::new(),
        }
    }

    #[tokio::test]
    async fn kubeconfig_entries_of_the_typed_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let contexts = answer(lookup(
            Source::Kubeconfig(KubeconfigEntry::Context),
            &path,
            "",
        ))
        .await;
        assert_eq!(contexts.render(), "prod\teast\nstaging\teast\n:4\n");
        let users = answer(lookup(
            Source::Kubeconfig(KubeconfigEntry::User),
            &path,
            "ad",
        ))
        .await;
        assert_eq!(users.render(), "admin\n:4\n");
    }

    #[tokio::test]
    async fn an_unreachable_cluster_leaves_the_fixed_candidates_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, KUBECONFIG).unwrap();
        let mut pods = lookup(Source::Objects(Kind::Pod), &path, "");
        assert_eq!(answer(pods.clone()).await, Reply::error());
        pods.fixed = vec![Candidate::new("deploy/")];
        assert_eq!(answer(pods).await.render(), "deploy/\n:6\n");
    }
}
