//! Every scheme bound on port 0 and shaken hands with from a bare client; hostile clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::*;

const HELLO: &[u8] = br#"[1,"realm1",{"roles":{"caller":{}}}]"#;
const WELCOME: &[u8] = br#"[2,1,{"roles":{"dealer":{}}}]"#;

fn settings() -> ListenSettings {
    ListenSettings {
        tls: None,
        max_message_size: 1 << 20,
    }
}

/// A self-signed certificate for `localhost`: the router's TLS settings and the client's.
fn tls() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let certificate = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

async fn tls_connect(
    client: Arc<rustls::ClientConfig>,
    tcp: TcpStream,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let name = ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .unwrap()
}

/// The port of a bound URL, checked against the listener's address.
fn bound_port(listener: &Listener) -> u16 {
    let port = listener.local_addr().unwrap().port();
    assert_ne!(port, 0);
    assert!(
        listener.url().contains(&format!(":{port}")),
        "{}",
        listener.url()
    );
    port
}

/// Accepts one connection and runs its handshake.
async fn accept_one(listener: &mut Listener) -> Result<Accepted, ListenError> {
    listener.accept().await.unwrap().handshake().await
}

/// The client's end of a RawSocket: handshake as `serializer` id, then frames.
async fn rawsocket_client<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, serializer: u8) {
    stream
        .write_all(&[0x7F, 0xF0 | serializer, 0, 0])
        .await
        .unwrap();
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.unwrap();
    // The router announces its limit, 2^20 bytes (LLLL = 11), and echoes the serializer.
    assert_eq!(reply, [0x7F, 0xB0 | serializer, 0, 0]);
}

async fn write_frame<S: AsyncWrite + Unpin>(stream: &mut S, payload: &[u8]) {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    stream.write_all(&length).await.unwrap();
    stream.write_all(payload).await.unwrap();
}

async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(header[0], 0, "a message frame");
    let length = u32::from_be_bytes([0, header[1], header[2], header[3]]);
    let mut payload = vec![0u8; length as usize];
    stream.read_exact(&mut payload).await.unwrap();
    payload
}

/// HELLO from the client reaches the router, WELCOME from the router reaches the client.
async fn rawsocket_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
    accepted: &mut Accepted,
) {
    write_frame(client, HELLO).await;
    let received = accepted.transport.next().await.unwrap().unwrap();
    assert_eq!(&received[..], HELLO);
    accepted
        .transport
        .send(Bytes::from_static(WELCOME))
        .await
        .unwrap();
    assert_eq!(read_frame(client).await, WELCOME);
}

#[tokio::test]
async fn rawsocket_over_tcp() {
    let mut listener = bind("rs://127.0.0.1:0", &settings()).await.unwrap();
    let port = bound_port(&listener);
    assert_eq!(listener.url(), format!("rs://127.0.0.1:{port}"));
    let client = async {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        rawsocket_client(&mut tcp, 1).await;
        tcp
    };
    let (accepted, mut tcp) = tokio::join!(accept_one(&mut listener), client);
    let mut accepted = accepted.unwrap();
    assert_eq!(accepted.serializer, Serializer::Json);
    let local = tcp.local_addr().unwrap();
    assert_eq!(accepted.peer, format!("tcp4:127.0.0.1:{}", local.port()));
    rawsocket_exchange(&mut tcp, &mut accepted).await;
}

#[test]
fn peers_as_crossbar_describes_them() {
    let v6 = "[::1]:50000".parse().unwrap();
    assert_eq!(describe_peer(v6), "tcp6:::1:50000");
    let mapped = "[::ffff:10.0.0.1]:7".parse().unwrap();
    assert_eq!(describe_peer(mapped), "tcp4:10.0.0.1:7");
}

/// A socket path of this test run.
fn socket_path(name: &str) -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "wamp-router-{}-{n}-{name}.sock",
        std::process::id()
    ))
}

