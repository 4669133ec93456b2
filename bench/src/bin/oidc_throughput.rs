//! Token issuance throughput of the gateway's authorization servers, against
//! raw signatures and against node-oidc-provider.
//!
//! Starts the real gateway in a child process (see `bench::child`) with two
//! authorization servers: `default`, whose access tokens are signed RS256,
//! and a custom one whose access tokens are signed ES256. Against each it
//! loads client_credentials (a service app, client_secret_basic, one custom
//! scope) and authorization-code exchange (a web app whose ID tokens use the
//! same algorithm; codes minted just before, unmeasured, through
//! `/v1/authorize` with the person's session cookie and PKCE S256). Then the
//! same client_credentials load against node-oidc-provider (bench/oidc,
//! started here with `node server.mjs`; install it first with `npm ci` in
//! bench/oidc, which bench/run-oidc.sh does), with equivalent clients.
//!
//! Every server runs in its own process; its CPU is that process's user +
//! system time over a load. The load client is this process: fixed request
//! counts over keep-alive HTTP/1.1 connections on loopback.
//!
//! `bench/run-oidc.sh`, or `cargo run --release -p bench --bin oidc_throughput`
//! (`BENCH_REQUESTS=n` sets the requests per load).

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bench::child::{GatewayChild, API_TOKEN, PASSWORD};
use bench::load::{self, Measured};
use bench::machine::{self, ProcessCpu};
use bench::{median, show, verdict, CpuClock};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{json, Value};

/// RS256 tokens issued per CPU-second, over raw RSA signatures per CPU-second.
const RS256_TARGET: f64 = 0.8;
/// ES256 client_credentials: ours over node-oidc-provider's.
const NODE_TARGET: f64 = 10.0;
const CONCURRENCY: usize = 8;
const ROUNDS: usize = 3;
const RAW_RUNS: u32 = 400;
const SCOPE: &str = "bench.read";
const REDIRECT: &str = "https://rp.example.test/callback";
const LOGIN: &str = "ada.lovelace@example.com";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

const ALGS: [Alg; 2] = [Alg::Rs256, Alg::Es256];

/// One client_credentials or code-exchange target.
struct Target {
    token_url: String,
    client_id: String,
    secret: String,
}

/// What the gateway was set up with, per algorithm.
struct Ours {
    alg: Alg,
    issuer: String,
    service: Target,
    web: Target,
}

