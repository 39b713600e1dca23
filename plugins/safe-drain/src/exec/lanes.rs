//! The eviction loop. Pods are grouped into lanes that run side by side: a StatefulSet's pods
//! (highest ordinal first) and, with --wait-healthy, each workload's pods share a lane and go
//! one after another; every other pod has a lane of its own. A semaphore bounds how many pods
//! are being evicted (sent and not yet gone) at once. Budget refusals and rate limiting are
//! retried with a jittered back-off, each saying which it is.

use std::{collections::BTreeMap, time::Duration};

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::{Api, Client};
use kube_runbook::report::ObjectRef;
use tokio::sync::Semaphore;

use super::{
    evict::{Answer, EvictOptions, evict},
    interrupt::{Stop, StopReason},
    progress::{PodState, Progress},
    wait::{Presence, ready_again},
};
use crate::plan::PodPlan;

const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Pods evicted one after another.
#[derive(Debug)]
pub struct Lane {
    pub pods: Vec<PodPlan>,
}

/// Groups `pods` into lanes.
pub fn lanes(pods: Vec<PodPlan>, wait_healthy: bool) -> Vec<Lane> {
    let mut grouped: BTreeMap<ObjectRef, Vec<PodPlan>> = BTreeMap::new();
    let mut single = Vec::new();
    for pod in pods {
        match &pod.workload {
            Some(w) if w.kind == "StatefulSet" || (wait_healthy && pod.is_replaced()) => {
                grouped.entry(w.clone()).or_default().push(pod);
            }
            _ => single.push(Lane { pods: vec![pod] }),
        }
    }
    for pods in grouped.values_mut() {
        pods.sort_by(|a, b| b.ordinal.cmp(&a.ordinal).then_with(|| a.name.cmp(&b.name)));
    }
    grouped
        .into_values()
        .map(|pods| Lane { pods })
        .chain(single)
        .collect()
}

/// Everything a lane needs.
pub struct Evictor<'a> {
    /// Without automatic retries, so that evictions see every 429.
    pub client: Client,
    pub options: EvictOptions,
    pub permits: Semaphore,
    pub presence: Presence,
    pub progress: &'a Progress,
    pub stop: &'a Stop,
    pub wait_healthy: bool,
}

impl Evictor<'_> {
    /// Evicts a lane's pods in order; stops at the first pod that does not finish.
    pub async fn run(&self, lane: &Lane) {
        for pod in &lane.pods {
            if self.pod(pod).await.is_err() {
                return;
            }
            if self.wait_healthy && !self.options.dry_run && pod.is_replaced() {
                let _ = self.healthy(pod).await;
            }
        }
    }

    async fn pod(&self, pod: &PodPlan) -> Result<(), StopReason> {
        let key = pod.key();
        let mut backoff = Backoff::new();
        let mut last_said = String::new();
        let permit = loop {
            let permit = self.stop.race(self.permits.acquire()).await?;
            self.progress.set(&key, PodState::Evicting);
            let answer = self
                .stop
                .race(evict(
                    &self.client,
                    &pod.namespace,
                    &pod.name,
                    &pod.uid,
                    self.options,
                ))
                .await?;
            backoff.advance();
            let said = match answer {
                Ok(Answer::Accepted) => break permit,
                Ok(Answer::Gone(why)) => {
                    self.progress.line(format!("pod {key}: {why}"));
                    self.progress.set(&key, PodState::Evicted(Duration::ZERO));
                    return Ok(());
                }
                Ok(Answer::RefusedByBudget { budget, cause }) => {
                    let counts = match &budget {
                        Some(name) => self.budget_counts(&pod.namespace, name).await,
                        None => None,
                    };
                    let name = budget.unwrap_or_else(|| "?".to_string());
                    let why = match counts {
                        Some(counts) => format!("{counts}: {cause}"),
                        None => cause,
                    };
                    self.progress.set(
                        &key,
                        PodState::Blocked(format!("PodDisruptionBudget {name}: {why}")),
                    );
                    format!("pod {key}: PodDisruptionBudget {name} refuses the eviction ({why})")
                }
                Ok(Answer::Throttled {
                    retry_after,
                    message,
                }) => {
                    self.progress
                        .set(&key, PodState::Blocked("API rate limiting".into()));
                    backoff.honour(retry_after);
                    format!(
                        "pod {key}: the API server is rate limiting requests ({message}); this is not a disruption budget"
                    )
                }
                Ok(Answer::MultipleBudgets(message)) => return Err(self.failed(&key, message)),
                Ok(Answer::Failed { code, message }) => {
                    return Err(self.failed(&key, format!("{code}: {message}")));
                }
                Err(error) => {
                    return Err(self.failed(&key, format!("eviction request failed: {error}")));
                }
            };
            drop(permit);
            if said != last_said {
                self.progress.line(format!(
                    "{said}; retrying in {}s",
                    backoff.current().as_secs()
                ));
                last_said = said;
            }
            self.stop.pause(backoff.current()).await?;
        };
        if self.options.dry_run {
            self.progress
                .line(format!("pod {key}: eviction accepted (dry run)"));
            self.progress.set(&key, PodState::WouldEvict);
            return Ok(());
        }
        self.progress
            .line(format!("pod {key}: evicted, waiting for it to be gone"));
        self.progress.set(&key, PodState::Waiting);
        let started = self.progress.elapsed();
        self.stop.race(self.presence.gone(&pod.uid)).await?;
        drop(permit);
        let took = self.progress.elapsed().saturating_sub(started);
        self.progress.line(format!(
            "pod {key}: gone after {}",
            kube_runbook::report::human_duration(took)
        ));
        self.progress.set(&key, PodState::Evicted(took));
        Ok(())
    }

    async fn healthy(&self, pod: &PodPlan) -> Result<(), StopReason> {
        let Some(workload) = &pod.workload else {
            return Ok(());
        };
        self.progress.line(format!(
            "{workload}: waiting for {} ready replicas again",
            pod.ready_before
        ));
        match self
            .stop
            .race(ready_again(&self.client, workload, pod.ready_before))
            .await?
        {
            Ok(true) => self.progress.line(format!("{workload}: ready again")),
            Ok(false) => self
                .progress
                .line(format!("{workload}: no ready count to wait for")),
            Err(error) => self
                .progress
                .line(format!("{workload}: cannot read its readiness: {error}")),
        }
        Ok(())
    }

    /// `currentHealthy 1, desiredHealthy 2, disruptionsAllowed 0`, read now.
    async fn budget_counts(&self, namespace: &str, name: &str) -> Option<String> {
        let pdb = Api::<PodDisruptionBudget>::namespaced(self.client.clone(), namespace)
            .get(name)
            .await
            .ok()?;
        let status = pdb.status?;
        Some(format!(
            "currentHealthy {}, desiredHealthy {}, disruptionsAllowed {}, expectedPods {}",
            status.current_healthy.unwrap_or(0),
            status.desired_healthy.unwrap_or(0),
            status.disruptions_allowed.unwrap_or(0),
            status.expected_pods.unwrap_or(0)
        ))
    }

    fn failed(&self, key: &str, why: String) -> StopReason {
        self.progress
            .line(format!("pod {key}: cannot be evicted: {why}"));
        self.progress.set(key, PodState::Failed(why.clone()));
        let reason = format!("pod {key} cannot be evicted: {why}");
        self.stop.fail(reason.clone());
        StopReason::Failed(reason)
    }
}

