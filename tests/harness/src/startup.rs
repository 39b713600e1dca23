//! The start-up sequence: PKI and kubeconfigs, then etcd, kube-apiserver, and the controllers,
//! each awaited until healthy.

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;

use crate::ControlPlane;
use crate::binaries::Binaries;
use crate::components::{self, Layout};
use crate::health;
use crate::heartbeat;
use crate::kubeconfig;
use crate::pki::Pki;
use crate::ports::free_ports;
use crate::process::Component;
use crate::users;
use crate::workdir;

/// How long each start-up step may take before the start fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

impl ControlPlane {
    /// Starts every component and waits until the cluster is usable.
    pub(crate) async fn start() -> ControlPlane {
        let began = Instant::now();
        let binaries = tokio::task::spawn_blocking(Binaries::locate)
            .await
            .unwrap_or_else(|e| panic!("locating the binaries failed: {e}"));
        let located = began.elapsed();
        let began = Instant::now();
        let dir = workdir::create();
        let ports = free_ports(7);
        let layout = Layout {
            admin_kubeconfig: dir.join("admin.kubeconfig"),
            kwok_kubeconfig: dir.join("kwok.kubeconfig"),
            dir,
            etcd_client_port: ports[0],
            etcd_peer_port: ports[1],
            apiserver_port: ports[2],
            controller_manager_port: ports[3],
            scheduler_port: ports[4],
            kwok_port: ports[5],
        };
        let server_url = format!("https://127.0.0.1:{}", layout.apiserver_port);
        let pki = Pki::generate();
        write_pki(&layout, &pki);
        let admin = pki.client_cert("kube-runbooks-admin", &["system:masters"]);
        kubeconfig::write(
            &layout.admin_kubeconfig,
            &server_url,
            &pki.ca_pem,
            "admin",
            &admin,
        );
        let admin_config = kubeconfig::config_from(&layout.admin_kubeconfig).await;

        let mut components = Vec::new();
        let spawn = |name: &str, args: Vec<String>| {
            Component::spawn(
                name,
                &binaries.bin(name),
                &args,
                layout.file(&format!("{name}.log")),
            )
        };
        components.push(spawn("etcd", components::etcd(&layout)));
        let etcd_port = layout.etcd_client_port;
        ready(&components, "etcd port", || async move {
            health::port_open(etcd_port)
                .await
                .then_some(())
                .ok_or("not listening".to_string())
        })
        .await;

        components.push(spawn("kube-apiserver", components::apiserver(&layout)));
        let admin_client = kube::Client::try_from(admin_config.clone())
            .unwrap_or_else(|e| panic!("cannot build the admin client: {e}"));
        ready(&components, "kube-apiserver /readyz", || async {
            health::get_text(&admin_client, "/readyz").await
        })
        .await;
        let apiserver_ready = began.elapsed();

        heartbeat::install_policy(&admin_client).await;
        let kwok = pki.client_cert(heartbeat::KWOK_USER, &["system:masters"]);
        kubeconfig::write(
            &layout.kwok_kubeconfig,
            &server_url,
            &pki.ca_pem,
            "kwok",
            &kwok,
        );

        components.push(spawn(
            "kube-controller-manager",
            components::controller_manager(&layout),
        ));
        components.push(spawn("kube-scheduler", components::scheduler(&layout)));
        components.push(spawn("kwok", components::kwok(&layout, &binaries.stages())));

        let kcm = health::anonymous_https_client(layout.controller_manager_port);
        ready(&components, "kube-controller-manager /healthz", || async {
            health::get_text(&kcm, "/healthz").await
        })
        .await;
        let scheduler = health::anonymous_https_client(layout.scheduler_port);
        ready(&components, "kube-scheduler /healthz", || async {
            health::get_text(&scheduler, "/healthz").await
        })
        .await;
        let leases: Api<Lease> = Api::namespaced(admin_client.clone(), "kube-system");
        ready(&components, "kube-scheduler leader lease", || async {
            let lease = leases
                .get_opt("kube-scheduler")
                .await
                .map_err(|e| e.to_string())?;
            lease
                .and_then(|l| l.spec?.holder_identity)
                .map(|_| ())
                .ok_or_else(|| "no holder yet".to_string())
        })
        .await;
        let service_accounts: Api<ServiceAccount> =
            Api::namespaced(admin_client.clone(), "default");
        ready(&components, "default ServiceAccount", || async {
            match service_accounts.get_opt("default").await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err("not created yet".to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;

        let readonly_kubeconfig = layout.file("readonly.kubeconfig");
        let viewer = pki.client_cert(users::VIEWER, &[]);
        kubeconfig::write(
            &readonly_kubeconfig,
            &server_url,
            &pki.ca_pem,
            users::VIEWER,
            &viewer,
        );
        users::bind_viewer(&admin_client).await;

        let start_duration = began.elapsed();
        // Written to stderr directly, not through the test harness's captured eprintln.
        let _ = writeln!(
            std::io::stderr(),
            "kube-runbooks-harness: control plane up in {:.1}s (apiserver ready after {:.1}s; \
             locating binaries took {:.1}s) in {}",
            start_duration.as_secs_f64(),
            apiserver_ready.as_secs_f64(),
            located.as_secs_f64(),
            layout.dir.display()
        );
        ControlPlane {
            layout,
            pki,
            binaries,
            user_seq: AtomicU64::new(0),
            server_url,
            readonly_kubeconfig,
            admin_config,
            components,
            start_duration,
        }
    }
}

fn write_pki(layout: &Layout, pki: &Pki) {
    let serving = pki.serving_cert(&[
        "127.0.0.1",
        "localhost",
        "10.96.0.1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]);
    let files = [
        ("ca.crt", pki.ca_pem.clone()),
        ("ca.key", pki.ca_key_pem()),
        ("apiserver.crt", serving.cert_pem),
        ("apiserver.key", serving.key_pem),
        ("sa.key", pki.sa_key_pem.clone()),
        ("sa.pub", pki.sa_pub_pem.clone()),
    ];
    for (name, content) in files {
        let path = layout.file(name);
        std::fs::write(&path, content)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// Polls `check` every 100 ms until it succeeds, failing early if a component exits and after
/// `STEP_TIMEOUT` with the last error.
async fn ready<T, F, Fut>(components: &[Component], what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let began = Instant::now();
    loop {
        for component in components {
            component.assert_running();
        }
        let last = match check().await {
            Ok(_) => return,
            Err(e) => e,
        };
        if began.elapsed() > STEP_TIMEOUT {
            let logs: Vec<String> = components
                .iter()
                .map(|c| {
                    format!(
                        "--- {} ({}):\n{}",
                        c.name(),
                        c.log().display(),
                        c.log_tail(15)
                    )
                })
                .collect();
            panic!(
                "{what} not ready after {STEP_TIMEOUT:?}; last error: {last}\n{}",
                logs.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
