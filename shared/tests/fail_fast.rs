//! The client fails fast: an API server that answers 503 is reported after one request (kube's
//! default client would retry it with backoff for minutes), and one that never answers is given
//! up on after `--request-timeout`. Both are "cannot reach the API server", exit code 4.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use kube_runbook::{
    Error,
    cli::{KubectlFlags, connect},
    exit_code,
    state::{Kind, LiveOptions, load_live},
};

const THROTTLED: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}"#;
const NO_PODS: &str =
    r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}"#;
const UNAVAILABLE: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd is down","reason":"ServiceUnavailable","code":503}"#;

/// A plain-HTTP server on 127.0.0.1 that treats each connection with `answer`.
struct FakeServer {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl FakeServer {
    fn start(answer: fn(TcpStream)) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                thread::spawn(move || answer(stream));
            }
        });
        FakeServer { url, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer_503(stream: TcpStream) {
    answer(stream, "503 Service Unavailable", UNAVAILABLE);
}

fn answer_nothing(mut stream: TcpStream) {
    read_request(&mut stream);
    thread::sleep(Duration::from_secs(60));
}

fn read_request(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
}

fn answer_429_once(stream: TcpStream) {
    static ANSWERED: AtomicUsize = AtomicUsize::new(0);
    match ANSWERED.fetch_add(1, Ordering::SeqCst) {
        0 => answer_429(stream),
        _ => answer_no_pods(stream),
    }
}

fn answer_429(stream: TcpStream) {
    answer(stream, "429 Too Many Requests", THROTTLED);
}

fn answer_no_pods(stream: TcpStream) {
    answer(stream, "200 OK", NO_PODS);
}

fn answer(mut stream: TcpStream, status: &str, body: &str) {
    read_request(&mut stream);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// Connects to `server` with `--request-timeout timeout` and lists pods; the error expected.
async fn list_pods(server: &FakeServer, timeout: &str) -> (Error, Duration) {
    let (loaded, took) = try_list_pods(server, timeout).await;
    (loaded.map(|_| ()).unwrap_err(), took)
}

/// Connects to `server` with `--request-timeout timeout` and lists pods.
async fn try_list_pods(
    server: &FakeServer,
    timeout: &str,
) -> (Result<kube_runbook::state::ClusterState, Error>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster: {{server: '{}'}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n",
            server.url
        ),
    )
    .unwrap();
    let flags = KubectlFlags {
        kubeconfig: Some(kubeconfig.display().to_string()),
        request_timeout: timeout.into(),
        ..Default::default()
    };
    let conn = connect(&flags).await.unwrap();
    let started = Instant::now();
    let loaded = load_live(&conn, &[Kind::Pod], &LiveOptions::default()).await;
    (loaded, started.elapsed())
}

#[tokio::test]
async fn a_503_is_reported_after_one_request_not_retried() {
    let server = FakeServer::start(answer_503);
    let (err, took) = list_pods(&server, "30s").await;
    assert_eq!(server.requests(), 1, "retried: {err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(err.exit_code(), exit_code::UNREACHABLE, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot reach the API server at {}: it answered 503 (etcd is down)",
            server.url
        )
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_on_after_the_request_timeout() {
    let server = FakeServer::start(answer_nothing);
    let (err, took) = list_pods(&server, "1s").await;
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    assert_eq!(server.requests(), 1, "retried: {err}");
    assert_eq!(err.exit_code(), exit_code::UNREACHABLE, "{err}");
    assert!(
        err.to_string()
            .ends_with("the request timed out (see --request-timeout)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_throttled_read_is_sent_again_after_the_wait_the_server_asks() {
    let server = FakeServer::start(answer_429_once);
    let (loaded, took) = try_list_pods(&server, "30s").await;
    let state = loaded.unwrap_or_else(|e| panic!("not retried: {e}"));
    assert!(state.pods.is_empty());
    assert_eq!(server.requests(), 2);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "took {took:?}"
    );
}

#[tokio::test]
async fn a_read_throttled_four_times_running_reports_the_429() {
    let server = FakeServer::start(answer_429);
    let (err, _) = list_pods(&server, "30s").await;
    assert_eq!(server.requests(), 4, "{err}");
    assert!(err.to_string().contains("Too many requests"), "{err}");
}
