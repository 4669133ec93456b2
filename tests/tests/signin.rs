//! Sign-in and sessions: the Authentication API, the session-cookie
//! exchange, the sign-in page with its CSRF check, lockout, timeouts and
//! sign-out, on both backends.

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};
use tests::{Backend, TestGateway, ADMIN_LOGIN, ADMIN_PASSWORD, GOOD_PASSWORD};

use tests::on_both_backends;

on_both_backends!(authn_and_session_cookie_redirect, sign_in_page_with_csrf, lockout_and_unlock, sessions_time_out_and_end, deactivation_ends_sessions);

fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
}

async fn authn(gw: &TestGateway, username: &str, password: &str) -> reqwest::Response {
    gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": username, "password": password})).send().await.unwrap()
}

/// Signs in through the API and the cookie exchange; returns the `sid` value.
async fn session_for(gw: &TestGateway, username: &str, password: &str) -> String {
    let body: Value = authn(gw, username, password).await.json().await.unwrap();
    let token = body["sessionToken"].as_str().expect("session token");
    let response = gw
        .http
        .get(gw.url("/login/sessionCookieRedirect"))
        .query(&[("token", token), ("redirectUrl", &gw.url("/app/UserHome"))])
        .send()
        .await
        .unwrap();
    cookie_value(&set_cookie(response.headers(), "sid").expect("sid cookie"))
}

async fn me(gw: &TestGateway, sid: &str) -> reqwest::Response {
    gw.http.get(gw.url("/api/v1/sessions/me")).header("cookie", format!("sid={sid}")).send().await.unwrap()
}

