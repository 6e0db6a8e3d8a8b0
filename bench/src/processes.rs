//! The child processes of a run: started pinned to a CPU, awaited by their ready line, stopped;
//! and Crossbar.io with the helpers (the `bench.echo` callee, a publisher) it is measured with.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::orchestrate::{Ctx, ROUTER_CPU};

pub(crate) fn spawn_pinned(cmd: &mut Command, cpu: usize) -> Child {
    // SAFETY: only sched_setaffinity (async-signal-safe) runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            Ok(())
        });
    }
    cmd.stdout(Stdio::piped()).stdin(Stdio::null());
    cmd.spawn().expect("spawn")
}

/// Reads stdout lines of `child` until one starts with `prefix`; returns the rest of it.
pub(crate) fn read_line_with(child: &mut Child, prefix: &str, timeout: Duration) -> Option<String> {
    let stdout = child.stdout.take()?;
    let prefix = prefix.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let mut sent = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !sent && let Some(rest) = line.strip_prefix(prefix.as_str()) {
                        let _ = tx.send(rest.trim().to_owned());
                        sent = true;
                    }
                }
            }
        }
    });
    rx.recv_timeout(timeout).ok()
}

pub(crate) fn kill(child: &mut Child) {
    // SIGTERM first, so scripts can clean up; then SIGKILL.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(8) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1 for Crossbar.io: {e}"))
}

pub(crate) struct Crossbar {
    process: Child,
    callee: Child,
    pub(crate) ws: String,
    pub(crate) rs: String,
    pub(crate) worker_pids: Vec<u32>,
}

impl Crossbar {
    pub(crate) fn start(ctx: &Ctx) -> Result<Crossbar, String> {
        let (ws_port, rs_port, auth_port) = (free_port()?, free_port()?, free_port()?);
        let mut cmd = Command::new("bash");
        cmd.arg(&ctx.args.crossbar).arg("run");
        cmd.args(["--ws-port", &ws_port.to_string()]);
        cmd.args(["--rawsocket-port", &rs_port.to_string()]);
        cmd.args(["--rawsocket-auth-port", &auth_port.to_string()]);
        cmd.args(["--watch-pid", &std::process::id().to_string()]);
        eprintln!("wamp-bench: starting Crossbar.io (pinned to CPU {ROUTER_CPU})");
        let mut process = spawn_pinned(&mut cmd, ROUTER_CPU);
        if read_line_with(&mut process, "ready", Duration::from_secs(180)).is_none() {
            kill(&mut process);
            return Err("Crossbar.io did not print its ready line".into());
        }
        let worker_pids = crossbar_workers(process.id());
        if worker_pids.is_empty() {
            eprintln!("wamp-bench: no Crossbar worker process found; router CPU not measured");
        }
        let rs = format!("rs://127.0.0.1:{rs_port}");
        let ws = format!("ws://127.0.0.1:{ws_port}/ws");
        let mut callee = spawn_pinned(
            Command::new(&ctx.exe).args(["helper", "callee", "--url", &rs, "--ser", "msgpack"]),
            ROUTER_CPU,
        );
        if read_line_with(&mut callee, "ready", Duration::from_secs(20)).is_none() {
            kill(&mut callee);
            kill(&mut process);
            return Err("the bench.echo callee did not start".into());
        }
        Ok(Crossbar {
            process,
            callee,
            ws,
            rs,
            worker_pids,
        })
    }

    pub(crate) fn publisher(&self, ctx: &Ctx) -> Child {
        let mut p = spawn_pinned(
            Command::new(&ctx.exe).args([
                "helper",
                "publisher",
                "--url",
                &self.rs,
                "--ser",
                "msgpack",
            ]),
            ROUTER_CPU,
        );
        let _ = read_line_with(&mut p, "ready", Duration::from_secs(20));
        p
    }

    pub(crate) fn stop(mut self) {
        kill(&mut self.callee);
        kill(&mut self.process);
    }
}

/// The Crossbar router worker processes below `root` (the launcher script).
fn crossbar_workers(root: u32) -> Vec<u32> {
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut cmdline: BTreeMap<u32, String> = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
                parent.insert(pid, ppid);
            }
            let cl = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.insert(pid, String::from_utf8_lossy(&cl).replace('\0', " "));
        }
    }
    let descends = |mut pid: u32| {
        for _ in 0..16 {
            match parent.get(&pid) {
                Some(&p) if p == root => return true,
                Some(&p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    };
    cmdline
        .iter()
        .filter(|(pid, cl)| cl.contains("RouterController") && descends(**pid))
        .map(|(pid, _)| *pid)
        .collect()
}
