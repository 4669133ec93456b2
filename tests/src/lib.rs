//! The integration-test harness: starts the gateway in-process on
//! 127.0.0.1:0 with a fixed clock, on SQLite or PostgreSQL, and talks to it
//! over real HTTP.
//!
//! PostgreSQL is at VESTIBULE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres); each gateway gets a fresh
//! database named vestibule_test_*. A test never skips because PostgreSQL is
//! down: it fails, since the storage contract must hold on both backends.

#![forbid(unsafe_code)]

/// Runs an async test function once on SQLite and once on PostgreSQL:
/// `on_both_backends!(name)` makes tests `name::sqlite` and `name::postgres`
/// calling `name(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::Backend::Postgres).await }
        }
    )*};
}

use std::path::PathBuf;
use std::sync::Arc;

use gateway::config::{Config, MapSource};
use gateway::Gateway;
use serde_json::{json, Value};
use sqlx::Connection;
use time::macros::datetime;
use vestibule_core::FixedClock;

pub const ADMIN_LOGIN: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "Correct-Horse-Battery-9";
pub const API_TOKEN: &str = "00bootstraptoken0123456789abcdefghij";
/// A password the policy accepts, for people the tests create.
pub const GOOD_PASSWORD: &str = "Plum-Orchard-Lantern-42";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Where a gateway keeps its state, so a test can restart it on the same data.
pub struct Storage {
    pub data_dir: PathBuf,
    pub database_url: String,
    _dir: Arc<tempfile::TempDir>,
}

pub struct TestGateway {
    pub gateway: Option<Gateway>,
    pub base: String,
    pub clock: FixedClock,
    pub storage: Storage,
    pub http: reqwest::Client,
    pub extra: Vec<(String, String)>,
}

fn postgres_admin_url() -> String {
    std::env::var("VESTIBULE_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty PostgreSQL database; returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let name = format!("vestibule_test_{}", vestibule_core::id::random_token(12, &mut rand::thread_rng()).to_lowercase());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {admin} for the storage tests: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let mut url = url::Url::parse(&admin).expect("valid PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Storage {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().to_path_buf();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", data_dir.join("vestibule.db").display()),
            Backend::Postgres => fresh_postgres_database().await,
        };
        Self { data_dir, database_url, _dir: Arc::new(dir) }
    }

    fn share(&self) -> Self {
        Self { data_dir: self.data_dir.clone(), database_url: self.database_url.clone(), _dir: self._dir.clone() }
    }
}

/// The instant every test's clock starts at.
pub fn start_instant() -> time::OffsetDateTime {
    datetime!(2026-03-02 09:00 UTC)
}

impl TestGateway {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// Starts with extra settings (environment names and values).
    pub async fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        let storage = Storage::new(backend).await;
        let extra = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self::boot(storage, FixedClock::new(start_instant()), extra).await
    }

    async fn boot(storage: Storage, clock: FixedClock, extra: Vec<(String, String)>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("address").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut source = MapSource::default()
            .set("VESTIBULE_LISTEN", format!("127.0.0.1:{port}"))
            .set("VESTIBULE_PUBLIC_URL", base.clone())
            .set("VESTIBULE_TLS", "off")
            .set("VESTIBULE_DATA_DIR", storage.data_dir.display().to_string())
            .set("VESTIBULE_DATABASE_URL", storage.database_url.clone())
            .set("VESTIBULE_DATABASE_MAX_CONNECTIONS", "4")
            .set("VESTIBULE_BOOTSTRAP_ADMIN_LOGIN", ADMIN_LOGIN)
            .set("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .set("VESTIBULE_BOOTSTRAP_API_TOKEN", API_TOKEN)
            .set("VESTIBULE_SHUTDOWN_GRACE", "5s");
        for (k, v) in &extra {
            source = source.set(k, v.clone());
        }
        let config = Config::from_source(&source).expect("test configuration is valid");
        let gateway = Gateway::start_on(listener, config, Arc::new(clock.clone())).await.expect("gateway starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self { gateway: Some(gateway), base, clock, storage, http, extra }
    }

    /// Stops the gateway and starts a new one on the same store and data directory.
    pub async fn restart(mut self) -> Self {
        let storage = self.storage.share();
        if let Some(g) = self.gateway.take() {
            g.shutdown().await;
        }
        Self::boot(storage, self.clock.clone(), std::mem::take(&mut self.extra)).await
    }

    pub async fn stop(mut self) {
        if let Some(g) = self.gateway.take() {
            g.shutdown().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the bootstrap admin's API token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).header("authorization", format!("SSWS {API_TOKEN}")).header("accept", "application/json")
    }

    pub fn with_token(&self, token: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).header("authorization", format!("SSWS {token}"))
    }

    /// Creates an active user with a password; returns their JSON.
    pub async fn create_user(&self, login: &str, first: &str, last: &str) -> Value {
        let body = json!({
            "profile": { "login": login, "email": login, "firstName": first, "lastName": last },
            "credentials": { "password": { "value": GOOD_PASSWORD } },
        });
        let response = self.admin(reqwest::Method::POST, "/api/v1/users?activate=true").json(&body).send().await.expect("request");
        assert_eq!(response.status(), 200, "create {login}");
        response.json().await.expect("user JSON")
    }

    /// Creates an admin with `role` and an API token for them; returns the token.
    pub async fn admin_token_for_role(&self, login: &str, role: &str) -> String {
        let user = self.create_user(login, "Role", "Holder").await;
        let id = user["id"].as_str().expect("id");
        let granted = self
            .admin(reqwest::Method::POST, &format!("/api/v1/users/{id}/roles"))
            .json(&json!({ "type": role }))
            .send()
            .await
            .expect("grant");
        assert_eq!(granted.status(), 201);
        let state = &self.gateway.as_ref().expect("running").state;
        let record = state.store.user(id).await.expect("store").expect("user");
        gateway::bootstrap::create_api_token(&state.store, self.clock.now_dt(), &record.user, "test", None).await.expect("token")
    }

    pub fn state(&self) -> &gateway::AppState {
        &self.gateway.as_ref().expect("running").state
    }
}

/// `FixedClock::now` via the trait, without importing it at every call site.
pub trait ClockExt {
    fn now_dt(&self) -> time::OffsetDateTime;
}

impl ClockExt for FixedClock {
    fn now_dt(&self) -> time::OffsetDateTime {
        vestibule_core::Clock::now(self)
    }
}

/// The URL in a Link header with the given rel, if any.
pub fn link(response_headers: &reqwest::header::HeaderMap, rel: &str) -> Option<String> {
    response_headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.ends_with(&format!("rel=\"{rel}\"")))
        .and_then(|v| v.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(u, _)| u.to_owned()))
}

