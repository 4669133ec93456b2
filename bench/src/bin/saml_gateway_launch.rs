//! The gateway's CPU per IdP-initiated SAML launch, against its target: at
//! most 1.25 times the raw RSA signatures the Response contains.
//!
//! Starts the real gateway in a child process (see `bench::child`), creates a
//! person in two groups and two SAML apps assigned to them (one signing only
//! the Assertion, one signing the Response and the Assertion), signs the
//! person in for a `sid` cookie, then drives dashboard launches
//! (`GET /home/{name}/{id}/launch`: session cookie in, auto-posting form with
//! the signed Response out) over keep-alive HTTP/1.1 from this process. The
//! gateway's CPU per launch is its process's user + system time over a load
//! divided by the launches; this process (the client) is not counted. The
//! raw signature is one RSA-2048 SHA-256 signature by OpenSSL over a
//! SignedInfo of the size the gateway signs, timed on this process's thread.
//!
//! `cargo run --release -p bench --bin saml_gateway_launch`
//! (`BENCH_LAUNCHES=n` sets the launches per case per round.)

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bench::child::{GatewayChild, API_TOKEN, PASSWORD};
use bench::load::{self, Measured};
use bench::machine::{self, ProcessCpu};
use bench::{median, show, verdict, CpuClock};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{json, Value};

const TARGET_RATIO: f64 = 1.25;
/// Keep-alive connections the launches are spread over: enough to keep the
/// gateway's two worker threads busy while one request waits on SQLite.
const CONCURRENCY: usize = 4;
/// Rounds, each running the raw signatures and both cases in turn, so that
/// they see the same machine conditions; the median round is reported.
const ROUNDS: usize = 5;
/// Raw signatures per round.
const RAW_RUNS: u32 = 300;
const ACS: &str = "https://sp.example.test/saml/acs";
const AUDIENCE: &str = "https://sp.example.test/saml/metadata";

struct Case {
    label: &'static str,
    launch_url: String,
    signatures: usize,
    response_bytes: usize,
    samples: Vec<Measured>,
}

