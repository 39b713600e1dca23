//! Readiness probes of the components: TCP ports and HTTPS health endpoints.

use std::time::Duration;

/// True once something accepts TCP connections on `127.0.0.1:port`.
pub async fn port_open(port: u16) -> bool {
    tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .map(|r| r.is_ok())
    .unwrap_or(false)
}

/// `GET path` on `client`; `Ok(body)` for a 2xx answer, `Err(what went wrong)` otherwise.
pub async fn get_text(client: &kube::Client, path: &str) -> Result<String, String> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| format!("bad request {path}: {e}"))?;
    client
        .request_text(request)
        .await
        .map_err(|e| format!("GET {path}: {e}"))
}

/// An anonymous client for a component's self-signed HTTPS port (`/healthz` is always allowed).
pub fn anonymous_https_client(port: u16) -> kube::Client {
    let url = format!("https://127.0.0.1:{port}");
    let uri = url
        .parse()
        .unwrap_or_else(|e| panic!("invalid URL {url}: {e}"));
    let mut config = kube::Config::new(uri);
    config.accept_invalid_certs = true;
    config.connect_timeout = Some(Duration::from_secs(2));
    config.read_timeout = Some(Duration::from_secs(5));
    kube::Client::try_from(config)
        .unwrap_or_else(|e| panic!("cannot build a client for {url}: {e}"))
}
