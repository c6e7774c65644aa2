//! Starts one `wrangler dev` server per test (free ports, private state, own process group) and
//! ends the whole group again, so npx, node and workerd never outlive the test.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a dev server may take to answer `/health` with 200 (many start at once on 2 cores).
const STARTUP_DEADLINE: Duration = Duration::from_secs(90);
/// How long the group gets to exit on SIGTERM before it is SIGKILLed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Attempts when wrangler loses a port race (we probe a free port, then wrangler binds it later).
const LAUNCH_ATTEMPTS: usize = 3;

/// A running `wrangler dev`; dropping it stops the whole process group.
pub struct DevServer {
    child: Child,
    pub port: u16,
    log: PathBuf,
    /// The first signal `Drop` sends: TERM (a clean stop, then KILL after a grace) or KILL.
    first_signal: &'static str,
    // Dropped after `Drop::drop` ran, i.e. after every process writing into it has ended.
    _dir: TempDir,
}

/// Vars given to `wrangler dev` on top of wrangler.toml's (`--var NAME:VALUE`), e.g. the
/// dev-only `FAULT_INJECTION`.
pub type Vars = Vec<(String, String)>;

enum Failure {
    /// The process ended before it became healthy.
    Exited(String),
    /// Still running, never healthy before the deadline.
    NotHealthy(String),
    /// Still running, never answering anything before the deadline: wrangler stalled while
    /// starting (seen about once in a few hundred starts with many at once on 2 cores: its
    /// log shows the local runtime started twice and never "Ready").
    NeverAnswered(String),
}

impl DevServer {
    /// Everything the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts a server from the repo root on the persisted state in `state` (which outlives
    /// the server, so a restart finds it again) and waits until `GET /health` answers 200.
    pub async fn start(http: &reqwest::Client, state: &Path, vars: &Vars) -> DevServer {
        for attempt in 1..=LAUNCH_ATTEMPTS {
            // A fresh directory per attempt: a failed attempt's state and log go with it.
            let dir = tempfile::Builder::new().prefix("studio-e2e-").tempdir().expect("create a temp dir for the server state");
            let (port, inspector_port) = free_ports();
            let log = dir.path().join("wrangler.log");
            let child = launch(port, inspector_port, state, vars, &log);
            let mut server = DevServer { child, port, log, first_signal: "TERM", _dir: dir };
            match server.wait_healthy(http).await {
                Ok(()) => return server,
                Err(Failure::Exited(why)) if attempt < LAUNCH_ATTEMPTS && lost_port_race(&server.log) => {
                    eprintln!("wrangler dev lost a port race ({why}); retrying on other ports");
                }
                Err(Failure::NeverAnswered(why)) if attempt < LAUNCH_ATTEMPTS => {
                    eprintln!("wrangler dev never answered on {port} ({why}); starting another\n{}", log_tail(&server.log, 20));
                }
                Err(Failure::Exited(why) | Failure::NotHealthy(why) | Failure::NeverAnswered(why)) => {
                    // Dropping `server` while panicking prints its log's tail (see `Drop`).
                    panic!("wrangler dev did not become healthy on port {port}: {why}");
                }
            }
            // `server` drops here, stopping whatever is left of the failed attempt.
        }
        unreachable!("the last attempt either returns or panics")
    }

    /// Ends the whole group at once with SIGKILL, as a crash would: workerd gets no chance to
    /// flush or shut down, whatever it had not persisted is lost.
    pub fn kill(mut self) {
        self.first_signal = "KILL";
        // `Drop` sends it and waits for the group to be gone.
    }

    async fn wait_healthy(&mut self, http: &reqwest::Client) -> Result<(), Failure> {
        let url = format!("http://127.0.0.1:{}/health", self.port);
        let deadline = Instant::now() + STARTUP_DEADLINE;
        let (mut last, mut answered) = (String::from("no answer yet"), false);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Failure::Exited(format!("wrangler exited with {status}")));
            }
            match http.get(&url).timeout(Duration::from_secs(5)).send().await {
                Ok(resp) if resp.status() == 200 => return Ok(()),
                // 503 means "running but misconfigured": keep the body, it names the bad check.
                Ok(resp) => {
                    answered = true;
                    last = format!("HTTP {}: {}", resp.status(), resp.text().await.unwrap_or_default());
                }
                // Refused, reset or timed out: nothing has answered yet.
                Err(e) => last = format!("request failed: {e}"),
            }
            // Short poll interval inside the deadline loop; the condition is the 200 above.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let why = format!("no 200 from /health within {STARTUP_DEADLINE:?}; last: {last}");
        match answered {
            true => Err(Failure::NotHealthy(why)),
            false => Err(Failure::NeverAnswered(why)),
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The server's own log usually explains a failed assertion (panics, bad config).
            eprintln!("--- {} (tail) ---\n{}", self.log.display(), log_tail(&self.log, 60));
        }
        // process_group(0) made the child's pid the group id of npx, node and workerd alike.
        let pgid = self.child.id() as i32;
        signal_group(pgid, self.first_signal);
        let deadline = Instant::now() + STOP_GRACE;
        while group_alive(pgid) && Instant::now() < deadline {
            let _ = self.child.try_wait(); // reap npx, else it lingers as a zombie of this group
            std::thread::sleep(Duration::from_millis(50));
        }
        if group_alive(pgid) {
            signal_group(pgid, "KILL");
        }
        let _ = self.child.wait();
    }
}

fn launch(port: u16, inspector_port: u16, state: &Path, vars: &Vars, log: &Path) -> Child {
    let out = File::create(log).expect("create the wrangler log file");
    let err = out.try_clone().expect("clone the log file handle");
    let (port, inspector_port) = (port.to_string(), inspector_port.to_string());
    let state = state.to_str().expect("temp dir path is UTF-8");
    Command::new("npx")
        .args(["wrangler", "dev", "--ip", "127.0.0.1", "--port", &port, "--inspector-port", &inspector_port])
        .args(["--persist-to", state, "--log-level", "log", "--show-interactive-dev-session=false"])
        // GET /__scheduled?cron=…&time=… fires a Cron Trigger (retention, backups) on demand.
        .arg("--test-scheduled")
        .args(vars.iter().flat_map(|(k, v)| ["--var".to_string(), format!("{k}:{v}")]))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The test command builds the wasm once; every server reuses that build.
        .env("STUDIO_SKIP_BUILD", "1")
        // No telemetry round-trips (there is no internet here) slowing startup.
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .expect("spawn `npx wrangler dev` (is npm installed and `npm install` done?)")
}

/// Two distinct free ports. Both listeners live until both are read, so they cannot coincide.
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

fn lost_port_race(log: &Path) -> bool {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.contains("EADDRINUSE") || text.contains("ddress already in use")
}

fn signal_group(pgid: i32, signal: &str) {
    // `--` so the negative pid (= the whole group) is not read as an option.
    let _ = Command::new("kill").args([&format!("-{signal}"), "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
}

/// Whether any live (non-zombie) process is still in the group. Zombies are ignored because
/// orphans are reparented to PID 1, which in a container may never reap them.
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised command name: state ppid pgrp ...
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return false };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("(cannot read the log: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
