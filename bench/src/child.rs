//! The real gateway in a child process, so that its CPU time can be read
//! apart from the load client's.
//!
//! A benchmark binary calls [`serve_if_child`] first thing in `main`; its
//! parent side calls [`GatewayChild::start`], which runs the same binary again
//! with [`ROLE`] set. The child starts the gateway exactly as `vestibule serve`
//! does (a multi-threaded tokio runtime with one worker per core, SQLite in
//! WAL mode with `synchronous=FULL`, the system clock) on 127.0.0.1 with TLS
//! off, prints `READY <base URL>`, then reads commands from its standard input
//! and stops when that closes, so it never outlives its parent. The one thing
//! it adds to `serve` is that command channel, for settings the management
//! API does not expose; the channel is idle while load is measured.
//!
//! Differences from the release `vestibule` binary, all of them outside the
//! request path: configuration comes from a map rather than the environment,
//! and no log subscriber is installed (at the default `info` level the
//! gateway logs nothing per request, so this saves no work under load).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::config::{Config, MapSource};
use gateway::Gateway;
use serde_json::Value;

/// The environment variable that makes a benchmark binary the gateway child.
pub const ROLE: &str = "VESTIBULE_BENCH_ROLE";
const DATA_DIR: &str = "VESTIBULE_BENCH_DATA_DIR";

pub const ADMIN_LOGIN: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "Correct-Horse-Battery-9";
/// The bootstrap admin's SSWS token, for setting up over the management API.
pub const API_TOKEN: &str = "00benchbootstraptoken0123456789abcdefgh";
/// A password the default policy accepts, for the people a benchmark creates.
pub const PASSWORD: &str = "Plum-Orchard-Lantern-42";

/// If this process is a benchmark's gateway child, serves until standard
/// input closes, then exits; otherwise returns at once.
pub fn serve_if_child() {
    if std::env::var(ROLE).as_deref() != Ok("gateway") {
        return;
    }
    let dir = PathBuf::from(std::env::var(DATA_DIR).expect("the parent names a data directory"));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(serve(dir));
    std::process::exit(0);
}

async fn serve(dir: PathBuf) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("address").port();
    let base = format!("http://127.0.0.1:{port}");
    let source = MapSource::default()
        .set("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .set("VESTIBULE_PUBLIC_URL", base.clone())
        .set("VESTIBULE_TLS", "off")
        .set("VESTIBULE_DATA_DIR", dir.display().to_string())
        .set("VESTIBULE_BOOTSTRAP_ADMIN_LOGIN", ADMIN_LOGIN)
        .set("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .set("VESTIBULE_BOOTSTRAP_API_TOKEN", API_TOKEN)
        .set("VESTIBULE_SHUTDOWN_GRACE", "2s");
    let config = Config::from_source(&source).expect("benchmark configuration is valid");
    let gateway = Gateway::start_on(listener, config, Arc::new(vestibule_core::SystemClock))
        .await
        .expect("the gateway starts");
    println!("READY {base}");
    let mut lines =
        tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(tokio::io::stdin()));
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = command(&gateway, &line).await;
        println!("{reply}");
    }
    gateway.shutdown().await;
}

/// Runs one command from the parent; the reply is `ok` or `error: …`.
async fn command(gateway: &Gateway, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        // Access tokens of a custom authorization server signed with another
        // algorithm (the server record's `accessTokenAlg`, which the gateway
        // reads but the management API does not set yet).
        ["access-token-alg", server, alg] => match access_token_alg(gateway, server, alg).await {
            Ok(()) => "ok".into(),
            Err(e) => format!("error: {e}"),
        },
        _ => format!("error: unknown command {line:?}"),
    }
}

async fn access_token_alg(gateway: &Gateway, server: &str, alg: &str) -> Result<(), String> {
    let state = &gateway.state;
    let runtime = gateway::oauth::runtime(state)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let loaded = runtime
        .server(server)
        .ok_or("no such authorization server")?;
    let mut record = loaded.record.clone();
    record
        .settings
        .insert("accessTokenAlg".into(), Value::String(alg.to_owned()));
    state
        .store
        .update_oauth_server(&record)
        .await
        .map_err(|e| e.to_string())?;
    runtime.reload(state).await.map_err(|e| format!("{e:?}"))?;
    let now = runtime.server(server).ok_or("server gone after reload")?;
    if now.server.access_token_alg.as_str() != alg {
        return Err(format!(
            "the server signs with {} after the change",
            now.server.access_token_alg.as_str()
        ));
    }
    Ok(())
}

/// The parent's handle on a gateway child. Dropping it closes the child's
/// standard input, waits for it to stop (killing it after a few seconds if it
/// has not) and removes its data directory.
pub struct GatewayChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl GatewayChild {
    /// Starts this binary again as the gateway child and waits until it serves.
    pub fn start() -> GatewayChild {
        let dir = std::env::temp_dir().join(format!("vestibule-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data directory");
        let exe = std::env::current_exe().expect("this binary's path");
        let mut child = Command::new(exe)
            .env(ROLE, "gateway")
            .env(DATA_DIR, &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the gateway child");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the child's first line");
        let base = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the gateway child did not start: {line:?}"))
            .to_owned();
        GatewayChild {
            child,
            stdin,
            stdout,
            dir,
            base,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends one command line and returns the reply; panics on an error reply.
    pub fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the child is running");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("write to the child");
        let mut reply = String::new();
        self.stdout
            .read_line(&mut reply)
            .expect("read the child's reply");
        assert_eq!(reply.trim(), "ok", "gateway child, command {line:?}");
    }
}

impl Drop for GatewayChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
