//! The load client every server benchmark uses: a fixed number of requests
//! over a fixed number of keep-alive HTTP/1.1 connections on loopback. It
//! stops by itself when the count is reached (or, at the latest, after
//! [`LIMIT`]), and checks every answer, since a fast error is not a result.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::machine::ProcessCpu;

/// The longest one load may take before the benchmark gives up.
pub const LIMIT: Duration = Duration::from_secs(300);

/// Builds request number `i` of a load.
pub type MakeRequest =
    Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// A client for `concurrency` keep-alive connections; HTTP/1.1 only, no
/// redirects followed, no cookie store (requests carry their cookie).
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(concurrency)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// What one load cost.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub requests: usize,
    pub wall: Duration,
    /// CPU time of the server's process over the load.
    pub server_cpu: Duration,
    /// CPU time of this (the client's) process over the load.
    pub client_cpu: Duration,
}

impl Measured {
    pub fn server_cpu_per_request(&self) -> Duration {
        self.server_cpu / self.requests as u32
    }

    /// Requests per second of the server's CPU time.
    pub fn per_cpu_second(&self) -> f64 {
        self.requests as f64 / self.server_cpu.as_secs_f64()
    }

    /// Requests per second of wall time.
    pub fn per_wall_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }

    /// Cores the server kept busy on average.
    pub fn server_cores(&self) -> f64 {
        self.server_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// Sends `requests` requests made by `make`, `concurrency` at a time, and
/// measures the server's and this process's CPU over them. Every answer must
/// have status `status` and a body containing `expect`; the first that does
/// not stops the benchmark with the answer printed.
pub async fn run(
    client: &reqwest::Client,
    server: &ProcessCpu,
    requests: usize,
    concurrency: usize,
    status: u16,
    expect: &'static str,
    make: MakeRequest,
) -> Measured {
    let this = ProcessCpu::this();
    let next = Arc::new(AtomicUsize::new(0));
    let (server_before, client_before, start) = (server.now(), this.now(), Instant::now());
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, next, make) = (client.clone(), next.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return Ok(());
                }
                let response = make(&client, i)
                    .send()
                    .await
                    .map_err(|e| format!("request {i}: {e}"))?;
                let got = response.status().as_u16();
                let body = response
                    .text()
                    .await
                    .map_err(|e| format!("request {i}: body: {e}"))?;
                if got != status || !body.contains(expect) {
                    let shown: String = body.chars().take(600).collect();
                    return Err(format!(
                        "request {i}: status {got}, expected {status} with {expect:?}: {shown}"
                    ));
                }
            }
        }));
    }
    let all = async {
        for worker in workers {
            if let Err(problem) = worker.await.expect("a load worker panicked") {
                panic!("{problem}");
            }
        }
    };
    tokio::time::timeout(LIMIT, all)
        .await
        .expect("the load finished within its time limit");
    let wall = start.elapsed();
    Measured {
        requests,
        wall,
        server_cpu: server.now().saturating_sub(server_before),
        client_cpu: this.now().saturating_sub(client_before),
    }
}
