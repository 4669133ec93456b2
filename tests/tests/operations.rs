//! Running the daemon: the System Log, metrics, restarts and crashes,
//! configuration errors, TLS with ALPN, health checks.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tests::{link, Backend, TestGateway, ADMIN_LOGIN, ADMIN_PASSWORD, API_TOKEN, GOOD_PASSWORD};

use tests::on_both_backends;

on_both_backends!(system_log_records_and_queries, restart_keeps_everything, a_killed_process_keeps_acknowledged_writes);

async fn logs(gw: &TestGateway, query: &[(&str, &str)]) -> reqwest::Response {
    gw.admin(Method::GET, "/api/v1/logs").query(query).send().await.unwrap()
}

async fn system_log_records_and_queries(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let user = gw.create_user("log@example.com", "Log", "Ger").await;
    let uid = user["id"].as_str().unwrap();
    gw.clock.advance(time::Duration::minutes(1));
    gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": "log@example.com", "password": "Wrong-Password-99"})).send().await.unwrap();
    gw.clock.advance(time::Duration::minutes(1));
    gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": "log@example.com", "password": GOOD_PASSWORD})).send().await.unwrap();
    let group: Value = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Auditors"}})).send().await.unwrap().json().await.unwrap();
    gw.clock.advance(time::Duration::minutes(1));
    gw.admin(Method::PUT, &format!("/api/v1/groups/{}/users/{uid}", group["id"].as_str().unwrap())).send().await.unwrap();

    let all: Vec<Value> = logs(&gw, &[]).await.json().await.unwrap();
    let types: Vec<&str> = all.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    for expected in ["user.lifecycle.create", "user.lifecycle.activate", "user.session.start", "group.lifecycle.create", "group.user_membership.add"] {
        assert!(types.contains(&expected), "{expected} in {types:?}");
    }
    let created = all.iter().find(|e| e["eventType"] == "user.lifecycle.create").unwrap();
    assert_eq!(created["actor"]["alternateId"], ADMIN_LOGIN);
    assert_eq!(created["target"][0]["id"], uid);
    assert_eq!(created["outcome"]["result"], "SUCCESS");
    assert_eq!(created["client"]["ipAddress"], "127.0.0.1");
    assert!(created["uuid"].as_str().unwrap().len() == 36);
    // Ascending by default.
    let published: Vec<&str> = all.iter().map(|e| e["published"].as_str().unwrap()).collect();
    let mut sorted = published.clone();
    sorted.sort();
    assert_eq!(published, sorted);

    let failures: Vec<Value> = logs(&gw, &[("filter", "eventType eq \"user.session.start\" and outcome.result eq \"FAILURE\"")]).await.json().await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["actor"]["id"], uid);
    let about_user: Vec<Value> = logs(&gw, &[("filter", &format!("target.id eq \"{uid}\""))]).await.json().await.unwrap();
    assert!(about_user.len() >= 3, "create, activate and membership target the user");
    let q: Vec<Value> = logs(&gw, &[("q", "membership")]).await.json().await.unwrap();
    assert_eq!(q.len(), 1);
    let window: Vec<Value> = logs(&gw, &[("since", "2026-03-02T09:00:30Z"), ("until", "2026-03-02T09:01:30Z")]).await.json().await.unwrap();
    assert_eq!(window.len(), 1, "only the failed sign-in falls in that minute");
    let newest_first: Vec<Value> = logs(&gw, &[("sortOrder", "DESCENDING"), ("limit", "1")]).await.json().await.unwrap();
    assert_eq!(newest_first[0]["eventType"], "group.user_membership.add");

    // Paging with limit and Link rel="next" visits every event once.
    let mut next = Some(gw.url("/api/v1/logs?limit=2"));
    let mut seen = Vec::new();
    while let Some(url) = next {
        let response = gw.http.get(&url).header("authorization", format!("SSWS {API_TOKEN}")).send().await.unwrap();
        next = link(response.headers(), "next");
        let page: Vec<Value> = response.json().await.unwrap();
        seen.extend(page.into_iter().map(|e| e["uuid"].as_str().unwrap().to_owned()));
        assert!(seen.len() <= all.len());
    }
    assert_eq!(seen, all.iter().map(|e| e["uuid"].as_str().unwrap().to_owned()).collect::<Vec<_>>());

    // No secret ever appears in the log.
    let text = serde_json::to_string(&all).unwrap();
    for secret in [GOOD_PASSWORD, "Wrong-Password-99", API_TOKEN, ADMIN_PASSWORD] {
        assert!(!text.contains(secret), "the System Log contains a secret");
    }
    let bad = logs(&gw, &[("filter", "password eq \"x\"")]).await;
    assert_eq!(bad.status(), 400);
    gw.stop().await;
}

