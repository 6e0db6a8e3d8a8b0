//! The router under test, its listeners, and the Python peers that connect to them.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use wampkit::router::Router;
use wampkit::{Serializer, Session};

/// How long one step may take: one line from a Python peer, one call, the router's shutdown.
pub(crate) const STEP: Duration = Duration::from_secs(30);

/// The realm every test uses.
pub(crate) const REALM: &str = "realm1";

#[derive(Debug, Clone, Copy)]
pub(crate) enum Transport {
    WebSocket,
    RawSocket,
    Unix,
}

/// A router listening on a WebSocket, a RawSocket and a Unix socket.
pub(crate) struct Served {
    pub(crate) router: Router,
    pub(crate) ws: String,
    pub(crate) rs: String,
    unix: String,
    socket_path: PathBuf,
}

impl Served {
    pub(crate) async fn start() -> Served {
        Self::start_with(Router::builder().realm(REALM).build()).await
    }

    pub(crate) async fn start_with(router: Router) -> Served {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let socket_path = std::env::temp_dir().join(format!(
            "wamp-router-interop-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket_path);
        let ws = router.listen("ws://127.0.0.1:0/ws").await.unwrap();
        let rs = router.listen("rs://127.0.0.1:0").await.unwrap();
        let unix = router
            .listen(&format!("unix://{}", socket_path.display()))
            .await
            .unwrap();
        assert_ne!(ws.local_addr().unwrap().port(), 0, "{}", ws.url());
        assert_ne!(rs.local_addr().unwrap().port(), 0, "{}", rs.url());
        Served {
            router,
            ws: ws.url().to_owned(),
            rs: rs.url().to_owned(),
            unix: unix.url().to_owned(),
            socket_path,
        }
    }

    pub(crate) fn url(&self, transport: Transport) -> &str {
        match transport {
            Transport::WebSocket => &self.ws,
            Transport::RawSocket => &self.rs,
            Transport::Unix => &self.unix,
        }
    }

    /// Shuts the router down, which must not take long once the peers have left.
    pub(crate) async fn stop(self) {
        within("router shutdown", self.router.shutdown()).await;
        let _ = std::fs::remove_file(&self.socket_path);
    }
}

pub(crate) async fn within<T>(what: &str, future: impl std::future::IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(STEP, future.into_future()).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: nothing within {STEP:?}"),
    }
}

pub(crate) async fn connect(url: &str, serializer: Serializer) -> Session {
    let builder = Session::builder(url, REALM).serializer(serializer);
    within("a Rust session joins", builder.connect())
        .await
        .unwrap_or_else(|e| panic!("a Rust session on {url}: {e}"))
}

/// The Python of the Crossbar.io venv, which has Autobahn|Python.
pub(crate) fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = testkit::workspace_root();
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts").join("crossbar.sh"))
            .arg("python")
            .stderr(Stdio::inherit())
            .output()
            .expect("runs scripts/crossbar.sh python");
        assert!(out.status.success(), "scripts/crossbar.sh python failed");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A running `router_peer.py`: its stdout line by line, its stderr for messages. Dropping it
/// kills the process.
pub(crate) struct Peer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    what: String,
}

impl Peer {
    pub(crate) fn spawn(url: &str, serializer: Serializer, args: &[&str]) -> Peer {
        let script = testkit::workspace_root()
            .join("tests")
            .join("python")
            .join("router_peer.py");
        let mut child = Command::new(python())
            .arg("-u")
            .arg(script)
            .args(["--url", url, "--serializer", serializer.name()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starts router_peer.py");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Peer {
            child,
            lines,
            stderr,
            what: format!("router_peer.py {} ({url}, {serializer})", args.join(" ")),
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{}: {why}\nstderr:\n{}",
            self.what,
            self.stderr.lock().unwrap()
        )
    }

    pub(crate) async fn line(&mut self) -> String {
        match tokio::time::timeout(STEP, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => {
                // Let the stderr reader catch up before quoting it.
                let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.fail("exited without printing another line")
            }
            Ok(Err(e)) => self.fail(&format!("cannot read its output: {e}")),
            Err(_) => self.fail(&format!("printed nothing within {STEP:?}")),
        }
    }

    pub(crate) async fn json(&mut self) -> Json {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|e| self.fail(&format!("{e}: {line}")))
    }

    /// Waits for the peer to exit, which it must do successfully.
    pub(crate) async fn finish(mut self) {
        match tokio::time::timeout(STEP, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => {}
            Ok(Ok(status)) => self.fail(&format!("exited with {status}")),
            Ok(Err(e)) => self.fail(&format!("cannot wait for it: {e}")),
            Err(_) => self.fail("did not exit"),
        }
    }
}

/// Runs a peer that prints one JSON object and exits.
pub(crate) async fn run_peer(url: &str, serializer: Serializer, args: &[&str]) -> Json {
    let mut peer = Peer::spawn(url, serializer, args);
    let out = peer.json().await;
    peer.finish().await;
    out
}
