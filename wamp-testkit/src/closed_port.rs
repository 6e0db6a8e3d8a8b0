//! A TCP port that refuses connections, for tests of refused connections.

/// A TCP port of 127.0.0.1 that refuses connections for as long as the value is kept, for
/// tests of refused connections: [`closed_port`] makes it.
#[derive(Debug)]
pub struct ClosedPort {
    /// Bound, never listened on: connections to the port are refused. Bound without
    /// `SO_REUSEADDR`, so no other socket (a proxy or router of a test running meanwhile) can
    /// take the port while it is held, as one could a port that was only free a moment ago.
    _socket: tokio::net::TcpSocket,
    port: u16,
}

impl ClosedPort {
    /// The port number.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A TCP port of 127.0.0.1 that nobody listens on, and nobody can, while the result is kept.
pub fn closed_port() -> std::io::Result<ClosedPort> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let port = socket.local_addr()?.port();
    Ok(ClosedPort {
        _socket: socket,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_port_refuses_connections_and_cannot_be_taken_while_kept() {
        let closed = closed_port().unwrap();
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], closed.port()));
        let refused = std::net::TcpStream::connect(address).map_err(|e| e.kind());
        assert_eq!(refused.err(), Some(std::io::ErrorKind::ConnectionRefused));
        // std's listeners set `SO_REUSEADDR`, as routers and proxies do.
        assert!(std::net::TcpListener::bind(address).is_err());
        drop(closed);
        assert!(std::net::TcpListener::bind(address).is_ok());
    }
}