fn main() {
    bench::child::serve_if_child();
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let cpu_clock = CpuClock::detect();
    println!("oidc_throughput: token issuance per CPU-second against raw signatures and against node-oidc-provider");
    println!("machine: {}", machine::describe());
    println!("servers: each in its own process (gateway: SQLite, TLS off; node-oidc-provider: in-memory adapter), loopback only;");
    println!("         a server's CPU is its process's user+system time over a load");
    println!("client: this process, {CONCURRENCY} keep-alive HTTP/1.1 connections, {requests} requests per load; not counted in a server's CPU");
    println!("raw signatures: {}", cpu_clock.describe());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut gateway = GatewayChild::start();
    let gateway_cpu = ProcessCpu::of(gateway.pid());
    let client = load::client(CONCURRENCY);
    let (cookie, ours) = runtime.block_on(set_up(&client, &mut gateway));
    let node = NodeChild::start();
    match &node {
        Ok(n) => println!(
            "node-oidc-provider {} on node {}, pid {}",
            n.version,
            n.node_version,
            n.child.id()
        ),
        Err(why) => println!("node-oidc-provider: NOT RUN ({why})"),
    }
    let node_cpu = node.as_ref().ok().map(|n| ProcessCpu::of(n.child.id()));
    println!(
        "CPU clock resolution of a process: {}",
        show(gateway_cpu.resolution())
    );
    println!();

    // What each server issues, checked once, and the signing input a raw
    // signature signs: a real access token's header and payload.
    let mut signing_input = Vec::new();
    for o in &ours {
        let token = runtime
            .block_on(client_credentials(&client, &o.service))
            .expect("ours: client_credentials");
        check_alg(
            &token,
            o.alg,
            &format!("ours, {} access token", o.alg.name()),
        );
        let exchanged = runtime.block_on(async {
            let code = mint_codes(&client, o, &cookie, 1)
                .await
                .pop()
                .expect("a code");
            exchange(&client, o, &code).await
        });
        check_alg(
            exchanged["access_token"].as_str().expect("access token"),
            o.alg,
            "ours, code exchange access token",
        );
        check_alg(
            exchanged["id_token"].as_str().expect("ID token"),
            o.alg,
            "ours, code exchange ID token",
        );
        let input = token.rsplit_once('.').expect("a JWS").0.as_bytes().to_vec();
        println!(
            "ours {}: access token {} B, code exchange answers an access token and an ID token ({} B of JSON), issuer {}",
            o.alg.name(),
            token.len(),
            serde_json::to_string(&exchanged).map_or(0, |s| s.len()),
            o.issuer
        );
        signing_input = input;
    }
    if let Ok(n) = &node {
        for (alg, target) in &n.clients {
            let token = runtime
                .block_on(client_credentials(&client, target))
                .expect("node: client_credentials");
            check_alg(&token, *alg, &format!("node, {} access token", alg.name()));
            println!("node {}: access token {} B", alg.name(), token.len());
        }
    }
    println!(
        "raw signature input: a real access token's signing input, {} B",
        signing_input.len()
    );

    let rsa = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("PKey");
    let ec = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256"))
            .expect("EC key"),
    )
    .expect("PKey");

    let mut raw: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut ours_cc: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    let mut ours_code: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    let mut node_cc: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    let started = Instant::now();
    for round in 0..=ROUNDS {
        // Round 0 warms caches, connections and the CPU's clock, with fewer
        // requests; it is not recorded.
        let n = if round == 0 { requests / 5 } else { requests };
        for (i, alg) in ALGS.iter().enumerate() {
            let key = if *alg == Alg::Rs256 { &rsa } else { &ec };
            let raw_cpu = raw_signature(cpu_clock, key, &signing_input);
            let o = &ours[i];
            let cc = runtime.block_on(load_client_credentials(
                &client,
                &gateway_cpu,
                &o.service,
                n,
            ));
            let codes = runtime.block_on(mint_codes(&client, o, &cookie, n));
            let code = runtime.block_on(load_exchange(&client, &gateway_cpu, o, codes));
            let theirs = match (&node, &node_cpu) {
                (Ok(node), Some(cpu)) => {
                    let target = &node
                        .clients
                        .iter()
                        .find(|(a, _)| a == alg)
                        .expect("a node client")
                        .1;
                    Some(runtime.block_on(load_client_credentials(&client, cpu, target, n)))
                }
                _ => None,
            };
            if round > 0 {
                raw[i].push(raw_cpu);
                ours_cc[i].push(cc);
                ours_code[i].push(code);
                node_cc[i].extend(theirs);
            }
        }
    }
    println!(
        "{ROUNDS} rounds (after one unrecorded) in {:.0} s; each runs, per algorithm: {RAW_RUNS} raw signatures, then each load; medians of the rounds",
        started.elapsed().as_secs_f64()
    );

    for (i, alg) in ALGS.iter().enumerate() {
        let raw_cpu = median(&mut raw[i]);
        let raw_rate = 1.0 / raw_cpu.as_secs_f64();
        println!();
        println!("{}:", alg.name());
        println!(
            "  raw {} signature (OpenSSL): {} CPU = {:.0} signatures per CPU-second",
            alg.name(),
            show(raw_cpu),
            raw_rate
        );
        let cc = summary(&ours_cc[i]);
        let code = summary(&ours_code[i]);
        print_load("ours, client_credentials", &cc, 1);
        print_load("ours, code exchange", &code, 2);
        let node = (!node_cc[i].is_empty()).then(|| summary(&node_cc[i]));
        if let Some(node) = &node {
            print_load("node-oidc-provider, client_credentials", node, 1);
        }
        if *alg == Alg::Rs256 {
            let ratio = cc.per_cpu / raw_rate;
            println!(
                "  RS256 issuance per core / raw RSA per core (client_credentials, 1 token each) = {:.0} / {:.0} = {ratio:.3}  (target >= {RS256_TARGET}: {})",
                cc.per_cpu,
                raw_rate,
                verdict(RS256_TARGET / ratio)
            );
            let tokens = code.per_cpu * 2.0;
            println!(
                "  RS256 issuance per core / raw RSA per core (code exchange, 2 tokens each) = {tokens:.0} / {raw_rate:.0} = {:.3}",
                tokens / raw_rate
            );
        }
        if let Some(node) = node {
            let per_cpu = cc.per_cpu / node.per_cpu;
            let per_wall = cc.per_wall / node.per_wall;
            let target = if *alg == Alg::Es256 {
                format!(
                    "  (target >= {NODE_TARGET}: {})",
                    verdict(NODE_TARGET / per_cpu)
                )
            } else {
                String::new()
            };
            println!("  {} client_credentials ours / node-oidc-provider's, per CPU-second (headline) = {:.0} / {:.0} = {per_cpu:.2}{target}", alg.name(), cc.per_cpu, node.per_cpu);
            println!("  {} client_credentials ours / node-oidc-provider's, per wall second = {:.0} / {:.0} = {per_wall:.2}", alg.name(), cc.per_wall, node.per_wall);
        } else {
            println!("  node-oidc-provider was not run: no comparison");
        }
    }
    println!();
    println!("per CPU-second is the headline: node runs JavaScript on one thread (signing may use its small thread pool)");
    println!("while the gateway uses every core, and the load client shares this machine's cores with both, so per wall second");
    println!("measures the core count and the client as much as the server; per CPU-second measures the work per token");
    println!("load average at the end: {}", machine::load_average());
    drop(node);
    drop(gateway);
}