async fn authn_and_session_cookie_redirect(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let ok = authn(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["_embedded"]["user"]["profile"]["login"], ADMIN_LOGIN);
    assert!(body["expiresAt"].as_str().unwrap().starts_with("2026-03-02T09:05"));
    let token = body["sessionToken"].as_str().unwrap();

    for (username, password) in [(ADMIN_LOGIN, "Wrong-Password-123"), ("nobody@example.com", ADMIN_PASSWORD)] {
        let failed = authn(&gw, username, password).await;
        assert_eq!(failed.status(), 401);
        let body: Value = failed.json().await.unwrap();
        assert_eq!(body["errorCode"], "E0000004");
        assert_eq!(body["errorSummary"], "Authentication failed");
    }
    let missing = gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": ADMIN_LOGIN})).send().await.unwrap();
    assert_eq!(missing.status(), 400);

    // A redirect to another site is refused, and the token is not spent on it.
    let evil = gw
        .http
        .get(gw.url("/login/sessionCookieRedirect"))
        .query(&[("token", token), ("redirectUrl", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 400);
    assert!(set_cookie(evil.headers(), "sid").is_none());
    for sneaky in ["//evil.example/", "/\\evil.example", "javascript:alert(1)"] {
        let response = gw.http.get(gw.url("/login/sessionCookieRedirect")).query(&[("token", token), ("redirectUrl", sneaky)]).send().await.unwrap();
        assert_eq!(response.status(), 400, "{sneaky}");
    }
    let good = gw
        .http
        .get(gw.url("/login/sessionCookieRedirect"))
        .query(&[("token", token), ("redirectUrl", &gw.url("/app/UserHome?tab=1"))])
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 303);
    assert_eq!(good.headers()[LOCATION], "/app/UserHome?tab=1");
    let cookie = set_cookie(good.headers(), "sid").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-HTTP test server: no Secure attribute");
    let sid = cookie_value(&cookie);
    // The token is single-use.
    let replay = gw.http.get(gw.url("/login/sessionCookieRedirect")).query(&[("token", token), ("redirectUrl", "/app/UserHome")]).send().await.unwrap();
    assert_eq!(replay.status(), 401);

    let session: Value = me(&gw, &sid).await.json().await.unwrap();
    assert!(session["id"].as_str().unwrap().starts_with("102"));
    assert_eq!(session["login"], ADMIN_LOGIN);
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(session["amr"], json!(["pwd"]));
    // An admin can read the session by id; the cookie value itself is never an id.
    let by_id = gw.admin(Method::GET, &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(by_id.status(), 200);
    assert_ne!(session["id"].as_str().unwrap(), sid);

    // DELETE /sessions/me needs our Origin when authenticated by cookie.
    let cross = gw.http.delete(gw.url("/api/v1/sessions/me")).header("cookie", format!("sid={sid}")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(me(&gw, &sid).await.status(), 200);
    let ended = gw.http.delete(gw.url("/api/v1/sessions/me")).header("cookie", format!("sid={sid}")).header("origin", &gw.base).send().await.unwrap();
    assert_eq!(ended.status(), 204);
    let after = me(&gw, &sid).await;
    assert_eq!(after.status(), 403);
    assert_eq!(after.json::<Value>().await.unwrap()["errorCode"], "E0000005");
    gw.stop().await;
}

/// The form fields and cookies of the sign-in page.
async fn login_page(gw: &TestGateway, from: &str) -> (String, String) {
    let page = gw.http.get(gw.url("/login")).query(&[("fromURI", from)]).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin", "no-referrer makes browsers send Origin: null on form posts");
    let csrf_cookie = cookie_value(&set_cookie(&headers, "vestibule_csrf").expect("CSRF cookie"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Acme"), "the page shows the org name");
    assert!(html.contains(r#"<label for="username">"#) && html.contains(r#"<label for="password">"#));
    let field = html.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(field, csrf_cookie);
    (csrf_cookie, html)
}

async fn post_login(gw: &TestGateway, cookie_csrf: &str, field_csrf: &str, username: &str, password: &str, from: &str) -> reqwest::Response {
    gw.http
        .post(gw.url("/login"))
        .header("cookie", format!("vestibule_csrf={cookie_csrf}"))
        .form(&[("csrf", field_csrf), ("username", username), ("password", password), ("fromURI", from)])
        .send()
        .await
        .unwrap()
}

async fn sign_in_page_with_csrf(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    // The dashboard sends a stranger to the sign-in page, remembering where they were going.
    let dashboard = gw.http.get(gw.url("/app/UserHome")).send().await.unwrap();
    assert_eq!(dashboard.status(), 303);
    assert_eq!(dashboard.headers()[LOCATION], "/login?fromURI=%2Fapp%2FUserHome");

    let (csrf, _) = login_page(&gw, "/app/UserHome").await;
    let forged = post_login(&gw, &csrf, "not-the-token-000000000000000000000000000", ADMIN_LOGIN, ADMIN_PASSWORD, "/app/UserHome").await;
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(forged.headers(), "sid").is_none());
    let no_cookie = gw.http.post(gw.url("/login")).form(&[("csrf", csrf.as_str()), ("username", ADMIN_LOGIN), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
    assert_eq!(no_cookie.status(), 403);

    let wrong = post_login(&gw, &csrf, &csrf, ADMIN_LOGIN, "Not-The-Password-1", "/app/UserHome").await;
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(html.contains(r#"role="alert""#) && html.contains("Unable to sign in"));
    assert!(html.contains(&format!(r#"value="{ADMIN_LOGIN}""#)), "the username is kept");

    // A foreign fromURI is ignored; the dashboard is the default.
    let signed_in = post_login(&gw, &csrf, &csrf, ADMIN_LOGIN, ADMIN_PASSWORD, "https://evil.example/steal").await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()[LOCATION], "/app/UserHome");
    let sid = cookie_value(&set_cookie(signed_in.headers(), "sid").unwrap());
    let home = gw.http.get(gw.url("/app/UserHome")).header("cookie", format!("sid={sid}")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("Apps managed by Acme"));
    assert!(html.contains("Vestibule Administrator"));
    assert!(html.contains(r#"href="/admin""#), "admins see the Admin Console link");

    // Sign-out needs the CSRF field too, then ends the session.
    let refused = gw.http.post(gw.url("/login/signout")).header("cookie", format!("sid={sid}; vestibule_csrf={csrf}")).form(&[("csrf", "x")]).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(me(&gw, &sid).await.status(), 200);
    let out = gw.http.post(gw.url("/login/signout")).header("cookie", format!("sid={sid}; vestibule_csrf={csrf}")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert!(set_cookie(out.headers(), "sid").unwrap().contains("Max-Age=0"));
    assert_eq!(me(&gw, &sid).await.status(), 403);
    gw.stop().await;
}

async fn lockout_and_unlock(backend: Backend) {
    let gw = TestGateway::start_with(backend, &[("VESTIBULE_LOCKOUT_ATTEMPTS", "3"), ("VESTIBULE_LOCKOUT_DURATION", "10m")]).await;
    let user = gw.create_user("lock@example.com", "Lock", "Smith").await;
    let id = user["id"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(authn(&gw, "lock@example.com", "Wrong-Password-123").await.status(), 401);
    }
    let locked: Value = gw.admin(Method::GET, &format!("/api/v1/users/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(locked["status"], "LOCKED_OUT");
    // Even the right password fails while locked, with the same answer as a wrong one.
    let right = authn(&gw, "lock@example.com", GOOD_PASSWORD).await;
    assert_eq!(right.status(), 401);
    assert_eq!(right.json::<Value>().await.unwrap()["errorCode"], "E0000004");
    // After the lockout period the account unlocks itself, and a new run of
    // failures locks it again.
    gw.clock.advance(time::Duration::minutes(11));
    for _ in 0..3 {
        assert_eq!(authn(&gw, "lock@example.com", "Wrong-Password-123").await.status(), 401);
    }
    let relocked: Value = gw.admin(Method::GET, &format!("/api/v1/users/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(relocked["status"], "LOCKED_OUT", "an expired lock must not allow unlimited guesses");
    assert_eq!(authn(&gw, "lock@example.com", GOOD_PASSWORD).await.status(), 401);
    gw.clock.advance(time::Duration::minutes(11));
    assert_eq!(authn(&gw, "lock@example.com", GOOD_PASSWORD).await.status(), 200);
    let unlocked: Value = gw.admin(Method::GET, &format!("/api/v1/users/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(unlocked["status"], "ACTIVE");
    // An admin can unlock at once.
    for _ in 0..3 {
        authn(&gw, "lock@example.com", "Wrong-Password-123").await;
    }
    assert_eq!(gw.admin(Method::POST, &format!("/api/v1/users/{id}/lifecycle/unlock")).send().await.unwrap().status(), 200);
    assert_eq!(authn(&gw, "lock@example.com", GOOD_PASSWORD).await.status(), 200);
    // Both the lockout and the failures are in the System Log.
    let locks: Vec<Value> = gw.admin(Method::GET, "/api/v1/logs").query(&[("filter", "eventType eq \"user.account.lock\"")]).send().await.unwrap().json().await.unwrap();
    assert_eq!(locks.len(), 3);
    assert_eq!(locks[0]["target"][0]["id"], id);
    let unknown: Vec<Value> = {
        authn(&gw, "ghost@example.com", "Whatever-123456").await;
        gw.admin(Method::GET, "/api/v1/logs").query(&[("filter", "actor.alternateId eq \"ghost@example.com\"")]).send().await.unwrap().json().await.unwrap()
    };
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["outcome"]["result"], "FAILURE");
    assert_eq!(unknown[0]["outcome"]["reason"], "INVALID_CREDENTIALS");
    gw.stop().await;
}

async fn sessions_time_out_and_end(backend: Backend) {
    let gw = TestGateway::start_with(backend, &[("VESTIBULE_SESSION_IDLE", "30m"), ("VESTIBULE_SESSION_LIFETIME", "2h")]).await;
    let sid = session_for(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    // Used every 20 minutes, the session outlives its idle timeout...
    for _ in 0..5 {
        gw.clock.advance(time::Duration::minutes(20));
        assert_eq!(me(&gw, &sid).await.status(), 200);
    }
    // ...but not its absolute lifetime.
    gw.clock.advance(time::Duration::minutes(20));
    assert_eq!(me(&gw, &sid).await.status(), 403);
    // Left alone past the idle timeout, a new session ends.
    let sid = session_for(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    gw.clock.advance(time::Duration::minutes(31));
    assert_eq!(me(&gw, &sid).await.status(), 403);
    // An admin ends all of a person's sessions.
    let sid = session_for(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let other = gw.create_user("sessions@example.com", "Sess", "Ion").await;
    let other_sid = session_for(&gw, "sessions@example.com", GOOD_PASSWORD).await;
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/users/{}/sessions", other["id"].as_str().unwrap())).send().await.unwrap().status(), 204);
    assert_eq!(me(&gw, &other_sid).await.status(), 403);
    assert_eq!(me(&gw, &sid).await.status(), 200, "other people's sessions are untouched");
    gw.stop().await;
}

async fn deactivation_ends_sessions(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let user = gw.create_user("leaver@example.com", "Lea", "Ver").await;
    let sid = session_for(&gw, "leaver@example.com", GOOD_PASSWORD).await;
    assert_eq!(me(&gw, &sid).await.status(), 200);
    gw.admin(Method::POST, &format!("/api/v1/users/{}/lifecycle/deactivate", user["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(me(&gw, &sid).await.status(), 403);
    assert_eq!(authn(&gw, "leaver@example.com", GOOD_PASSWORD).await.status(), 401);
    gw.stop().await;
}