fn main() {
    bench::child::serve_if_child();
    let launches: usize = std::env::var("BENCH_LAUNCHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let cpu_clock = CpuClock::detect();
    println!("saml_gateway_launch: the gateway's CPU per IdP-initiated SAML launch / (raw RSA-2048 signature CPU x signatures), target <= {TARGET_RATIO}");
    println!("machine: {}", machine::describe());
    println!("gateway: the real gateway in a child process (SQLite, TLS off, loopback); its CPU is its process's user+system time");
    println!("client: this process, {CONCURRENCY} keep-alive HTTP/1.1 connections; not counted in the gateway's CPU");
    println!("raw signature: {}", cpu_clock.describe());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let gateway = GatewayChild::start();
    let server_cpu = ProcessCpu::of(gateway.pid());
    println!(
        "gateway CPU clock resolution: {}",
        show(server_cpu.resolution())
    );
    println!();

    let client = load::client(CONCURRENCY);
    let (cookie, mut cases) = runtime.block_on(set_up(&client, &gateway));
    let cookie: Arc<str> = cookie.into();

    // One launch of each case, to see what it answers.
    let mut signed_info = None;
    for case in &mut cases {
        let html = runtime.block_on(async {
            let r = client
                .get(&case.launch_url)
                .header("cookie", &*cookie)
                .send()
                .await
                .expect("launch");
            assert_eq!(r.status(), 200, "launch {}", case.launch_url);
            r.text().await.expect("body")
        });
        let xml = saml_response(&html);
        case.signatures = xml.matches("SignatureValue>").count() / 2;
        case.response_bytes = xml.len();
        let start = xml.find("<ds:SignedInfo").expect("a ds:SignedInfo");
        let end = xml[start..].find("</ds:SignedInfo>").expect("its end")
            + start
            + "</ds:SignedInfo>".len();
        signed_info.get_or_insert_with(|| xml.as_bytes()[start..end].to_vec());
        println!(
            "{}: page {} B, Response {} B of XML, {} signature(s)",
            case.label,
            html.len(),
            case.response_bytes,
            case.signatures
        );
    }
    let signed_info = signed_info.expect("a launch");
    println!(
        "raw signature input: the Assertion's SignedInfo as it appears in the Response, {} B",
        signed_info.len()
    );

    // A fresh RSA-2048 key: the cost of an RSA-2048 signature does not depend
    // on which key of that size makes it.
    let key = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("PKey");
    let mut raw = Vec::new();
    let mut idle = Vec::new();
    for round in 0..=ROUNDS {
        // The gateway is idle while the raw signatures run; what it spends
        // then (timers) is printed, to show it is negligible.
        let (idle_before, wall) = (server_cpu.now(), Instant::now());
        let start = cpu_clock.now();
        for _ in 0..RAW_RUNS {
            let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("signer");
            std::hint::black_box(signer.sign_oneshot_to_vec(&signed_info).expect("signature"));
        }
        let raw_cpu = cpu_clock.since(start) / RAW_RUNS;
        let idle_cpu = (server_cpu.now().saturating_sub(idle_before), wall.elapsed());
        let mut measured = Vec::new();
        for case in &cases {
            let url: Arc<str> = case.launch_url.as_str().into();
            let cookie = cookie.clone();
            let make: load::MakeRequest =
                Arc::new(move |c, _| c.get(&*url).header("cookie", &*cookie));
            measured.push(runtime.block_on(load::run(
                &client,
                &server_cpu,
                launches,
                CONCURRENCY,
                200,
                "SAMLResponse",
                make,
            )));
        }
        // Round 0 warms caches, connections and the CPU's clock; not recorded.
        if round > 0 {
            raw.push(raw_cpu);
            idle.push(idle_cpu);
            for (case, m) in cases.iter_mut().zip(measured) {
                case.samples.push(m);
            }
        }
    }

    let raw_cpu = median(&mut raw.clone());
    let idle_cpu: Duration = idle.iter().map(|(cpu, _)| *cpu).sum();
    let idle_wall: Duration = idle.iter().map(|(_, wall)| *wall).sum();
    println!();
    println!("{ROUNDS} rounds (after one unrecorded); each: {RAW_RUNS} raw signatures, then {launches} launches per case; medians of the rounds");
    println!(
        "raw RSA-2048 SHA-256 signature (OpenSSL): {} CPU (rounds {}..{})",
        show(raw_cpu),
        show(*raw.iter().min().expect("rounds")),
        show(*raw.iter().max().expect("rounds"))
    );
    println!(
        "gateway while idle: {} CPU over {} of raw signing (not counted anywhere)",
        show(idle_cpu),
        show(idle_wall)
    );
    for case in &mut cases {
        let mut per_launch: Vec<Duration> = case
            .samples
            .iter()
            .map(Measured::server_cpu_per_request)
            .collect();
        let launch_cpu = median(&mut per_launch);
        let (low, high) = (per_launch[0], per_launch[per_launch.len() - 1]);
        let mut client_cpu: Vec<Duration> = case
            .samples
            .iter()
            .map(|m| m.client_cpu / m.requests as u32)
            .collect();
        let mut rate: Vec<Duration> = case
            .samples
            .iter()
            .map(|m| m.wall / m.requests as u32)
            .collect();
        let budget = raw_cpu * case.signatures as u32;
        let ratio = launch_cpu.as_secs_f64() / budget.as_secs_f64();
        println!();
        println!("{}:", case.label);
        println!(
            "  gateway CPU per launch {} (rounds {}..{}); wall per launch {} at {CONCURRENCY} connections; client CPU per launch {}",
            show(launch_cpu),
            show(low),
            show(high),
            show(median(&mut rate)),
            show(median(&mut client_cpu))
        );
        println!(
            "  CPU per launch / (raw signature CPU x {}) = {} / {} = {ratio:.3}  (target <= {TARGET_RATIO}: {})",
            case.signatures,
            show(launch_cpu),
            show(budget),
            verdict(ratio / TARGET_RATIO)
        );
    }
    println!();
    println!("load average at the end: {}", machine::load_average());
    drop(gateway);
}

/// The decoded SAMLResponse of an auto-posting page.
fn saml_response(html: &str) -> String {
    let marker = "name=\"SAMLResponse\" value=\"";
    let start = html.find(marker).expect("a SAMLResponse field") + marker.len();
    let end = html[start..].find('"').expect("its end") + start;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&html[start..end])
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8 XML")
}

