//! Benchmark: explaining one pending pod on a generated cluster of 5,000 nodes and 150,000 pods,
//! from an already loaded state (the bar: under 50 ms). What is timed is [`findings`], the very
//! function the command calls between loading the state and printing the report: namespace check,
//! target resolution, the fit index, every filter on every node, ranking, fragmentation, the
//! comparison with the scheduler's message and the findings. The fit index and the evaluation
//! are also timed alone, to show the split. Loading ends with reading every pod for the fit
//! engine (`ClusterState::index_pods`, as the command's gather does): timed apart, as part of
//! the loading. Rendering the report is timed apart and is not part
//! of the bar: as text (the default), and as JSON, which also turns every node's verdict into
//! the finding's details (made only when machine output reads them).
//!
//! Run with `cargo bench -p kubectl-why-pending --bench analysis`. Environment: BENCH_NODES and
//! BENCH_PODS (sizes), BENCH_RUNS (timed runs of each step), BENCH_SNAPSHOT (a snapshot file to
//! reuse, written there when it does not exist), BENCH_ONLY_FINDINGS=1 (run `findings` once and
//! nothing else, for `valgrind --tool=callgrind --toggle-collect='*findings*'`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube_runbook::{
    app,
    fit::{Snapshot, evaluate},
    report::{Report, Styles, render_json, render_text},
    selector::LabelQuery,
    state::ClusterState,
};
use kube_runbooks_harness::{
    bench::{env_usize, median},
    generator,
};
use kubectl_why_pending::{findings, gather, target::Target};

fn main() {
    let nodes = env_usize("BENCH_NODES", 5_000);
    let pods = env_usize("BENCH_PODS", 150_000);
    let runs = env_usize("BENCH_RUNS", 15);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let file = std::env::var_os("BENCH_SNAPSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("cluster.json"));
    if !file.exists() {
        generate(&file, nodes, pods);
    }
    let mut state = load(&file);
    let reading = measure(runs, || state.index_pods());
    let state = state;
    let pending = pending_pods(&state);
    let labels = LabelQuery::parse("").unwrap_or_else(|e| panic!("empty selector: {e}"));
    let explain = |pod: &Pod| {
        let namespace = pod.metadata.namespace.as_deref();
        let target = Target::Pod(pod.metadata.name.clone().unwrap_or_default());
        findings(&state, &target, namespace, &labels)
            .unwrap_or_else(|e| panic!("the analysis failed: {e}"))
    };
    if std::env::var_os("BENCH_ONLY_FINDINGS").is_some() {
        std::hint::black_box(explain(pending[0]));
        return;
    }

    let mut next = cycle(&pending);
    let full = measure(runs, || {
        std::hint::black_box(explain(next()));
    });
    let index = measure(runs, || {
        std::hint::black_box(Snapshot::from_state(&state));
    });
    let snapshot = Snapshot::from_state(&state);
    let mut next = cycle(&pending);
    let evaluation = measure(runs, || {
        std::hint::black_box(evaluate(next(), &snapshot));
    });
    let mut next = cycle(&pending);
    let with_text = measure(runs, || {
        let report = Report::new("why-pending", &state, explain(next()));
        std::hint::black_box(render_text(&report, &Styles::plain(), ""));
    });
    let mut next = cycle(&pending);
    let with_json = measure(runs, || {
        let report = Report::new("why-pending", &state, explain(next()));
        std::hint::black_box(render_json(&report).unwrap_or_else(|e| panic!("cannot render: {e}")));
    });

    println!(
        "{} pending pods explained in turn, {runs} timed runs each",
        pending.len()
    );
    report(
        "loading, not in the bar: the pods read for the fit engine (index_pods)",
        &reading,
    );
    report("analysis of one pending pod (findings)", &full);
    report("  of which the fit index", &index);
    report("  of which evaluate", &evaluation);
    println!(
        "  the rest (target, scheduler's word, findings, details): about {:.1} ms",
        ms(median(&full).saturating_sub(median(&index) + median(&evaluation)))
    );
    report("not in the bar: the same and the text report", &with_text);
    report("not in the bar: the same and the JSON report", &with_json);
    println!(
        "bar: 50 ms for the analysis; median {:.1} ms",
        ms(median(&full))
    );
}

fn generate(file: &Path, nodes: usize, pods: usize) {
    let started = Instant::now();
    let items = generator::generate(nodes, pods, 7);
    generator::write_snapshot(file, &items)
        .unwrap_or_else(|e| panic!("cannot write the snapshot: {e}"));
    println!(
        "generated {nodes} nodes and {pods} pods in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// Loads what the command loads (`-A`: every namespace), as the command does.
fn load(file: &Path) -> ClusterState {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a runtime: {e}"));
    let source = app::Target::Snapshot(file.to_path_buf());
    let state = runtime
        .block_on(gather::gather(&source, None, false))
        .unwrap_or_else(|e| panic!("cannot load the snapshot: {e}"));
    println!(
        "loaded the snapshot in {:.1}s ({} pods, {} nodes)",
        started.elapsed().as_secs_f64(),
        state.pods.len(),
        state.nodes.len()
    );
    state
}

fn pending_pods(state: &ClusterState) -> Vec<&Pod> {
    let pending: Vec<&Pod> = state
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().is_some_and(|s| s.node_name.is_none()))
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .take(20)
        .collect();
    assert!(
        !pending.is_empty(),
        "the generated cluster has no pending pod"
    );
    pending
}

/// The pods in turn, forever.
fn cycle<'p>(pods: &'p [&'p Pod]) -> impl FnMut() -> &'p Pod {
    let mut i = 0;
    move || {
        i += 1;
        pods[(i - 1) % pods.len()]
    }
}

/// One untimed warm-up run, then `runs` timed ones.
fn measure(runs: usize, mut work: impl FnMut()) -> Vec<Duration> {
    work();
    (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect()
}

fn report(what: &str, times: &[Duration]) {
    println!(
        "{what}: median {:.1} ms (min {:.1}, max {:.1})",
        ms(median(times)),
        ms(min(times)),
        ms(max(times))
    );
}

fn min(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