/// Medians over the rounds of one kind of load.
struct Summary {
    per_cpu: f64,
    per_wall: f64,
    cpu_per_request: Duration,
    cores: f64,
    client_cpu_per_request: Duration,
}

fn summary(samples: &[Measured]) -> Summary {
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Summary {
        per_cpu: mid(samples.iter().map(Measured::per_cpu_second).collect()),
        per_wall: mid(samples.iter().map(Measured::per_wall_second).collect()),
        cpu_per_request: median(
            &mut samples
                .iter()
                .map(Measured::server_cpu_per_request)
                .collect::<Vec<_>>(),
        ),
        cores: mid(samples.iter().map(Measured::server_cores).collect()),
        client_cpu_per_request: median(
            &mut samples
                .iter()
                .map(|m| m.client_cpu / m.requests as u32)
                .collect::<Vec<_>>(),
        ),
    }
}

fn print_load(label: &str, s: &Summary, tokens: usize) {
    println!(
        "  {label}: {:.0} requests per CPU-second ({} CPU per request, {tokens} signed token(s) each), {:.0} per wall second with {:.2} cores busy; client CPU per request {}",
        s.per_cpu,
        show(s.cpu_per_request),
        s.per_wall,
        s.cores,
        show(s.client_cpu_per_request)
    );
}

/// CPU of one raw signature with `key`, SHA-256, over `input` (a new
/// `Signer` each time, as a JWS library does).
fn raw_signature(clock: CpuClock, key: &PKey<Private>, input: &[u8]) -> Duration {
    let start = clock.now();
    for _ in 0..RAW_RUNS {
        let mut signer = Signer::new(MessageDigest::sha256(), key).expect("signer");
        std::hint::black_box(signer.sign_oneshot_to_vec(input).expect("signature"));
    }
    clock.since(start) / RAW_RUNS
}

fn check_alg(jwt: &str, alg: Alg, what: &str) {
    let header = jwt.split('.').next().expect("a JWS header");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url"))
        .expect("JSON header");
    assert_eq!(header["alg"], alg.name(), "{what}: {header}");
}

fn basic(target: &Target) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", target.client_id, target.secret))
    )
}

async fn client_credentials(client: &reqwest::Client, target: &Target) -> Result<String, String> {
    let r = client
        .post(&target.token_url)
        .header("authorization", basic(target))
        .form(&[("grant_type", "client_credentials"), ("scope", SCOPE)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    match body["access_token"].as_str() {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => Err(format!("{status}: {body}")),
    }
}

async fn load_client_credentials(
    client: &reqwest::Client,
    cpu: &ProcessCpu,
    target: &Target,
    n: usize,
) -> Measured {
    let (url, authorization): (Arc<str>, Arc<str>) =
        (target.token_url.as_str().into(), basic(target).into());
    let make: load::MakeRequest = Arc::new(move |c, _| {
        c.post(&*url)
            .header("authorization", &*authorization)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=bench.read")
    });
    load::run(client, cpu, n, CONCURRENCY, 200, "\"access_token\"", make).await
}

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// `n` authorization codes for the web app, each with its PKCE verifier,
/// through the authorization endpoint with the person's session.
async fn mint_codes(
    client: &reqwest::Client,
    o: &Ours,
    cookie: &str,
    n: usize,
) -> Vec<(String, String)> {
    let authorize = format!("{}/v1/authorize", o.issuer);
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let share = n / CONCURRENCY + usize::from(worker < n % CONCURRENCY);
        let (client, authorize, cookie, client_id) = (
            client.clone(),
            authorize.clone(),
            cookie.to_owned(),
            o.web.client_id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::with_capacity(share);
            for _ in 0..share {
                let (verifier, challenge) = pkce();
                let state = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
                let r = client
                    .get(&authorize)
                    .header("cookie", &cookie)
                    .query(&[
                        ("client_id", client_id.as_str()),
                        ("redirect_uri", REDIRECT),
                        ("response_type", "code"),
                        ("scope", "openid profile email"),
                        ("state", &state),
                        ("nonce", &state),
                        ("code_challenge", &challenge),
                        ("code_challenge_method", "S256"),
                    ])
                    .send()
                    .await
                    .expect("authorize");
                let location = r
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let status = r.status();
                let url = reqwest::Url::parse(&location)
                    .ok()
                    .filter(|u| u.as_str().starts_with(REDIRECT));
                let code = url.as_ref().and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "code")
                        .map(|(_, v)| v.into_owned())
                });
                let Some(code) = code else {
                    let body = r.text().await.unwrap_or_default();
                    panic!(
                        "authorize did not send a code: {status} {location} {}",
                        body.chars().take(400).collect::<String>()
                    );
                };
                codes.push((code, verifier));
            }
            codes
        }));
    }
    let mut codes = Vec::with_capacity(n);
    for t in tasks {
        codes.extend(t.await.expect("a minting task"));
    }
    codes
}

