//! An API server that cannot answer (its etcd is gone) is reported within `--request-timeout`
//! as "cannot reach the API server", exit code 4: no minutes of retries.
//! Its own test binary, because etcd stays dead for the rest of the binary.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use kube_runbooks_harness::{ControlPlane, RunCommand};

const WHY_PENDING: &str = env!("CARGO_BIN_EXE_kubectl-why_pending");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_without_etcd_is_reported_unreachable_within_the_request_timeout() {
    let cp = ControlPlane::shared().await;
    cp.kill_component("etcd");
    let started = Instant::now();
    let out = RunCommand::new(
        cp,
        Path::new(WHY_PENDING),
        &["web", "-n", "default", "--request-timeout", "3s"],
    )
    .timeout(Duration::from_secs(120))
    .output()
    .await;
    let took = started.elapsed();
    assert_eq!(out.code, Some(4), "{out}");
    assert!(
        out.stderr.starts_with(&format!(
            "error: cannot reach the API server at {}",
            cp.server_url()
        )),
        "{out}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}: {out}");
}
