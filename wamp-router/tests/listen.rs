//! `Router::listen`: bound URLs, handshakes served, listeners closed by shutdown.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use wampkit_router::Router;

#[tokio::test]
async fn listeners_serve_until_shutdown() {
    let router = Router::builder().realm("realm1").build();
    let ws = router.listen("ws://127.0.0.1:0/ws").await.unwrap();
    let rs = router.listen("rs://127.0.0.1:0").await.unwrap();
    let ws_port = ws.local_addr().unwrap().port();
    let rs_address = rs.local_addr().unwrap();
    assert_eq!(ws.url(), format!("ws://127.0.0.1:{ws_port}/ws"));
    assert_eq!(rs.url(), format!("rs://127.0.0.1:{}", rs_address.port()));

    let socket = std::env::temp_dir().join(format!("wamp-router-{}.sock", std::process::id()));
    let unix_url = format!("unix://{}", socket.display());
    let unix = router.listen(&unix_url).await.unwrap();
    assert_eq!((unix.url(), unix.local_addr()), (unix_url.as_str(), None));

    // The RawSocket handshake is answered by the listener's task.
    let mut tcp = TcpStream::connect(rs_address).await.unwrap();
    tcp.write_all(&[0x7F, 0xF2, 0, 0]).await.unwrap();
    let mut reply = [0u8; 4];
    tcp.read_exact(&mut reply).await.unwrap();
    assert_eq!((reply[0], reply[1] & 0x0F), (0x7F, 2));

    let error = router.listen("wss://127.0.0.1:0/ws").await.err().unwrap();
    assert!(error.to_string().contains("RouterBuilder::tls"), "{error}");

    tokio::time::timeout(Duration::from_secs(5), router.shutdown())
        .await
        .unwrap();
    assert!(TcpStream::connect(rs_address).await.is_err());
    assert!(!socket.exists(), "the Unix socket is removed at shutdown");
}