async fn restart_keeps_everything(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let user = gw.create_user("stay@example.com", "Stay", "Put").await;
    let group: Value = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Keepers"}})).send().await.unwrap().json().await.unwrap();
    gw.admin(Method::PUT, &format!("/api/v1/groups/{}/users/{}", group["id"].as_str().unwrap(), user["id"].as_str().unwrap())).send().await.unwrap();
    let token: Value = gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": ADMIN_LOGIN, "password": ADMIN_PASSWORD})).send().await.unwrap().json().await.unwrap();
    let redirect = gw.http.get(gw.url("/login/sessionCookieRedirect")).query(&[("token", token["sessionToken"].as_str().unwrap()), ("redirectUrl", "/app/UserHome")]).send().await.unwrap();
    let sid = redirect.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let events_before: Vec<Value> = gw.admin(Method::GET, "/api/v1/logs").send().await.unwrap().json().await.unwrap();

    let gw = gw.restart().await;
    let found: Value = gw.admin(Method::GET, "/api/v1/users/stay@example.com").send().await.unwrap().json().await.unwrap();
    assert_eq!(found["id"], user["id"]);
    let members: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/groups/{}/users", group["id"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(members.len(), 1);
    let session = gw.http.get(gw.url("/api/v1/sessions/me")).header("cookie", &sid).send().await.unwrap();
    assert_eq!(session.status(), 200, "sessions survive a restart");
    let events_after: Vec<Value> = gw.admin(Method::GET, "/api/v1/logs").send().await.unwrap().json().await.unwrap();
    assert!(events_after.len() >= events_before.len());
    assert_eq!(events_after[..events_before.len()], events_before[..]);
    // The first admin is created once only: the store was not empty.
    let admins: Vec<Value> = gw.admin(Method::GET, "/api/v1/users?q=admin").send().await.unwrap().json().await.unwrap();
    assert_eq!(admins.len(), 1);
    gw.stop().await;
}

/// The `vestibule` binary, built beside this test (the test command builds it first).
fn vestibule_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join("vestibule");
    assert!(bin.exists(), "{} is missing: run `cargo build -p gateway --bin vestibule` first", bin.display());
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_healthy(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway at {base} did not become healthy");
}

