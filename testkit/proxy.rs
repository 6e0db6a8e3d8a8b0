//! An HTTP proxy for the proxy tests: Debian's tinyproxy (`apt-get install tinyproxy`;
//! `scripts/test.sh` installs it), in the foreground on a free port of 127.0.0.1, with a
//! configuration of its own in a temporary directory. It tunnels `CONNECT` to any port (the
//! configuration has no `ConnectPort` line, which tinyproxy reads as "all ports"), optionally
//! asks for Basic credentials, and logs every request, so that a test can check that its
//! connection really went through it ([`Tinyproxy::tunnels_to`]).
//!
//! The proxy stops when its [`Tinyproxy`] is dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long tinyproxy may take to listen.
const START_LIMIT: Duration = Duration::from_secs(10);

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
        let binary = find_binary()?;
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wamp-tinyproxy-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let port = crate::free_port_list(1)?
            .first()
            .copied()
            .ok_or("no free port")?;
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
        std::fs::write(&config_path, config)
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
        let child = run(&binary, &dir)?;
        let mut proxy = Tinyproxy {
            child,
            port,
            dir,
            binary,
        };
        proxy.wait_until_listening()?;
        Ok(proxy)
    }

    /// Stops the proxy (its connections drop) and starts it again on the same port with the
    /// same configuration; [`log`](Self::log) then shows the new run only.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let log = self.log_path();
        let _ = std::fs::rename(&log, log.with_extension("log.old"));
        self.child = run(&self.binary, &self.dir)?;
        self.wait_until_listening()
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr =
                    std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
                return Err(format!(
                    "tinyproxy exited at start ({status}): {}{}",
                    stderr.trim(),
                    self.log()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "tinyproxy does not listen on 127.0.0.1:{} after {START_LIMIT:?}; its log: {}",
                    self.port,
                    self.log()
                ));
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