#[cfg(unix)]
#[tokio::test]
async fn rawsocket_over_unix() {
    let path = socket_path("unix");
    // A stale socket file, left by a process that is gone, is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let url = format!("unix://{}", path.display());
    let mut listener = bind(&url, &settings()).await.unwrap();
    assert_eq!(listener.url(), url);
    assert_eq!(listener.local_addr(), None);
    // One still listened on is not.
    let taken = bind(&url, &settings()).await.err().unwrap();
    assert!(
        taken.reason.contains("another process is listening"),
        "{taken}"
    );
    // That check's connection, refused.
    assert!(accept_one(&mut listener).await.is_err());
    let client = async {
        let mut unix = tokio::net::UnixStream::connect(&path).await.unwrap();
        rawsocket_client(&mut unix, 2).await;
        unix
    };
    let (accepted, mut unix) = tokio::join!(accept_one(&mut listener), client);
    let mut accepted = accepted.unwrap();
    assert_eq!(
        (accepted.serializer, accepted.peer.as_str()),
        (Serializer::MsgPack, "unix")
    );
    rawsocket_exchange(&mut unix, &mut accepted).await;
    drop(listener);
    assert!(
        !path.exists(),
        "the socket file is removed with the listener"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_that_is_not_a_socket_is_kept() {
    let path = socket_path("file");
    std::fs::write(&path, b"data").unwrap();
    let error = bind(&format!("unix://{}", path.display()), &settings())
        .await
        .err()
        .unwrap();
    assert!(error.reason.contains("is not a socket"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"data");
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn rawsocket_over_tls() {
    let (server, client) = tls();
    let settings = ListenSettings {
        tls: Some(server),
        ..settings()
    };
    let mut listener = bind("rss://localhost:0", &settings).await.unwrap();
    let port = bound_port(&listener);
    assert_eq!(listener.url(), format!("rss://localhost:{port}"));
    let address = listener.local_addr().unwrap();
    let connecting = async {
        let mut tls = tls_connect(client, TcpStream::connect(address).await.unwrap()).await;
        rawsocket_client(&mut tls, 3).await;
        tls
    };
    let (accepted, mut tls) = tokio::join!(accept_one(&mut listener), connecting);
    let mut accepted = accepted.unwrap();
    assert_eq!(accepted.serializer, Serializer::Cbor);
    rawsocket_exchange(&mut tls, &mut accepted).await;
}

#[tokio::test]
async fn tls_needs_a_certificate() {
    for url in ["wss://127.0.0.1:0/ws", "rss://127.0.0.1:0"] {
        let error = bind(url, &settings()).await.err().unwrap();
        assert!(error.reason.contains("RouterBuilder::tls"), "{error}");
    }
}

/// A WebSocket upgrade request for `url` offering `protocols`.
fn ws_request(url: &str, protocols: &str) -> tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocols).unwrap(),
        );
    }
    request
}

/// HELLO and WELCOME both ways over a WebSocket, as `message` makes them.
async fn websocket_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut tokio_tungstenite::WebSocketStream<S>,
    accepted: &mut Accepted,
    message: fn(&'static [u8]) -> WsMessage,
) {
    client.send(message(HELLO)).await.unwrap();
    let received = accepted.transport.next().await.unwrap().unwrap();
    assert_eq!(&received[..], HELLO);
    accepted
        .transport
        .send(Bytes::from_static(WELCOME))
        .await
        .unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), message(WELCOME));
}

fn text(bytes: &'static [u8]) -> WsMessage {
    WsMessage::text(std::str::from_utf8(bytes).unwrap())
}

fn binary(bytes: &'static [u8]) -> WsMessage {
    WsMessage::binary(bytes)
}

