//! An HTTP proxy for the proxy tests: Debian's tinyproxy (`apt-get install tinyproxy`;
//! `scripts/test.sh` installs it), in the foreground on a free port of 127.0.0.1, with a
//! configuration of its own in a temporary directory. It tunnels `CONNECT` to any port (the
//! configuration has no `ConnectPort` line, which tinyproxy reads as "all ports"), optionally
//! asks for Basic credentials, and logs every request, so that a test can check that its
//! connection really went through it ([`Tinyproxy::tunnels_to`]).
//!
//! The proxy stops when its [`Tinyproxy`] is dropped.
//!
//! Its port is picked free a moment before tinyproxy binds it, so another process (a router
//! of a concurrent test) may take it in between. A proxy counts as started only once tinyproxy
//! itself answers on the port (its `Server:` header), and [`Tinyproxy::start`] tries another
//! port when tinyproxy could not bind the one it was given.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::StartError;

/// How long tinyproxy may take to listen.
const START_LIMIT: Duration = Duration::from_secs(10);
/// tinyproxy's exit status when it cannot bind its port (`EX_OSERR`, "Could not create
/// listening sockets").
const EXIT_CANNOT_LISTEN: i32 = 71;
/// How long the check that tinyproxy answers on the port waits for its reply.
const ANSWER_LIMIT: Duration = Duration::from_secs(2);

/// A running tinyproxy, stopped on drop.
#[derive(Debug)]
pub struct Tinyproxy {
    child: Child,
    port: u16,
    dir: PathBuf,
    binary: PathBuf,
}

impl Tinyproxy {
    /// Starts a proxy that lets every client of 127.0.0.1 through, without credentials.
    pub fn start() -> Result<Tinyproxy, String> {
        Self::spawn(None)
    }

    /// Starts a proxy that requires HTTP Basic credentials `user` and `password` (letters,
    /// digits, `.`, `-` and `_` only: tinyproxy's configuration takes no others); a request without them or with others gets
    /// `407 Proxy Authentication Required`.
    pub fn start_with_auth(user: &str, password: &str) -> Result<Tinyproxy, String> {
        Self::spawn(Some((user, password)))
    }

    fn spawn(auth: Option<(&str, &str)>) -> Result<Tinyproxy, String> {
        Self::spawn_on_free_port(auth, || {
            crate::free_port_list(1)?
                .first()
                .copied()
                .ok_or_else(|| "no free port".to_owned())
        })
    }

    /// Starts tinyproxy on the ports `next_port` gives, until one of them is not taken by
    /// another process by the time tinyproxy binds it (see [`crate::start_on_free_ports`]).
    fn spawn_on_free_port(
        auth: Option<(&str, &str)>,
        mut next_port: impl FnMut() -> Result<u16, String>,
    ) -> Result<Tinyproxy, String> {
        crate::start_on_free_ports("tinyproxy", || {
            Self::spawn_on(next_port().map_err(StartError::Failed)?, auth)
        })
    }

    fn spawn_on(port: u16, auth: Option<(&str, &str)>) -> Result<Tinyproxy, StartError> {
        let binary = find_binary().map_err(StartError::Failed)?;
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wamp-tinyproxy-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| StartError::Failed(format!("cannot create {}: {e}", dir.display())))?;
        let log = dir.join("tinyproxy.log");
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 600\nMaxClients 100\n\
             LogLevel Connect\nLogFile \"{}\"\n",
            log.display()
        );
        if let Some((user, password)) = auth {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let config_path = dir.join("tinyproxy.conf");
        // From here on the proxy value owns the directory (and the process): dropping it on
        // an error removes both.
        let child = std::fs::write(&config_path, config)
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))
            .and_then(|()| run(&binary, &dir));
        let child = match child {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(StartError::Failed(e));
            }
        };
        let mut proxy = Tinyproxy {
            child,
            port,
            dir,
            binary,
        };
        proxy.wait_until_serving()?;
        Ok(proxy)
    }

    /// Stops the proxy (its connections drop) and starts it again on the same port with the
    /// same configuration; [`log`](Self::log) then shows the new run only. Fails if another
    /// process took the port while the proxy was down.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let log = self.log_path();
        let _ = std::fs::rename(&log, log.with_extension("log.old"));
        self.child = run(&self.binary, &self.dir)?;
        self.wait_until_serving().map_err(StartError::into_message)
    }

    /// Waits until tinyproxy answers on its port: a listener there that is not tinyproxy (a
    /// process that took the port first) does not count.
    fn wait_until_serving(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr =
                    std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                let message = format!(
                    "tinyproxy exited at start on port {} ({status}): {}{}",
                    self.port,
                    stderr.trim(),
                    self.log()
                );
                return Err(if status.code() == Some(EXIT_CANNOT_LISTEN) {
                    StartError::PortInUse(message)
                } else {
                    StartError::Failed(message)
                });
            }
            if answers_as_tinyproxy(self.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::Failed(format!(
                    "tinyproxy does not answer on 127.0.0.1:{} after {START_LIMIT:?}; its log: {}",
                    self.port,
                    self.log()
                )));
            }
            thread::sleep(crate::POLL_INTERVAL);
        }
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy's URL: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The proxy's URL with credentials (percent-encode what a URL's userinfo cannot hold):
    /// `http://USER:PASSWORD@127.0.0.1:PORT`.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// What tinyproxy has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("tinyproxy.log")
    }

    /// How many tunnels to `127.0.0.1:port` the proxy has been asked for (`CONNECT` requests
    /// in its log, granted or not).
    pub fn tunnels_to(&self, port: u16) -> usize {
        let request = format!("CONNECT 127.0.0.1:{port} HTTP/");
        self.log()
            .lines()
            .filter(|line| line.contains(&request))
            .count()
    }

    /// Stops the proxy now (also done on drop).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether tinyproxy answers on `port` of 127.0.0.1: asked for `/` (which it refuses, as a