/// A person in two groups, both apps assigned to them, and their session.
async fn set_up(client: &reqwest::Client, gateway: &GatewayChild) -> (String, Vec<Case>) {
    let api = |method: reqwest::Method, path: &str| {
        client
            .request(method, gateway.url(path))
            .header("authorization", format!("SSWS {API_TOKEN}"))
            .header("accept", "application/json")
    };
    let login = "ada.lovelace@example.com";
    let person = call(api(reqwest::Method::POST, "/api/v1/users?activate=true").json(&json!({
        "profile": { "login": login, "email": login, "firstName": "Ada", "lastName": "Lovelace" },
        "credentials": { "password": { "value": PASSWORD } },
    })))
    .await;
    let person_id = person["id"].as_str().expect("user id").to_owned();
    for name in ["Engineering", "R&D <core>"] {
        let group = call(
            api(reqwest::Method::POST, "/api/v1/groups")
                .json(&json!({ "profile": { "name": name } })),
        )
        .await;
        let added = api(
            reqwest::Method::PUT,
            &format!(
                "/api/v1/groups/{}/users/{person_id}",
                group["id"].as_str().expect("group id")
            ),
        )
        .send()
        .await
        .expect("add to group");
        assert_eq!(added.status(), 204, "add to group");
    }

    let mut cases = Vec::new();
    for (label, response_signed) in [
        ("assertion signed", false),
        ("response + assertion signed", true),
    ] {
        // What saml_launch builds: an email NameID and four attributes typed
        // xs:string, the groups read from the directory on every launch.
        let basic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
        let app = call(api(reqwest::Method::POST, "/api/v1/apps").json(&json!({
            "label": format!("Expenses ({label})"),
            "signOnMode": "SAML_2_0",
            "settings": { "signOn": {
                "ssoAcsUrl": ACS, "audience": AUDIENCE, "defaultRelayState": "/welcome",
                "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                "assertionSigned": true, "responseSigned": response_signed, "signatureAlgorithm": "RSA_SHA256",
                "attributeStatements": [
                    { "type": "EXPRESSION", "name": "email", "namespace": basic, "values": ["user.email"] },
                    { "type": "EXPRESSION", "name": "firstName", "namespace": basic, "values": ["user.firstName"] },
                    { "type": "EXPRESSION", "name": "lastName", "namespace": basic, "values": ["user.lastName"] },
                    { "type": "GROUP", "name": "groups", "namespace": basic, "filterType": "REGEX", "filterValue": ".*" },
                ],
            } },
        })))
        .await;
        let app_id = app["id"].as_str().expect("app id");
        let name = app["name"].as_str().expect("app name");
        call(
            api(
                reqwest::Method::POST,
                &format!("/api/v1/apps/{app_id}/users"),
            )
            .json(&json!({ "id": person_id, "scope": "USER" })),
        )
        .await;
        cases.push(Case {
            label,
            launch_url: gateway.url(&format!("/home/{name}/{app_id}/launch")),
            signatures: 0,
            response_bytes: 0,
            samples: Vec::new(),
        });
    }

    let authn = call(
        client
            .post(gateway.url("/api/v1/authn"))
            .json(&json!({ "username": login, "password": PASSWORD })),
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
    assert!(cookie.starts_with("sid="), "{cookie}");
    (cookie, cases)
}

/// Sends an API request that must succeed; returns its JSON.
async fn call(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("API request");
    let status = response.status();
    let body = response.text().await.expect("API body");
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}