#[tokio::test]
async fn websocket() {
    let mut listener = bind("ws://127.0.0.1:0/ws", &settings()).await.unwrap();
    let port = bound_port(&listener);
    let url = format!("ws://127.0.0.1:{port}/ws");
    assert_eq!(listener.url(), url);
    // The client's first WAMP subprotocol wins.
    let request = ws_request(&url, "wamp.2.thrift, wamp.2.json, wamp.2.cbor");
    let (accepted, client) = tokio::join!(
        accept_one(&mut listener),
        tokio_tungstenite::connect_async(request)
    );
    let (mut client, response) = client.unwrap();
    let chosen = response.headers().get("Sec-WebSocket-Protocol").unwrap();
    assert_eq!(chosen, "wamp.2.json");
    let mut accepted = accepted.unwrap();
    assert_eq!(accepted.serializer, Serializer::Json);
    assert!(
        accepted.peer.starts_with("tcp4:127.0.0.1:"),
        "{}",
        accepted.peer
    );
    websocket_exchange(&mut client, &mut accepted, text).await;

    // A binary serializer travels in binary messages.
    let request = ws_request(&url, "wamp.2.msgpack");
    let (accepted, client) = tokio::join!(
        accept_one(&mut listener),
        tokio_tungstenite::connect_async(request)
    );
    let mut accepted = accepted.unwrap();
    assert_eq!(accepted.serializer, Serializer::MsgPack);
    websocket_exchange(&mut client.unwrap().0, &mut accepted, binary).await;
}

#[tokio::test]
async fn websocket_over_tls() {
    let (server, client) = tls();
    let settings = ListenSettings {
        tls: Some(server),
        ..settings()
    };
    let mut listener = bind("wss://localhost:0/wamp", &settings).await.unwrap();
    let port = bound_port(&listener);
    let url = format!("wss://localhost:{port}/wamp");
    assert_eq!(listener.url(), url);
    let address = listener.local_addr().unwrap();
    let connecting = async {
        let tls = tls_connect(client, TcpStream::connect(address).await.unwrap()).await;
        tokio_tungstenite::client_async(ws_request(&url, "wamp.2.cbor"), tls)
            .await
            .unwrap()
            .0
    };
    let (accepted, mut client) = tokio::join!(accept_one(&mut listener), connecting);
    let mut accepted = accepted.unwrap();
    assert_eq!(accepted.serializer, Serializer::Cbor);
    websocket_exchange(&mut client, &mut accepted, binary).await;
}

#[tokio::test]
async fn websocket_refusals_are_http_errors() {
    let mut listener = bind("ws://127.0.0.1:0/ws", &settings()).await.unwrap();
    let port = bound_port(&listener);
    for (path, protocols, status, reason) in [
        ("/other", "wamp.2.json", 404, "listens on /ws"),
        ("/ws", "", 400, "no WAMP subprotocol"),
        ("/ws", "mqtt, wamp.1.json", 400, "no WAMP subprotocol"),
    ] {
        let request = ws_request(&format!("ws://127.0.0.1:{port}{path}"), protocols);
        let (accepted, client) = tokio::join!(
            accept_one(&mut listener),
            tokio_tungstenite::connect_async(request)
        );
        match client {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), status);
            }
            other => panic!("{path} {protocols}: {other:?}"),
        }
        let error = accepted.err().unwrap();
        assert!(error.reason.contains(reason), "{error}");
    }
}

#[tokio::test]
async fn rawsocket_refusals() {
    let mut listener = bind("rs://127.0.0.1:0", &settings()).await.unwrap();
    let address = listener.local_addr().unwrap();
    // An unknown serializer is answered with error 1.
    let client = async {
        let mut tcp = TcpStream::connect(address).await.unwrap();
        tcp.write_all(&[0x7F, 0xF5, 0, 0]).await.unwrap();
        let mut reply = [0u8; 4];
        tcp.read_exact(&mut reply).await.unwrap();
        reply
    };
    let (accepted, reply) = tokio::join!(accept_one(&mut listener), client);
    assert_eq!(reply, [0x7F, 0x10, 0, 0]);
    assert!(accepted.is_err_and(|e| e.reason.contains("serializer id 5")));
    // A client that does not speak RawSocket is closed on without an answer.
    let client = async {
        let mut tcp = TcpStream::connect(address).await.unwrap();
        tcp.write_all(b"GET /ws HTTP/1.1\r\n\r\n").await.unwrap();
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).await.map(|_| rest)
    };
    let (accepted, rest) = tokio::join!(accept_one(&mut listener), client);
    let error = accepted.err().unwrap();
    assert!(error.reason.contains("first byte 0x47"), "{error}");
    assert!(rest.map_or(true, |rest| rest.is_empty()));
}