fn spawn_daemon(storage: &tests::Storage, port: u16) -> std::process::Child {
    Command::new(vestibule_bin())
        .arg("serve")
        .env("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("VESTIBULE_TLS", "off")
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_DATABASE_URL", &storage.database_url)
        .env("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("VESTIBULE_BOOTSTRAP_API_TOKEN", API_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vestibule")
}

async fn a_killed_process_keeps_acknowledged_writes(backend: Backend) {
    let storage = tests::Storage::new(backend).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_daemon(&storage, port);
    wait_healthy(&base).await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let response = client
            .post(format!("{base}/api/v1/users"))
            .header("authorization", format!("SSWS {API_TOKEN}"))
            .json(&json!({"profile": {"login": format!("crash{i}@example.com"), "email": format!("crash{i}@example.com"), "firstName": "Crash", "lastName": "Test"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        ids.push(response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    // SIGKILL: no shutdown code runs.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = spawn_daemon(&storage, port);
    wait_healthy(&base).await;
    for id in &ids {
        let response = client.get(format!("{base}/api/v1/users/{id}")).header("authorization", format!("SSWS {API_TOKEN}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "acknowledged write {id} was lost");
    }
    // SIGTERM: a graceful stop that exits 0.
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn invalid_configuration_exits_64_naming_the_setting() {
    let cases = [
        ("VESTIBULE_TLS", "maybe"),
        ("VESTIBULE_LISTEN", "not-an-address"),
        ("VESTIBULE_DATABASE_URL", "mysql://localhost/x"),
        ("VESTIBULE_PUBLIC_URL", "localhost:8443"),
        ("VESTIBULE_MASTER_KEY", "too-short"),
        ("VESTIBULE_SESSION_IDLE", "forever"),
    ];
    for (name, value) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(vestibule_bin()).arg("serve").env("VESTIBULE_DATA_DIR", dir.path()).env(name, value).output().unwrap();
        assert_eq!(output.status.code(), Some(64), "{name}={value}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{name}: one line, got {stderr:?}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    let help = Command::new(vestibule_bin()).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("README.md") && text.contains("VESTIBULE_"), "serve --help points to the configuration reference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_is_refused_at_start() {
    let storage = tests::Storage::new(Backend::Sqlite).await;
    let port = free_port();
    let mut child = spawn_daemon(&storage, port);
    wait_healthy(&format!("http://127.0.0.1:{port}")).await;
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(storage.data_dir.join("master.key")).unwrap();
    let output = Command::new(vestibule_bin())
        .arg("serve")
        .env("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_TLS", "off")
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&output.stderr).contains("VESTIBULE_MASTER_KEY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_http2_and_http1_with_hsts() {
    let storage = tests::Storage::new(Backend::Sqlite).await;
    let port = free_port();
    let mut child = Command::new(vestibule_bin())
        .arg("serve")
        .env("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_PUBLIC_URL", format!("https://localhost:{port}"))
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_DATABASE_URL", &storage.database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let cert = storage.data_dir.join("tls/cert.pem");
    let base = format!("https://localhost:{port}");
    for _ in 0..200 {
        if cert.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pem = std::fs::read(&cert).expect("self-signed certificate generated");
    let root = reqwest::Certificate::from_pem(&pem).unwrap();
    let resolve = |b: reqwest::ClientBuilder| b.resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap()).add_root_certificate(root.clone());
    let h2 = resolve(reqwest::Client::builder()).build().unwrap();
    let mut response = None;
    for _ in 0..100 {
        if let Ok(r) = h2.get(format!("{base}/login")).send().await {
            response = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = response.expect("HTTPS answers");
    assert_eq!(response.version(), reqwest::Version::HTTP_2, "ALPN picks HTTP/2");
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    let h1 = resolve(reqwest::Client::builder().http1_only()).build().unwrap();
    let response = h1.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.text().await.unwrap(), "ok");
    // The same certificate is reused on the next start.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = Command::new(vestibule_bin())
        .arg("serve")
        .env("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_PUBLIC_URL", format!("https://localhost:{port}"))
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_DATABASE_URL", &storage.database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ok = false;
    for _ in 0..200 {
        if let Ok(r) = h2.get(format!("{base}/healthz")).send().await {
            ok = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the regenerated server still presents the first certificate");
    assert_eq!(std::fs::read(&cert).unwrap(), pem);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    assert_eq!(gw.http.get(gw.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(gw.http.get(gw.url("/readyz")).send().await.unwrap().status(), 200);
    gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": ADMIN_LOGIN, "password": ADMIN_PASSWORD})).send().await.unwrap();
    gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": ADMIN_LOGIN, "password": "nope-nope-nope"})).send().await.unwrap();
    gw.admin(Method::GET, "/api/v1/users").send().await.unwrap();
    let text = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for expected in [
        r#"vestibule_http_requests_total{method="GET",route="/api/v1/users",status="200"} 1"#,
        r#"vestibule_sign_ins_total{outcome="success"} 1"#,
        r#"vestibule_sign_ins_total{outcome="failure"} 1"#,
        "vestibule_http_request_duration_seconds_bucket",
        "vestibule_active_sessions",
        r#"vestibule_cache_requests_total{cache="api_tokens""#,
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    // Unknown paths are one label, not one per path.
    gw.http.get(gw.url("/no/such/page/1")).send().await.unwrap();
    gw.http.get(gw.url("/no/such/page/2")).send().await.unwrap();
    let text = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("/no/such/page"));
    // Readiness follows the store.
    gw.state().store.close().await;
    assert_eq!(gw.http.get(gw.url("/readyz")).send().await.unwrap().status(), 503);
    gw.stop().await;
}

#[test]
fn catalog_check_names_file_and_field() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let ok = Command::new(vestibule_bin()).args(["catalog", "check"]).arg(root.join("catalog-data/apps")).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.toml"), "name = \"broken\"\nlabel = 3\n").unwrap();
    let bad = Command::new(vestibule_bin()).args(["catalog", "check"]).arg(dir.path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8(bad.stderr).unwrap();
    assert!(text.contains("broken.toml: label"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_the_catalog_and_keeps_it_when_invalid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let catalog = tempfile::tempdir().unwrap();
    for name in ["slack", "zoom"] {
        std::fs::copy(root.join(format!("catalog-data/apps/{name}.toml")), catalog.path().join(format!("{name}.toml"))).unwrap();
    }
    let storage = tests::Storage::new(Backend::Sqlite).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(vestibule_bin())
        .arg("serve")
        .env("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_PUBLIC_URL", &base)
        .env("VESTIBULE_TLS", "off")
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_BOOTSTRAP_API_TOKEN", API_TOKEN)
        .env("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("VESTIBULE_CATALOG_DIR", catalog.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(&base).await;
    let client = reqwest::Client::new();
    let count = |client: &reqwest::Client| {
        let request = client.get(format!("{base}/api/v1/catalog/apps?limit=200")).header("authorization", format!("SSWS {API_TOKEN}"));
        async move { request.send().await.unwrap().json::<Vec<Value>>().await.unwrap().len() }
    };
    assert_eq!(count(&client).await, 2);
    std::fs::copy(root.join("catalog-data/apps/github.toml"), catalog.path().join("github.toml")).unwrap();
    let hup = |pid: u32| Command::new("kill").arg("-HUP").arg(pid.to_string()).status().unwrap();
    hup(child.id());
    let mut reloaded = false;
    for _ in 0..100 {
        if count(&client).await == 3 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "SIGHUP reloads the catalog");
    std::fs::write(catalog.path().join("broken.toml"), "name = 1").unwrap();
    hup(child.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&client).await, 3, "an invalid catalog does not replace the current one");
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

on_both_backends!(migrations_are_idempotent_and_one_time_tokens_single_use);

async fn migrations_are_idempotent_and_one_time_tokens_single_use(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let store = &gw.state().store;
    assert!(store.migrate().await.unwrap().is_empty(), "a second migration run applies nothing");
    let now = tests::start_instant();
    let user: Value = gw.create_user("once@example.com", "Once", "Only").await;
    let uid = user["id"].as_str().unwrap();
    store.insert_one_time_token("digest-1", "reset", uid, now, now + time::Duration::minutes(5)).await.unwrap();
    assert_eq!(store.peek_one_time_token("digest-1", "activation", now).await.unwrap(), None, "purpose is part of the key");
    assert_eq!(store.take_one_time_token("digest-1", "reset", now).await.unwrap().as_deref(), Some(uid));
    assert_eq!(store.take_one_time_token("digest-1", "reset", now).await.unwrap(), None, "single use");
    store.insert_one_time_token("digest-2", "reset", uid, now, now + time::Duration::minutes(5)).await.unwrap();
    assert_eq!(store.take_one_time_token("digest-2", "reset", now + time::Duration::minutes(6)).await.unwrap(), None, "expired");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_create_prints_a_working_token_once() {
    let storage = tests::Storage::new(Backend::Sqlite).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_daemon(&storage, port);
    wait_healthy(&base).await;
    let output = Command::new(vestibule_bin())
        .args(["token", "create", "--name", "ci-script"])
        .env("VESTIBULE_DATA_DIR", &storage.data_dir)
        .env("VESTIBULE_DATABASE_URL", &storage.database_url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(token.len() >= 40 && !token.contains(' '), "{token}");
    let client = reqwest::Client::new();
    let users = client.get(format!("{base}/api/v1/users")).header("authorization", format!("SSWS {token}")).send().await.unwrap();
    assert_eq!(users.status(), 200, "the printed token works against the running server");
    let listed: Vec<Value> = client.get(format!("{base}/api/v1/api-tokens")).header("authorization", format!("SSWS {token}")).send().await.unwrap().json().await.unwrap();
    assert!(listed.iter().any(|t| t["name"] == "ci-script"));
    assert!(!serde_json::to_string(&listed).unwrap().contains(&token), "the value is never listed");
    let empty = Command::new(vestibule_bin()).args(["token", "create", "--name", " "]).env("VESTIBULE_DATA_DIR", &storage.data_dir).output().unwrap();
    assert_eq!(empty.status.code(), Some(64));
    child.kill().unwrap();
    child.wait().unwrap();
}
