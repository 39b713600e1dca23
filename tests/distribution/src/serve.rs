//! A static file server on 127.0.0.1, so that krew downloads archives over HTTP as it does from
//! a release (its validator and `krew install NAME` only download; nothing here is exposed).

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    thread,
};

/// Serves the files of one directory (no subdirectories) until the process ends.
pub struct Server {
    url: String,
}

impl Server {
    /// Starts serving `dir` on a free port.
    pub fn start(dir: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("cannot listen on 127.0.0.1");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("no local address")
        );
        let dir = dir.to_path_buf();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                thread::spawn(move || answer(stream, &dir));
            }
        });
        Server { url }
    }

    /// `http://127.0.0.1:PORT`, the base of every file's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn answer(mut stream: TcpStream, dir: &Path) {
    let mut request_line = String::new();
    if BufReader::new(&stream)
        .read_line(&mut request_line)
        .is_err()
    {
        return;
    }
    let requested = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match file_for(dir, requested).map(std::fs::read) {
        Some(Ok(body)) => ("200 OK", body),
        _ => ("404 Not Found", Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body));
}

/// The file a request path names: a plain file name in `dir`, nothing else.
fn file_for(dir: &Path, requested: &str) -> Option<PathBuf> {
    let name = requested.strip_prefix('/')?;
    let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "..";
    plain.then(|| dir.join(name)).filter(|path| path.is_file())
}