fn exchange_request(
    c: &reqwest::Client,
    token_url: &str,
    authorization: &str,
    code: &str,
    verifier: &str,
) -> reqwest::RequestBuilder {
    c.post(token_url)
        .header("authorization", authorization)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
}

async fn exchange(
    client: &reqwest::Client,
    o: &Ours,
    (code, verifier): &(String, String),
) -> Value {
    let r = exchange_request(client, &o.web.token_url, &basic(&o.web), code, verifier)
        .send()
        .await
        .expect("token");
    let status = r.status();
    let body: Value = r.json().await.expect("token JSON");
    assert_eq!(status, 200, "code exchange: {body}");
    body
}

async fn load_exchange(
    client: &reqwest::Client,
    cpu: &ProcessCpu,
    o: &Ours,
    codes: Vec<(String, String)>,
) -> Measured {
    let n = codes.len();
    let codes = Arc::new(codes);
    let (url, authorization): (Arc<str>, Arc<str>) =
        (o.web.token_url.as_str().into(), basic(&o.web).into());
    let make: load::MakeRequest = Arc::new(move |c, i| {
        let (code, verifier) = &codes[i];
        exchange_request(c, &url, &authorization, code, verifier)
    });
    load::run(client, cpu, n, CONCURRENCY, 200, "\"id_token\"", make).await
}

/// The person, their session, and per algorithm an authorization server, a
/// service app and a web app.
async fn set_up(client: &reqwest::Client, gateway: &mut GatewayChild) -> (String, Vec<Ours>) {
    let api = |method: reqwest::Method, path: &str| {
        client
            .request(method, gateway.url(path))
            .header("authorization", format!("SSWS {API_TOKEN}"))
            .header("accept", "application/json")
    };
    let person = call(api(reqwest::Method::POST, "/api/v1/users?activate=true").json(&json!({
        "profile": { "login": LOGIN, "email": LOGIN, "firstName": "Ada", "lastName": "Lovelace" },
        "credentials": { "password": { "value": PASSWORD } },
    })))
    .await;
    let person_id = person["id"].as_str().expect("user id").to_owned();
    let es_server = call(api(reqwest::Method::POST, "/api/v1/authorizationServers").json(&json!({
        "name": "Bench ES256", "description": "access tokens signed ES256", "audiences": ["api://bench-es256"],
    })))
    .await;
    let es_server = es_server["id"].as_str().expect("server id").to_owned();
    // A new custom server issues nothing until it has an access policy (as
    // in Okta): the same policy and rule the `default` server starts with.
    let policy = call(api(reqwest::Method::POST, &format!("/api/v1/authorizationServers/{es_server}/policies")).json(&json!({
        "type": "OAUTH_AUTHORIZATION_POLICY", "name": "Default Policy", "description": "Every client", "priority": 1,
        "conditions": { "clients": { "include": ["ALL_CLIENTS"] } },
    })))
    .await;
    call(
        api(reqwest::Method::POST, &format!("/api/v1/authorizationServers/{es_server}/policies/{}/rules", policy["id"].as_str().expect("policy id")))
            .json(&json!({
                "type": "RESOURCE_ACCESS", "name": "Default Policy Rule", "priority": 1,
                "conditions": {
                    "grantTypes": { "include": ["authorization_code", "client_credentials"] },
                    "people": { "groups": { "include": ["EVERYONE"] } },
                    "scopes": { "include": ["*"] },
                },
            })),
    )
    .await;

    let mut ours = Vec::new();
    for alg in ALGS {
        let server = if alg == Alg::Rs256 {
            "default".to_owned()
        } else {
            es_server.clone()
        };
        call(
            api(
                reqwest::Method::POST,
                &format!("/api/v1/authorizationServers/{server}/scopes"),
            )
            .json(&json!({ "name": SCOPE })),
        )
        .await;
        let service = oidc_app(&api, "service", json!({ "grant_types": ["client_credentials"], "response_types": ["token"], "application_type": "service" })).await;
        let web = oidc_app(&api, "web", json!({
            "redirect_uris": [REDIRECT], "grant_types": ["authorization_code"], "response_types": ["code"],
            "application_type": "web", "consent_method": "TRUSTED", "id_token_signed_response_alg": alg.name(),
        }))
        .await;
        call(
            api(
                reqwest::Method::POST,
                &format!("/api/v1/apps/{}/users", web.0),
            )
            .json(&json!({ "id": person_id })),
        )
        .await;
        let issuer = gateway.url(&format!("/oauth2/{server}"));
        let token_url = format!("{issuer}/v1/token");
        ours.push(Ours {
            alg,
            service: Target {
                token_url: token_url.clone(),
                client_id: service.0,
                secret: service.1,
            },
            web: Target {
                token_url,
                client_id: web.0,
                secret: web.1,
            },
            issuer,
        });
    }
    // The management API sets no access-token algorithm; the child sets the
    // server record's setting, as an admin's change would.
    gateway.command(&format!("access-token-alg {es_server} ES256"));

    let authn = call(
        client
            .post(gateway.url("/api/v1/authn"))
            .json(&json!({ "username": LOGIN, "password": PASSWORD })),
    )
    .await;
    let token = authn["sessionToken"].as_str().expect("a session token");
    let redirect = client
        .get(gateway.url("/login/sessionCookieRedirect"))
        .query(&[("token", token), ("redirectUrl", "/app/UserHome")])
        .send()
        .await
        .expect("session cookie redirect");
    let cookie = redirect.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    (cookie, ours)
}

