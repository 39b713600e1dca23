//! `kubectl safe-drain uncordon NODE`: the end of maintenance. It says whether the cordon was
//! safe-drain's (its annotation records when) and asks before undoing somebody else's.

use k8s_openapi::api::core::v1::Node;
use kube::{Api, api::ListParams};
use kube_runbook::{
    Error,
    cli::{self, ApiContext, KubectlFlags, from_kube_error},
    exit_code,
    interrupt::Interrupt,
};

use crate::{
    args::DryRun,
    confirm::confirm,
    exec::{Uncordoned, uncordon},
    plan::{ANNOTATION, CordonRecord},
};

pub async fn run(
    flags: &KubectlFlags,
    name: &str,
    yes: bool,
    dry_run: DryRun,
    interrupt: &Interrupt,
) -> Result<u8, Error> {
    let conn = cli::connect(flags).await?;
    let nodes: Api<Node> = Api::all(conn.client.clone());
    let context = |verb| ApiContext {
        server: conn.server.clone(),
        verb,
        resource: "nodes".into(),
        namespace: None,
        name: Some(name.to_string()),
    };
    let node = match nodes
        .get_opt(name)
        .await
        .map_err(|e| from_kube_error(e, &context("get")))?
    {
        Some(node) => node,
        None => {
            let known = nodes
                .list_metadata(&ListParams::default())
                .await
                .map_err(|e| from_kube_error(e, &context("list")))?;
            return Err(Error::not_found(
                "node",
                name,
                None,
                known
                    .items
                    .iter()
                    .filter_map(|n| n.metadata.name.as_deref()),
            ));
        }
    };
    let cordoned = node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    let record = CordonRecord::of(&node);
    if !cordoned {
        println!("node {name} is not cordoned: nothing to do");
        return Ok(exit_code::OK);
    }
    match &record {
        Some(record) => println!("node {name} was cordoned by safe-drain at {}", record.at),
        None => {
            println!(
                "node {name} was cordoned by someone else, not by safe-drain (it has no {ANNOTATION} annotation)"
            );
            if !confirm(format!("Uncordon {name} anyway?"), yes, interrupt).await? {
                println!("node {name} left cordoned");
                return Ok(exit_code::PROBLEM_FOUND);
            }
        }
    }
    let dry_run = dry_run == DryRun::Server;
    let done = uncordon(&nodes, name, dry_run)
        .await
        .map_err(|e| from_kube_error(e, &context("patch")))?;
    let suffix = if dry_run { " (dry run)" } else { "" };
    match done {
        Uncordoned::Ours(_) | Uncordoned::Others => println!("node/{name} uncordoned{suffix}"),
        Uncordoned::NotCordoned => println!("node {name} was uncordoned meanwhile: nothing to do"),
    }
    Ok(exit_code::OK)
}