/// Doubling delays from 2s to 30s, with ±20% jitter so that lanes do not retry in step.
struct Backoff {
    current: Duration,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff {
            current: Duration::ZERO,
        }
    }

    /// Moves to the next delay.
    fn advance(&mut self) {
        let base = if self.current.is_zero() {
            FIRST_BACKOFF
        } else {
            (self.current * 2).min(MAX_BACKOFF)
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = 0.8 + f64::from(nanos % 400) / 1000.0;
        self.current = base.mul_f64(jitter);
    }

    /// Uses the server's Retry-After when it gave one.
    fn honour(&mut self, retry_after: Option<Duration>) {
        if let Some(after) = retry_after {
            self.current = after;
        }
    }

    fn current(&self) -> Duration {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, PodPlan};

    fn pod(name: &str, workload: Option<(&str, &str)>, ordinal: Option<u32>) -> PodPlan {
        PodPlan {
            namespace: "shop".into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            phase: "Running".into(),
            ready: true,
            workload: workload.map(|(k, n)| ObjectRef::namespaced(k, "shop", n)),
            action: Action::Evict,
            reasons: Vec::new(),
            pdb: None,
            replacement: None,
            ordinal,
            ready_before: 1,
        }
    }

    #[test]
    fn statefulsets_go_in_reverse_ordinal_order_others_in_parallel() {
        let pods = vec![
            pod("db-0", Some(("StatefulSet", "db")), Some(0)),
            pod("web-a", Some(("Deployment", "web")), None),
            pod("db-2", Some(("StatefulSet", "db")), Some(2)),
            pod("web-b", Some(("Deployment", "web")), None),
        ];
        let names = |lanes: Vec<Lane>| -> Vec<Vec<String>> {
            lanes
                .into_iter()
                .map(|l| l.pods.into_iter().map(|p| p.name).collect())
                .collect()
        };
        assert_eq!(
            names(lanes(pods.clone(), false)),
            [vec!["db-2", "db-0"], vec!["web-a"], vec!["web-b"]]
        );
        assert_eq!(
            names(lanes(pods, true)),
            [vec!["web-a", "web-b"], vec!["db-2", "db-0"]]
        );
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_honours_retry_after() {
        let mut backoff = Backoff::new();
        backoff.advance();
        let first = backoff.current();
        assert!(
            first >= Duration::from_millis(1600) && first <= Duration::from_millis(2400),
            "{first:?}"
        );
        for _ in 0..10 {
            backoff.advance();
        }
        assert!(backoff.current() <= MAX_BACKOFF.mul_f64(1.2));
        backoff.honour(Some(Duration::from_secs(7)));
        assert_eq!(backoff.current(), Duration::from_secs(7));
    }
}