/// An OPENID_CONNECT app; returns its client id and secret.
async fn oidc_app(
    api: &impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder,
    label: &str,
    settings: Value,
) -> (String, String) {
    let app = call(api(reqwest::Method::POST, "/api/v1/apps").json(&json!({
        "name": "oidc_client", "label": format!("Bench {label}"), "signOnMode": "OPENID_CONNECT",
        "settings": { "oauthClient": settings },
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic" } },
    })))
    .await;
    let id = app["id"].as_str().expect("client id").to_owned();
    let secret = app["credentials"]["oauthClient"]["client_secret"]
        .as_str()
        .expect("a client secret, shown once")
        .to_owned();
    (id, secret)
}

/// Sends an API request that must succeed; returns its JSON.
async fn call(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("API request");
    let status = response.status();
    let body = response.text().await.expect("API body");
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// node-oidc-provider in a child process; it exits when its standard input
/// closes, which dropping this does.
struct NodeChild {
    child: Child,
    stdin: Option<ChildStdin>,
    clients: Vec<(Alg, Target)>,
    version: String,
    node_version: String,
}

impl NodeChild {
    fn start() -> Result<NodeChild, String> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc");
        let package = dir.join("node_modules/oidc-provider/package.json");
        let version = std::fs::read_to_string(&package)
            .ok()
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .and_then(|p| p["version"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                format!(
                    "{} is missing: run `npm ci` in {} (bench/run-oidc.sh does)",
                    package.display(),
                    dir.display()
                )
            })?;
        let node = std::env::var("BENCH_NODE").unwrap_or_else(|_| "node".into());
        let node_version = Command::new(&node)
            .arg("--version")
            .output()
            .map_err(|e| format!("{node}: {e}"))
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
        let mut child = Command::new(&node)
            .arg("server.mjs")
            .current_dir(&dir)
            .env("NODE_ENV", "production")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{node}: {e}"))?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let mut issuer = None;
        let mut clients = Vec::new();
        while clients.len() < 2 {
            line.clear();
            if stdout.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                let _ = child.kill();
                return Err("server.mjs exited before it was ready".into());
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["READY", url] => issuer = Some((*url).to_owned()),
                ["CLIENT", id, secret, alg] => {
                    let alg = if *alg == "ES256" {
                        Alg::Es256
                    } else {
                        Alg::Rs256
                    };
                    let token_url =
                        format!("{}/token", issuer.as_deref().ok_or("CLIENT before READY")?);
                    clients.push((
                        alg,
                        Target {
                            token_url,
                            client_id: (*id).to_owned(),
                            secret: (*secret).to_owned(),
                        },
                    ));
                }
                _ => {}
            }
        }
        Ok(NodeChild {
            child,
            stdin,
            clients,
            version,
            node_version,
        })
    }
}

impl Drop for NodeChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