/// Sends a request; returns its status and JSON body (`Null` if not JSON).
pub async fn json_of(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs `login` in with [`GOOD_PASSWORD`] through /api/v1/authn and the
/// session-cookie exchange; returns the `sid=…` cookie pair.
pub async fn session(gw: &TestGateway, login: &str) -> String {
    let body: Value = gw
        .http
        .post(gw.url("/api/v1/authn"))
        .json(&json!({"username": login, "password": GOOD_PASSWORD}))
        .send()
        .await
        .expect("authn")
        .json()
        .await
        .expect("authn JSON");
    let token = body["sessionToken"].as_str().expect("session token");
    let r = gw
        .http
        .get(gw.url("/login/sessionCookieRedirect"))
        .query(&[("token", token), ("redirectUrl", "/app/UserHome")])
        .send()
        .await
        .expect("cookie redirect");
    r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned()
}

/// The value of the cookie `name` set by a response, if any.
pub fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().split_once('=').unwrap().1.to_owned())
}

/// A signed-in browser for server-rendered pages, reduced to its two
/// cookies: the session and the CSRF token its forms carry.
pub struct Browser<'a> {
    pub gw: &'a TestGateway,
    pub sid: String,
    pub csrf: String,
}

impl<'a> Browser<'a> {
    pub async fn sign_in(gw: &'a TestGateway, login: &str, password: &str) -> Browser<'a> {
        let body: Value = gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": login, "password": password})).send().await.unwrap().json().await.unwrap();
        let token = body["sessionToken"].as_str().expect("session token");
        let response = gw
            .http
            .get(gw.url("/login/sessionCookieRedirect"))
            .query(&[("token", token), ("redirectUrl", &gw.url("/app/UserHome"))])
            .send()
            .await
            .unwrap();
        let sid = set_cookie(response.headers(), "sid").expect("sid cookie");
        let mut browser = Browser { gw, sid, csrf: String::new() };
        let page = browser.get("/app/UserHome").await;
        browser.csrf = set_cookie(page.headers(), "vestibule_csrf").expect("CSRF cookie");
        browser
    }

    pub fn cookies(&self) -> String {
        format!("sid={}; vestibule_csrf={}", self.sid, self.csrf)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.gw.http.get(self.gw.url(path)).header("cookie", self.cookies()).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form as the browser would: our Origin and the CSRF field.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        self.gw.http.post(self.gw.url(path)).header("cookie", self.cookies()).header("origin", &self.gw.base).form(&form).send().await.unwrap()
    }

    /// A new person holding the admin `role`, signed in.
    pub async fn with_role(gw: &'a TestGateway, login: &str, role: &str) -> Browser<'a> {
        let user = gw.create_user(login, "Role", "Holder").await;
        let (status, _) =
            json_of(gw.admin(reqwest::Method::POST, &format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap())).json(&json!({"type": role}))).await;
        assert_eq!(status, 201);
        Browser::sign_in(gw, login, GOOD_PASSWORD).await
    }

    /// Posts and expects a 303 that does not lead to the sign-in page; returns where it leads.
    pub async fn post_ok(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let response = self.post(path, fields).await;
        let status = response.status();
        let location = response.headers().get(reqwest::header::LOCATION).map(|l| l.to_str().unwrap().to_owned());
        assert_eq!(status, reqwest::StatusCode::SEE_OTHER, "POST {path}: {}", response.text().await.unwrap());
        let location = location.unwrap();
        assert!(!location.starts_with("/login"), "POST {path} was sent to sign in");
        location
    }

    /// Posts and expects a 400 page; returns it.
    pub async fn post_refused(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let response = self.post(path, fields).await;
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST, "POST {path}");
        response.text().await.unwrap()
    }
}