#[tokio::test]
async fn oversize_messages_end_the_connection() {
    let settings = ListenSettings {
        tls: None,
        max_message_size: 1024,
    };
    let mut listener = bind("rs://127.0.0.1:0", &settings).await.unwrap();
    let address = listener.local_addr().unwrap();
    let client = async {
        let mut tcp = TcpStream::connect(address).await.unwrap();
        tcp.write_all(&[0x7F, 0xF1, 0, 0]).await.unwrap();
        let mut reply = [0u8; 4];
        tcp.read_exact(&mut reply).await.unwrap();
        // The router announces 2^10 bytes.
        assert_eq!(reply, [0x7F, 0x11, 0, 0]);
        tcp.write_all(&[0, 0, 0x04, 0x01]).await.unwrap();
        tcp
    };
    let (accepted, _tcp) = tokio::join!(accept_one(&mut listener), client);
    let error = accepted.unwrap().transport.next().await.unwrap().err();
    assert!(
        error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("1025 bytes")),
        "{error:?}"
    );

    let mut listener = bind("ws://127.0.0.1:0/ws", &settings).await.unwrap();
    let url = listener.url().to_owned();
    let (accepted, client) = tokio::join!(
        accept_one(&mut listener),
        tokio_tungstenite::connect_async(ws_request(&url, "wamp.2.json"))
    );
    let (mut client, _) = client.unwrap();
    client
        .send(WsMessage::text("x".repeat(1025)))
        .await
        .unwrap();
    let error = accepted.unwrap().transport.next().await.unwrap().err();
    assert!(
        error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("1024 bytes")),
        "{error:?}"
    );
}

#[tokio::test]
async fn silent_clients_time_out() {
    let half_handshakes: [(&str, &[u8]); 2] = [
        ("rs://127.0.0.1:0", b"\x7F"),
        ("ws://127.0.0.1:0/ws", b"GET /ws HTTP/1.1\r\n"),
    ];
    for (url, half) in half_handshakes {
        let mut listener = bind(url, &settings()).await.unwrap();
        listener.handshake_timeout = Duration::from_millis(50);
        let address = listener.local_addr().unwrap();
        let (incoming, tcp) = tokio::join!(listener.accept(), TcpStream::connect(address));
        let mut tcp = tcp.unwrap();
        // Half a handshake, then nothing.
        tcp.write_all(half).await.unwrap();
        let error = incoming.unwrap().handshake().await.err().unwrap();
        assert!(error.reason.contains("within 50 ms"), "{url}: {error}");
    }
}

#[tokio::test]
async fn hostile_bytes_fail_the_handshake_only() {
    let mut websocket = bind("ws://127.0.0.1:0/ws", &settings()).await.unwrap();
    let mut rawsocket = bind("rs://127.0.0.1:0", &settings()).await.unwrap();
    let garbage: &[&[u8]] = &[
        b"\x00\x00\x00\x00",
        b"\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"\x7F\x00\xFF\xFF",
    ];
    for listener in [&mut websocket, &mut rawsocket] {
        for bytes in garbage {
            let address = listener.local_addr().unwrap();
            let client = async {
                let mut tcp = TcpStream::connect(address).await.unwrap();
                tcp.write_all(bytes).await.unwrap();
                tcp.shutdown().await.unwrap();
                tcp
            };
            let (accepted, _tcp) = tokio::join!(accept_one(listener), client);
            assert!(accepted.is_err(), "{bytes:?}");
        }
    }
}
