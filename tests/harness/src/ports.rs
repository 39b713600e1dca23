//! Free TCP ports on 127.0.0.1.

use std::net::TcpListener;

/// Returns `n` distinct ports that were free a moment ago: all are bound at once (so they differ)
/// and released before returning. Another process could grab one in between; the component
/// would then fail to start with a clear log.
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap_or_else(|e| panic!("cannot bind a free port on 127.0.0.1: {e}"))
        })
        .collect();
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .unwrap_or_else(|e| panic!("cannot read a bound port: {e}"))
                .port()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ports_are_distinct() {
        let mut ports = super::free_ports(6);
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 6);
    }
}