/// proxy), it names itself in its `Server:` header.
fn answers_as_tinyproxy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if stream.set_read_timeout(Some(ANSWER_LIMIT)).is_err()
        || stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err()
    {
        return false;
    }
    // Its reply is a short error page; the headers come first.
    let mut reply = Vec::new();
    let _ = stream.take(4096).read_to_end(&mut reply);
    String::from_utf8_lossy(&reply)
        .lines()
        .take_while(|line| !line.is_empty())
        .any(|line| line.to_ascii_lowercase().starts_with("server: tinyproxy"))
}

/// Runs tinyproxy in the foreground with the configuration in `dir`, its stderr to a file there.
fn run(binary: &Path, dir: &Path) -> Result<Child, String> {
    let stderr = std::fs::File::create(dir.join("stderr.log"))
        .map_err(|e| format!("cannot create tinyproxy's stderr file: {e}"))?;
    Command::new(binary)
        .arg("-d")
        .arg("-c")
        .arg(dir.join("tinyproxy.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))
}

/// tinyproxy's path: on `PATH`, or where Debian puts it.
fn find_binary() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .iter()
        .map(|dir| dir.join("tinyproxy"))
        .chain([
            PathBuf::from("/usr/bin/tinyproxy"),
            PathBuf::from("/usr/sbin/tinyproxy"),
        ])
        .find(|candidate| is_file(candidate))
        .ok_or_else(|| {
            "tinyproxy is not installed: `apt-get install tinyproxy` (scripts/test.sh installs \
             it)"
            .to_owned()
        })
}

fn is_file(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A port another process listens on, as a router of a concurrent test that took it first
    /// would (it never answers).
    fn taken_port() -> (TcpListener, u16) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    #[test]
    fn a_port_another_process_listens_on_does_not_pass_for_the_proxy() {
        let (_other, port) = taken_port();
        match Tinyproxy::spawn_on(port, None) {
            Err(StartError::PortInUse(e)) => assert!(e.contains("exited at start"), "{e}"),
            other => panic!("expected tinyproxy to find port {port} in use, got {other:?}"),
        }
        assert!(!answers_as_tinyproxy(port));
    }

    #[test]
    fn start_moves_on_to_another_port_when_the_first_is_taken() {
        let (_other, taken) = taken_port();
        let mut offered = Vec::new();
        let proxy = Tinyproxy::spawn_on_free_port(None, || {
            let port = if offered.is_empty() {
                taken
            } else {
                crate::free_port_list(1)?[0]
            };
            offered.push(port);
            Ok(port)
        })
        .unwrap();
        assert_eq!(offered.len(), 2, "{offered:?}");
        assert_eq!(proxy.port(), offered[1]);
        assert!(answers_as_tinyproxy(proxy.port()));
    }

    #[test]
    fn restart_fails_clearly_when_the_port_was_taken_while_the_proxy_was_down() {
        let mut proxy = Tinyproxy::start().unwrap();
        proxy.kill();
        let _other = TcpListener::bind(("127.0.0.1", proxy.port())).unwrap();
        let error = proxy.restart().unwrap_err();
        assert!(
            error.contains(&format!("port {}", proxy.port())) && error.contains("exited at start"),
            "{error}"
        );
    }

    #[test]
    fn a_started_proxy_answers_as_tinyproxy_until_it_is_killed() {
        let mut proxy = Tinyproxy::start_with_auth("user", "secret").unwrap();
        assert!(answers_as_tinyproxy(proxy.port()));
        proxy.restart().unwrap();
        assert!(answers_as_tinyproxy(proxy.port()));
        proxy.kill();
        assert!(!answers_as_tinyproxy(proxy.port()));
    }
}
