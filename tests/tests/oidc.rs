//! OpenID Connect and OAuth 2.0 through the real gateway, with the
//! openidconnect crate as a strict relying party (issuer, audience, nonce,
//! signature and at_hash checked), a cookie-keeping HTTP client that signs
//! in through the real sign-in page, and the management API called with
//! scoped access tokens. On both backends.

use std::str::FromStr;

use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce, PkceCodeChallenge};
use reqwest::header::LOCATION;
use reqwest::Method;
use serde_json::{json, Value};
use tests::{Backend, ClockExt, TestGateway, GOOD_PASSWORD};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(tests::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(tests::Backend::Postgres).await }
        }
    )*};
}

on_both_backends!(
    code_flow_with_a_strict_relying_party,
    refused_requests,
    service_apps_call_the_management_api,
    third_party_initiated_login_from_the_dashboard,
    custom_authorization_servers,
    interactions_response_modes_and_client_kinds,
    consent_is_asked_remembered_and_revocable,
    app_groups_claim_filters_org_id_tokens,
);

const REDIRECT: &str = "https://rp.example.com/callback";
const BYE: &str = "https://rp.example.com/signed-out";
const ALICE: &str = "alice@example.com";

async fn json_of(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Creates an OIDC app (its client id is the app id) with a client secret
/// when it has one, and assigns `user_id` to it.
async fn oidc_app(gw: &TestGateway, settings: Value, credentials: Value, user_id: Option<&str>) -> (String, Option<String>) {
    let body = json!({
        "name": "oidc_client",
        "label": "Relying Party",
        "signOnMode": "OPENID_CONNECT",
        "settings": { "oauthClient": settings },
        "credentials": { "oauthClient": credentials },
    });
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&body)).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    // Okta's shape: the client id is the app id; a secret is shown once, here.
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], json!(id), "{app}");
    let secret = app["credentials"]["oauthClient"]["client_secret"].as_str().map(str::to_owned);
    let method = credentials["token_endpoint_auth_method"].as_str().unwrap_or("client_secret_basic");
    assert_eq!(secret.is_some(), method.starts_with("client_secret"), "{app}");
    let (_, again) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert!(again["credentials"]["oauthClient"].get("client_secret").is_none(), "shown once only");
    if let Some(uid) = user_id {
        let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{id}/users")).json(&json!({ "id": uid }))).await;
        assert_eq!(status, 200);
    }
    (id, secret)
}

fn web_settings() -> Value {
    json!({
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": [BYE],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "web",
    })
}

/// A browser: keeps cookies, follows no redirect by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
}

/// Follows the browser through the authorization request, signing in on
/// the sign-in page when it appears, until the gateway sends it to the
/// relying party; returns that URL.
async fn sign_in_and_authorize(gw: &TestGateway, browser: &reqwest::Client, start: &str, password: &str) -> url::Url {
    let mut next = start.to_owned();
    for _ in 0..10 {
        if next.starts_with("http") && !next.starts_with(&gw.base) {
            return url::Url::parse(&next).unwrap();
        }
        let absolute = if next.starts_with('/') { gw.url(&next) } else { next.clone() };
        let response = browser.get(&absolute).send().await.unwrap();
        if let Some(location) = response.headers().get(LOCATION) {
            next = location.to_str().unwrap().to_owned();
            continue;
        }
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, 200, "{absolute}: {html}");
        let (Some(csrf), Some(from)) = (hidden(&html, "csrf"), hidden(&html, "fromURI")) else {
            panic!("expected the sign-in page at {absolute}: {html}")
        };
        let submitted = browser
            .post(gw.url("/login"))
            .header("origin", &gw.base)
            .form(&[("csrf", csrf.as_str()), ("username", ALICE), ("password", password), ("fromURI", from.as_str())])
            .send()
            .await
            .unwrap();
        next = submitted.headers().get(LOCATION).expect("signed in: a redirect").to_str().unwrap().to_owned();
    }
    panic!("too many redirects from {start}");
}

struct Flow {
    issuer: String,
    metadata: CoreProviderMetadata,
    jwks: CoreJsonWebKeySet,
}

/// Discovery and keys, read as the relying party reads them.
async fn discover(gw: &TestGateway, issuer: &str) -> Flow {
    let (status, doc) = json_of(gw.http.get(format!("{issuer}/.well-known/openid-configuration"))).await;
    assert_eq!(status, 200, "{doc}");
    let metadata: CoreProviderMetadata = serde_json::from_value(doc).expect("the RP parses our discovery document");
    assert_eq!(metadata.issuer().as_str(), issuer);
    let (status, keys) = json_of(gw.http.get(metadata.jwks_uri().as_str())).await;
    assert_eq!(status, 200);
    let jwks: CoreJsonWebKeySet = serde_json::from_value(keys).expect("the RP parses our JWKS");
    Flow { issuer: issuer.to_owned(), metadata, jwks }
}

struct Started {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

fn authorize_url(flow: &Flow, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = vestibule_core::id::random_token(16, &mut rand::thread_rng());
    let nonce = vestibule_core::id::random_token(16, &mut rand::thread_rng());
    let mut url = url::Url::parse(flow.metadata.authorization_endpoint().as_str()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    Started { url: url.to_string(), state, nonce, verifier: verifier.secret().clone() }
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn token_request(gw: &TestGateway, flow: &Flow, client: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let endpoint = flow.metadata.token_endpoint().unwrap().as_str().to_owned();
    json_of(gw.http.post(endpoint).basic_auth(client.0, Some(client.1)).form(form)).await
}

/// The ID token as the strict relying party checks it: signature with the
/// published keys, issuer, audience, expiry (at the gateway's fixed time),
/// nonce, and at_hash against the access token.
fn check_id_token(gw: &TestGateway, flow: &Flow, client_id: &str, secret: &str, tokens: &Value, nonce: &str) -> Value {
    let verifier = rp_verifier(gw, flow, client_id, secret);
    let token = CoreIdToken::from_str(tokens["id_token"].as_str().expect("an ID token")).expect("the RP parses the ID token");
    let claims = token.claims(&verifier, &Nonce::new(nonce.into())).expect("the RP accepts the ID token");
    let alg = token.signing_alg().unwrap();
    let key = token.signing_key(&verifier).unwrap();
    let expected = AccessTokenHash::from_token(&AccessToken::new(tokens["access_token"].as_str().unwrap().into()), alg, key).unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");
    assert!(token.claims(&verifier, &Nonce::new("another nonce".into())).is_err(), "the nonce is checked");
    let other = rp_verifier(gw, flow, "0oasomeoneelse", secret);
    assert!(token.claims(&other, &Nonce::new(nonce.into())).is_err(), "the audience is checked");
    serde_json::to_value(claims).unwrap()
}

/// The relying party's verifier, with the gateway's fixed clock as its
/// time (the crate takes a chrono time, which it gives us through serde).
fn rp_verifier(gw: &TestGateway, flow: &Flow, client_id: &str, secret: &str) -> CoreIdTokenVerifier<'static> {
    let now = gw.clock.now_dt().unix_timestamp();
    let probe: CoreIdTokenClaims =
        serde_json::from_value(json!({ "iss": "https://x", "aud": ["x"], "sub": "x", "exp": now, "iat": now })).unwrap();
    let now = probe.expiration();
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.into()),
        ClientSecret::new(secret.into()),
        IssuerUrl::new(flow.issuer.clone()).unwrap(),
        flow.jwks.clone(),
    )
    .set_time_fn(move || now)
}

async fn alice(gw: &TestGateway) -> String {
    gw.create_user(ALICE, "Alice", "Liddell").await["id"].as_str().unwrap().to_owned()
}

async fn code_flow_with_a_strict_relying_party(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    let (client_id, secret) = oidc_app(&gw, web_settings(), json!({ "token_endpoint_auth_method": "client_secret_basic" }), Some(&alice_id)).await;
    let secret = secret.unwrap();
    for issuer in [gw.base.clone(), gw.url("/oauth2/default")] {
        let flow = discover(&gw, &issuer).await;
        let b = browser();
        let started = authorize_url(&flow, &client_id, "openid profile email groups offline_access", &[]);
        let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
        assert_eq!(param(&back, "state").as_deref(), Some(started.state.as_str()));
        assert_eq!(param(&back, "iss").as_deref(), Some(issuer.as_str()), "RFC 9207 iss");
        let code = param(&back, "code").expect("a code");
        let (status, tokens) = token_request(
            &gw,
            &flow,
            (&client_id, &secret),
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
        )
        .await;
        assert_eq!(status, 200, "{tokens}");
        let claims = check_id_token(&gw, &flow, &client_id, &secret, &tokens, &started.nonce);
        assert_eq!(claims["sub"], json!(alice_id));
        assert_eq!(claims["email"], json!(ALICE));
        assert_eq!(claims["preferred_username"], json!(ALICE));

        // UserInfo with the access token.
        let userinfo = flow.metadata.userinfo_endpoint().unwrap().as_str().to_owned();
        let (status, info) = json_of(gw.http.get(&userinfo).bearer_auth(tokens["access_token"].as_str().unwrap())).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!((info["sub"].as_str(), info["email"].as_str(), info["given_name"].as_str()), (Some(alice_id.as_str()), Some(ALICE), Some("Alice")));
        assert!(info["groups"].is_array(), "the groups scope releases the groups claim: {info}");

        // Refresh rotates: a new refresh token every time, the old one is spent.
        let first_refresh = tokens["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned();
        let (status, refreshed) =
            token_request(&gw, &flow, (&client_id, &secret), &[("grant_type", "refresh_token"), ("refresh_token", &first_refresh)]).await;
        assert_eq!(status, 200, "{refreshed}");
        let second_refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second_refresh, first_refresh);

        // Introspection (RFC 7662) and revocation (RFC 7009).
        let base = if issuer == gw.base { gw.url("/oauth2/v1") } else { format!("{issuer}/v1") };
        let access = refreshed["access_token"].as_str().unwrap().to_owned();
        let (status, active) =
            json_of(gw.http.post(format!("{base}/introspect")).basic_auth(&client_id, Some(&secret)).form(&[("token", access.as_str())])).await;
        assert_eq!(status, 200);
        assert_eq!((active["active"].as_bool(), active["sub"].as_str()), (Some(true), Some(alice_id.as_str())), "{active}");
        let (status, rt) = json_of(
            gw.http
                .post(format!("{base}/introspect"))
                .basic_auth(&client_id, Some(&secret))
                .form(&[("token", second_refresh.as_str()), ("token_type_hint", "refresh_token")]),
        )
        .await;
        assert_eq!((status, rt["active"].as_bool()), (200, Some(true)), "{rt}");
        let revoked = gw.http.post(format!("{base}/revoke")).basic_auth(&client_id, Some(&secret)).form(&[("token", second_refresh.as_str())]).send().await.unwrap();
        assert_eq!(revoked.status(), 200);
        for token in [&access, &second_refresh] {
            let (_, after) =
                json_of(gw.http.post(format!("{base}/introspect")).basic_auth(&client_id, Some(&secret)).form(&[("token", token.as_str())])).await;
            assert_eq!(after, json!({ "active": false }), "revoking the refresh token revokes its grant");
        }

        // RP-initiated logout ends the session and returns to the app with its state.
        let mut url = url::Url::parse(&format!("{base}/logout")).unwrap();
        url.query_pairs_mut()
            .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
            .append_pair("post_logout_redirect_uri", BYE)
            .append_pair("state", "bye-state");
        let out = b.get(url.as_str()).send().await.unwrap();
        assert_eq!(out.status(), 302);
        assert_eq!(out.headers()[LOCATION], format!("{BYE}?state=bye-state"));
        let me = b.get(gw.url("/api/v1/sessions/me")).send().await.unwrap();
        assert_ne!(me.status(), 200, "the session ended");
    }
    gw.stop().await;
}

async fn refused_requests(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    let (client_id, secret) = oidc_app(&gw, web_settings(), json!({}), Some(&alice_id)).await;
    let secret = secret.unwrap();
    let flow = discover(&gw, &gw.url("/oauth2/default")).await;
    let b = browser();
    let get_code = |scope: &'static str| {
        let started = authorize_url(&flow, &client_id, scope, &[]);
        let b = b.clone();
        let gw = &gw;
        async move {
            let back = sign_in_and_authorize(gw, &b, &started.url, GOOD_PASSWORD).await;
            (param(&back, "code").expect("code"), started)
        }
    };
    let redeem = |code: String, verifier: String, redirect: &'static str| {
        let gw = &gw;
        let flow = &flow;
        let client = (client_id.clone(), secret.clone());
        async move {
            token_request(
                gw,
                flow,
                (&client.0, &client.1),
                &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect), ("code_verifier", &verifier)],
            )
            .await
        }
    };

    // PKCE mismatch.
    let (code, _) = get_code("openid").await;
    let (status, e) = redeem(code, "x".repeat(50), REDIRECT).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");

    // A replayed code fails, and revokes what the first redemption issued.
    let (code, started) = get_code("openid offline_access").await;
    let (status, tokens) = redeem(code.clone(), started.verifier.clone(), REDIRECT).await;
    assert_eq!(status, 200);
    let (status, e) = redeem(code, started.verifier, REDIRECT).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (_, after) = json_of(
        gw.http
            .post(gw.url("/oauth2/default/v1/introspect"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("token", tokens["access_token"].as_str().unwrap())]),
    )
    .await;
    assert_eq!(after["active"], json!(false), "replay revoked the grant");

    // The redirect_uri at the token endpoint must be the authorization request's.
    let (code, started) = get_code("openid").await;
    let (status, e) = redeem(code, started.verifier, "https://rp.example.com/other").await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

    // An unregistered redirect_uri never redirects: an error page.
    let mut evil = url::Url::parse(&authorize_url(&flow, &client_id, "openid", &[]).url).unwrap();
    let pairs: Vec<(String, String)> = evil.query_pairs().map(|(k, v)| {
            let v = if k == "redirect_uri" { "https://evil.example/cb".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        }).collect();
    evil.query_pairs_mut().clear().extend_pairs(pairs);
    let page = b.get(evil.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.headers().get(LOCATION).is_none());

    // A bad client secret.
    let (code, started) = get_code("openid").await;
    let (status, e) = token_request(
        &gw,
        &flow,
        (&client_id, "not-the-secret"),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")));

    // An expired code (codes live 60 seconds).
    let (code, started) = get_code("openid").await;
    gw.clock.advance(time::Duration::seconds(61));
    let (status, e) = redeem(code, started.verifier, REDIRECT).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

    // Refresh-token reuse revokes the grant, successor included.
    let (code, started) = get_code("openid offline_access").await;
    let (_, tokens) = redeem(code, started.verifier, REDIRECT).await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let gw = &gw;
        let flow = &flow;
        let client = (client_id.clone(), secret.clone());
        async move { token_request(gw, flow, (&client.0, &client.1), &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await }
    };
    let (status, next) = refresh(first.clone()).await;
    assert_eq!(status, 200);
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    gw.clock.advance(time::Duration::minutes(5)); // past the grace period
    let (status, e) = refresh(first).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = refresh(second).await;
    assert_eq!(status, 400, "reuse revoked the whole grant");

    // A token without the needed scope; a token signed by a key we do not publish.
    let (code, started) = get_code("email").await;
    let (_, tokens) = redeem(code, started.verifier, REDIRECT).await;
    let userinfo = gw.http.get(gw.url("/oauth2/default/v1/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(userinfo.status(), 403, "userinfo needs openid");
    let forged = forge(tokens["access_token"].as_str().unwrap());
    let userinfo = gw.http.get(gw.url("/oauth2/default/v1/userinfo")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    assert!(userinfo.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let (_, inactive) =
        json_of(gw.http.post(gw.url("/oauth2/default/v1/introspect")).basic_auth(&client_id, Some(&secret)).form(&[("token", forged.as_str())])).await;
    assert_eq!(inactive, json!({ "active": false }));
    // The strict RP refuses an ID token signed by an unknown key too.
    let (code, started) = get_code("openid").await;
    let (_, tokens) = redeem(code, started.verifier, REDIRECT).await;
    let forged_id = forge(tokens["id_token"].as_str().unwrap());
    let verifier = rp_verifier(&gw, &flow, &client_id, &secret);
    let token = CoreIdToken::from_str(&forged_id).unwrap();
    assert!(token.claims(&verifier, &Nonce::new(started.nonce)).is_err());
    gw.stop().await;
}

/// One base64url part of a compact JWS, as JSON.
fn jwt_part(part: &str) -> Value {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in part.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64url") as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    serde_json::from_slice(&out).expect("JSON")
}

/// The same claims, signed by a key the gateway never published.
fn forge(jwt: &str) -> String {
    let mut parts = jwt.split('.');
    let header = jwt_part(parts.next().unwrap());
    let claims = jwt_part(parts.next().unwrap());
    let key = oidc::SigningKey::generate("unknown-kid", oidc::SigningAlg::Rs256).unwrap();
    key.sign_jwt(header["typ"].as_str().unwrap(), claims.as_object().unwrap()).unwrap()
}

async fn service_apps_call_the_management_api(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    alice(&gw).await;
    let settings = json!({ "grant_types": ["client_credentials"], "response_types": ["token"], "application_type": "service" });
    let (client_id, first_secret) = oidc_app(&gw, settings, json!({ "token_endpoint_auth_method": "client_secret_post" }), None).await;
    // Rotating the client secret without downtime, in Okta's shape: a second
    // secret, both work, the first is deactivated (then it fails) and deleted.
    let first_secret = first_secret.unwrap();
    let secrets = format!("/api/v1/apps/{client_id}/credentials/secrets");
    let (status, list) = json_of(gw.admin(Method::GET, &secrets)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    let first_id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["status"], "ACTIVE");
    assert!(list[0].get("client_secret").is_none() && list[0]["secret_hash"].is_string(), "never shown again: {list}");
    let (status, s) = json_of(gw.admin(Method::POST, &secrets)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["status"], "ACTIVE");
    assert!(s["_links"]["deactivate"]["href"].as_str().unwrap().ends_with("/lifecycle/deactivate"), "{s}");
    let secret = s["client_secret"].as_str().unwrap().to_owned();
    let authenticates = |secret: String| {
        let gw = &gw;
        let client_id = client_id.clone();
        async move {
            let (status, e) = json_of(gw.http.post(gw.url("/oauth2/v1/token")).form(&[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
            ]))
            .await;
            // Not yet granted okta.users.read: a client that authenticates gets invalid_scope.
            !(status == 401 && e["error"] == "invalid_client")
        }
    };
    assert!(authenticates(first_secret.clone()).await && authenticates(secret.clone()).await, "both work during the rotation");
    let (status, e) = json_of(gw.admin(Method::POST, &secrets)).await;
    assert_eq!((status, e["errorCode"].as_str()), (400, Some("E0000001")), "at most two: {e}");
    let (status, _) = json_of(gw.admin(Method::DELETE, &format!("{secrets}/{first_id}"))).await;
    assert_eq!(status, 400, "an active secret is not deleted");
    let (status, d) = json_of(gw.admin(Method::POST, &format!("{secrets}/{first_id}/lifecycle/deactivate"))).await;
    assert_eq!((status, &d["status"]), (200, &json!("INACTIVE")), "{d}");
    assert!(!authenticates(first_secret.clone()).await, "a deactivated secret stops working at once");
    assert!(authenticates(secret.clone()).await);
    let (status, _) = json_of(gw.admin(Method::POST, &format!("{secrets}/{}/lifecycle/deactivate", s["id"].as_str().unwrap()))).await;
    assert_eq!(status, 400, "the only active secret stays");
    let deleted = gw.admin(Method::DELETE, &format!("{secrets}/{first_id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let (_, list) = json_of(gw.admin(Method::GET, &secrets)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(json_of(gw.admin(Method::GET, &format!("{secrets}/ocsnosuch"))).await.0, 404);
    let token = |scope: &'static str| {
        let gw = &gw;
        let form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), scope.to_owned()),
            ("client_id".to_owned(), client_id.clone()),
            ("client_secret".to_owned(), secret.clone()),
        ];
        async move { json_of(gw.http.post(gw.url("/oauth2/v1/token")).form(&form)).await }
    };
    // Nothing granted yet.
    let (status, e) = token("okta.users.read").await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_scope")), "{e}");
    let (status, grant) = json_of(
        gw.admin(Method::POST, &format!("/api/v1/apps/{client_id}/grants")).json(&json!({ "issuer": gw.base, "scopeId": "okta.users.read" })),
    )
    .await;
    assert_eq!(status, 201, "{grant}");
    assert_eq!(grant["scopeId"], "okta.users.read");
    let (status, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{client_id}/grants"))).await;
    assert_eq!((status, grants.as_array().map(Vec::len)), (200, Some(1)));

    let (status, t) = token("okta.users.read").await;
    assert_eq!(status, 200, "{t}");
    let access = t["access_token"].as_str().unwrap().to_owned();
    let call = |method: Method, path: &str| gw.http.request(method, gw.url(path)).bearer_auth(&access);
    let (status, users) = json_of(call(Method::GET, "/api/v1/users")).await;
    assert_eq!(status, 200, "{users}");
    assert!(users.as_array().unwrap().iter().any(|u| u["profile"]["login"] == ALICE));
    let (status, e) = json_of(call(Method::POST, "/api/v1/users").json(&json!({ "profile": { "login": "x@example.com" } }))).await;
    assert_eq!(status, 403, "users.read does not manage: {e}");
    let (status, _) = json_of(call(Method::GET, "/api/v1/groups")).await;
    assert_eq!(status, 403, "no groups scope");
    let (status, _) = json_of(call(Method::GET, "/api/v1/api-tokens")).await;
    assert_eq!(status, 403, "no scope opens API tokens");
    let (status, e) = token("okta.groups.read").await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_scope")));

    // With okta.users.manage granted, the service creates a user.
    json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{client_id}/grants")).json(&json!({ "scopeId": "okta.users.manage" }))).await;
    let (status, t) = token("okta.users.manage").await;
    assert_eq!(status, 200);
    let manage = t["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "profile": { "login": "bot-made@example.com", "email": "bot-made@example.com", "firstName": "B", "lastName": "M" } });
    let (status, made) = json_of(gw.http.post(gw.url("/api/v1/users?activate=false")).bearer_auth(&manage).json(&body)).await;
    assert_eq!(status, 200, "{made}");
    // Revoked tokens stop working; tokens of another issuer never work.
    let revoked = gw
        .http
        .post(gw.url("/oauth2/v1/revoke"))
        .form(&[("token", manage.as_str()), ("client_id", client_id.as_str()), ("client_secret", secret.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, _) = json_of(gw.http.get(gw.url("/api/v1/users")).bearer_auth(&manage)).await;
    assert_eq!(status, 401);
    let (status, _) = json_of(gw.http.get(gw.url("/api/v1/users")).bearer_auth(forge(&access))).await;
    assert_eq!(status, 401, "unknown key");

    // Token requests are in the System Log, refused ones too.
    let (_, events) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=200")).await;
    let grants: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["eventType"] == "app.oauth2.token.grant").collect();
    assert!(grants.iter().any(|e| e["outcome"]["result"] == "SUCCESS" && e["actor"]["id"] == json!(client_id)), "{grants:?}");
    assert!(grants.iter().any(|e| e["outcome"]["result"] == "FAILURE"), "{grants:?}");
    gw.stop().await;
}

async fn third_party_initiated_login_from_the_dashboard(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    let mut settings = web_settings();
    settings["initiate_login_uri"] = json!("https://rp.example.com/start-login");
    settings["target_link_uri"] = json!("https://rp.example.com/reports");
    let (client_id, secret) = oidc_app(&gw, settings, json!({}), Some(&alice_id)).await;
    let b = browser();
    let flow = discover(&gw, &gw.base).await;
    // Sign in once (through an authorization request), then launch from the dashboard.
    let started = authorize_url(&flow, &client_id, "openid", &[]);
    sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    let launch = b.get(gw.url(&format!("/home/oidc_client/{client_id}/launch"))).send().await.unwrap();
    assert_eq!(launch.status(), 302);
    let to = url::Url::parse(launch.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(to.path(), "/start-login");
    assert_eq!(param(&to, "iss").as_deref(), Some(gw.base.as_str()));
    assert_eq!(param(&to, "login_hint").as_deref(), Some(ALICE));
    assert_eq!(param(&to, "target_link_uri").as_deref(), Some("https://rp.example.com/reports"));
    // The app then runs a normal code flow at that issuer; the session is there already.
    let flow = discover(&gw, &param(&to, "iss").unwrap()).await;
    let started = authorize_url(&flow, &client_id, "openid", &[("login_hint", ALICE)]);
    let back = sign_in_and_authorize(&gw, &b, &started.url, "unused: signed in").await;
    let code = param(&back, "code").unwrap();
    let secret = secret.unwrap();
    let (status, tokens) = token_request(
        &gw,
        &flow,
        (&client_id, &secret),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    assert_eq!(status, 200);
    check_id_token(&gw, &flow, &client_id, &secret, &tokens, &started.nonce);
    gw.stop().await;
}

async fn custom_authorization_servers(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let (status, list) = json_of(gw.admin(Method::GET, "/api/v1/authorizationServers")).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], "default");
    assert_eq!(list[0]["issuer"], json!(gw.url("/oauth2/default")));
    let (status, made) = json_of(
        gw.admin(Method::POST, "/api/v1/authorizationServers")
            .json(&json!({ "name": "Reports", "description": "For the reports API", "audiences": ["api://reports"] })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, scope) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/scopes")).json(&json!({ "name": "reports.read" }))).await;
    assert_eq!(status, 201);
    // Replaced in place (PUT keeps the id); a name the server has already is refused by its field.
    let scope_path = format!("/api/v1/authorizationServers/{id}/scopes/{}", scope["id"].as_str().unwrap());
    let (status, replaced) =
        json_of(gw.admin(Method::PUT, &scope_path).json(&json!({ "name": "reports.read", "description": "Read reports", "metadataPublish": "ALL_CLIENTS" }))).await;
    assert_eq!((status, &replaced["id"], &replaced["description"]), (200, &scope["id"], &json!("Read reports")), "{replaced}");
    let (_, again) = json_of(gw.admin(Method::GET, &scope_path)).await;
    assert_eq!(again["metadataPublish"], "ALL_CLIENTS");
    let (status, e) = json_of(gw.admin(Method::PUT, &scope_path).json(&json!({ "name": "openid" }))).await;
    assert_eq!((status, e["errorCauses"][0]["errorSummary"].as_str().map(|s| s.starts_with("name"))), (400, Some(true)), "{e}");
    let (status, _) = json_of(gw.admin(Method::PUT, &format!("/api/v1/authorizationServers/{id}/scopes/scpnosuch")).json(&json!({ "name": "x" }))).await;
    assert_eq!(status, 404);
    let settings = json!({ "grant_types": ["client_credentials"], "application_type": "service" });
    let (client_id, secret) = oidc_app(&gw, settings, json!({}), None).await;
    let flow = discover(&gw, &gw.url(&format!("/oauth2/{id}"))).await;
    assert!(flow.metadata.scopes_supported().unwrap().iter().any(|s| s.as_str() == "reports.read"));
    // As in Okta, a new server has no access policy, and without one no
    // request gets a token.
    let (status, t) =
        token_request(&gw, &flow, (&client_id, secret.as_deref().unwrap()), &[("grant_type", "client_credentials"), ("scope", "reports.read")]).await;
    assert_eq!((status, t["error"].as_str()), (403, Some("access_denied")), "{t}");
    let (status, policy) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/policies")).json(&json!({
        "type": "OAUTH_AUTHORIZATION_POLICY", "name": "Machines", "description": "Service apps", "priority": 1,
        "conditions": { "clients": { "include": [client_id] } },
    })))
    .await;
    assert_eq!(status, 201, "{policy}");
    let policy_id = policy["id"].as_str().unwrap();
    let (status, rule) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/policies/{policy_id}/rules")).json(&json!({
        "type": "RESOURCE_ACCESS", "name": "Reports for machines", "priority": 1,
        "conditions": { "grantTypes": { "include": ["client_credentials"] }, "people": { "groups": { "include": ["EVERYONE"] } }, "scopes": { "include": ["reports.read"] } },
        "actions": { "token": { "accessTokenLifetimeMinutes": 15, "refreshTokenLifetimeMinutes": 0, "refreshTokenWindowMinutes": 10080 } },
    })))
    .await;
    assert_eq!(status, 201, "{rule}");
    let (status, t) =
        token_request(&gw, &flow, (&client_id, secret.as_deref().unwrap()), &[("grant_type", "client_credentials"), ("scope", "reports.read")]).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["expires_in"], 900, "the rule's access token lifetime: {t}");
    // Keys rotate only after the next key has been published for the overlap.
    let (status, _) =
        json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate")).json(&json!({ "use": "sig" }))).await;
    assert_eq!(status, 400);
    gw.clock.advance(time::Duration::hours(25));
    let before: Value = gw.http.get(flow.metadata.jwks_uri().as_str()).send().await.unwrap().json().await.unwrap();
    let (status, keys) =
        json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate")).json(&json!({ "use": "sig", "alg": "RS256" }))).await;
    assert_eq!(status, 200, "{keys}");
    // The key that signs now was published before the rotation.
    let (_, t) =
        token_request(&gw, &flow, (&client_id, secret.as_deref().unwrap()), &[("grant_type", "client_credentials"), ("scope", "reports.read")]).await;
    let header = jwt_part(t["access_token"].as_str().unwrap().split('.').next().unwrap());
    assert!(before["keys"].as_array().unwrap().iter().any(|k| k["kid"] == header["kid"]), "signed with a key cached before the switch");

    // A groups claim with a filter: only the groups that start with app-.
    let alice_id = alice(&gw).await;
    join_groups(&gw, &alice_id, &["app-admins", "staff"]).await;
    let (status, claim) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/claims")).json(&json!({
        "name": "groups", "valueType": "GROUPS", "group_filter_type": "STARTS_WITH", "value": "app-", "claimType": "IDENTITY",
    })))
    .await;
    assert_eq!(status, 201, "{claim}");
    let (web, web_secret) = oidc_app(&gw, web_settings(), json!({}), Some(&alice_id)).await;
    // The machines' policy does not cover this client: the authorization
    // request comes back with access_denied until a policy does.
    let b = browser();
    let started = authorize_url(&flow, &web, "openid groups", &[]);
    let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"), "{back}");
    let (status, policy) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/policies")).json(&json!({
        "type": "OAUTH_AUTHORIZATION_POLICY", "name": "People", "description": "Everyone's apps", "priority": 2,
        "conditions": { "clients": { "include": ["ALL_CLIENTS"] } },
    })))
    .await;
    assert_eq!(status, 201, "{policy}");
    let (status, rule) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/policies/{}/rules", policy["id"].as_str().unwrap())).json(&json!({
        "type": "RESOURCE_ACCESS", "name": "Sign-in", "priority": 1,
        "conditions": { "grantTypes": { "include": ["authorization_code"] }, "people": { "groups": { "include": ["EVERYONE"] } }, "scopes": { "include": ["*"] } },
    })))
    .await;
    assert_eq!(status, 201, "{rule}");
    let started = authorize_url(&flow, &web, "openid groups", &[]);
    let back = sign_in_and_authorize(&gw, &b, &started.url, "unused: signed in").await;
    let code = param(&back, "code").unwrap();
    let (status, tokens) = token_request(
        &gw,
        &flow,
        (&web, web_secret.as_deref().unwrap()),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(jwt_part(tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap())["groups"], json!(["app-admins"]));
    let (_, info) = json_of(gw.http.get(gw.url(&format!("/oauth2/{id}/v1/userinfo"))).bearer_auth(tokens["access_token"].as_str().unwrap())).await;
    assert_eq!(info["groups"], json!(["app-admins"]));
    // The claim replaced in place (PUT keeps the id): the next token carries the new filter's groups.
    let claim_path = format!("/api/v1/authorizationServers/{id}/claims/{}", claim["id"].as_str().unwrap());
    let (status, replaced) =
        json_of(gw.admin(Method::PUT, &claim_path).json(&json!({ "name": "groups", "valueType": "GROUPS", "group_filter_type": "EQUALS", "value": "staff" }))).await;
    assert_eq!((status, &replaced["id"]), (200, &claim["id"]), "{replaced}");
    let (status, got) = json_of(gw.admin(Method::GET, &claim_path)).await;
    assert_eq!((status, &got["group_filter_type"]), (200, &json!("EQUALS")));
    let started = authorize_url(&flow, &web, "openid groups", &[]);
    let code = param(&sign_in_and_authorize(&gw, &b, &started.url, "unused: signed in").await, "code").unwrap();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", started.verifier.as_str())];
    let (_, tokens) = token_request(&gw, &flow, (&web, web_secret.as_deref().unwrap()), &form).await;
    assert_eq!(jwt_part(tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap())["groups"], json!(["staff"]));
    let (status, _) = json_of(gw.admin(Method::PUT, &claim_path).json(&json!({ "name": "roles", "valueType": "EXPRESSION", "value": "x" }))).await;
    assert_eq!(status, 400);
    let (status, _) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/claims/oclnosuch"))).await;
    assert_eq!(status, 404);

    // On a schedule: after the rotation period the next key takes over by itself.
    let active = |keys: &Value| keys.as_array().unwrap().iter().find(|k| k["status"] == "ACTIVE" && k["alg"] == "RS256").unwrap()["kid"].clone();
    let (_, keys) = json_of(gw.admin(Method::GET, "/api/v1/authorizationServers/default/credentials/keys")).await;
    let (old_active, old_next) = (active(&keys), keys.as_array().unwrap().iter().find(|k| k["status"] == "NEXT" && k["alg"] == "RS256").unwrap()["kid"].clone());
    gw.clock.advance(time::Duration::days(91));
    let (status, _) = json_of(gw.http.get(gw.url("/oauth2/default/v1/keys"))).await;
    assert_eq!(status, 200);
    let (_, keys) = json_of(gw.admin(Method::GET, "/api/v1/authorizationServers/default/credentials/keys")).await;
    assert_ne!(active(&keys), old_active);
    assert_eq!(active(&keys), old_next, "the published next key signs now");
    gw.stop().await;
}

async fn interactions_response_modes_and_client_kinds(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    let (web, web_secret) = oidc_app(&gw, web_settings(), json!({}), Some(&alice_id)).await;
    let web_secret = web_secret.unwrap();
    let flow = discover(&gw, &gw.url("/oauth2/default")).await;

    // prompt=none without a session: login_required, back at the client, with state and iss.
    let started = authorize_url(&flow, &web, "openid", &[("prompt", "none")]);
    let r = browser().get(&started.url).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let back = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(param(&back, "state").as_deref(), Some(started.state.as_str()));
    assert_eq!(param(&back, "iss").as_deref(), Some(flow.issuer.as_str()));

    // Signed in: form_post delivers the code in an auto-submitting form.
    let b = browser();
    let started = authorize_url(&flow, &web, "openid", &[]);
    sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    let started = authorize_url(&flow, &web, "openid", &[("response_mode", "form_post")]);
    let r = b.get(&started.url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action https://rp.example.com"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{REDIRECT}\"")), "{html}");
    assert_eq!(hidden(&html, "state").as_deref(), Some(started.state.as_str()));
    assert!(hidden(&html, "code").is_some());

    // prompt=none with a session answers at once.
    let started = authorize_url(&flow, &web, "openid", &[("prompt", "none")]);
    let r = b.get(&started.url).send().await.unwrap();
    let back = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(param(&back, "code").is_some(), "{back}");

    // prompt=login asks again even with a session; auth_time is the new sign-in.
    gw.clock.advance(time::Duration::minutes(10));
    let started = authorize_url(&flow, &web, "openid", &[("prompt", "login")]);
    let r = b.get(&started.url).send().await.unwrap();
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/login"), "sent to the sign-in page");
    let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    let code = param(&back, "code").unwrap();
    let (status, tokens) = token_request(
        &gw,
        &flow,
        (&web, &web_secret),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    assert_eq!(status, 200);
    let claims = check_id_token(&gw, &flow, &web, &web_secret, &tokens, &started.nonce);
    assert_eq!(claims["auth_time"], json!(gw.clock.now_dt().unix_timestamp()));

    // The immediately previous refresh token works once more within the grace period.
    let started = authorize_url(&flow, &web, "openid offline_access", &[]);
    let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    let code = param(&back, "code").unwrap();
    let (_, tokens) = token_request(
        &gw,
        &flow,
        (&web, &web_secret),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = token_request(&gw, &flow, (&web, &web_secret), &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(status, 200);
    gw.clock.advance(time::Duration::seconds(5));
    let (status, retried) = token_request(&gw, &flow, (&web, &web_secret), &[("grant_type", "refresh_token"), ("refresh_token", &first)]).await;
    assert_eq!(status, 200, "a lost response is retried within the grace: {retried}");

    // A person not assigned to the app is refused at the client.
    let bob = gw.create_user("bob@example.com", "Bob", "Builder").await;
    let _ = bob;
    let b2 = browser();
    let started = authorize_url(&flow, &web, "openid", &[]);
    let mut next = started.url.clone();
    let mut refused = None;
    for _ in 0..6 {
        let absolute = if next.starts_with('/') { gw.url(&next) } else { next.clone() };
        if absolute.starts_with(REDIRECT) {
            refused = Some(url::Url::parse(&absolute).unwrap());
            break;
        }
        let r = b2.get(&absolute).send().await.unwrap();
        if let Some(l) = r.headers().get(LOCATION) {
            next = l.to_str().unwrap().to_owned();
            continue;
        }
        let html = r.text().await.unwrap();
        let from = hidden(&html, "fromURI").unwrap();
        let r = b2
            .post(gw.url("/login"))
            .header("origin", &gw.base)
            .form(&[("csrf", hidden(&html, "csrf").unwrap().as_str()), ("username", "bob@example.com"), ("password", GOOD_PASSWORD), ("fromURI", &from)])
            .send()
            .await
            .unwrap();
        next = r.headers()[LOCATION].to_str().unwrap().to_owned();
    }
    assert_eq!(refused.and_then(|u| param(&u, "error")).as_deref(), Some("access_denied"));

    // Consent: an app that requires it shows a consent page; deny and allow.
    let mut consent = web_settings();
    consent["consent_method"] = json!("REQUIRED");
    let (needs_consent, consent_secret) = oidc_app(&gw, consent, json!({}), Some(&alice_id)).await;
    for (decision, expect_code) in [("deny", false), ("allow", true)] {
        let started = authorize_url(&flow, &needs_consent, "openid email", &[]);
        let r = b.get(&started.url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Allow"), "{html}");
        let r = b
            .post(gw.url("/oauth2/v1/authorize/consent"))
            .header("origin", &gw.base)
            .form(&[
                ("csrf", hidden(&html, "csrf").unwrap().as_str()),
                ("tx", hidden(&html, "tx").unwrap().as_str()),
                ("logged_in", ""),
                ("decision", decision),
            ])
            .send()
            .await
            .unwrap();
        let back = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
        assert_eq!(param(&back, "code").is_some(), expect_code, "{decision}: {back}");
        if !expect_code {
            assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
        }
    }
    let _ = consent_secret;

    // A native app: public (no secret), PKCE required, any loopback port.
    let native = json!({
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "application_type": "native",
    });
    let (native_id, no_secret) = oidc_app(&gw, native, json!({ "token_endpoint_auth_method": "none" }), Some(&alice_id)).await;
    assert!(no_secret.is_none());
    let loopback = "http://127.0.0.1:54321/callback";
    let mut started = authorize_url(&flow, &native_id, "openid", &[]);
    started.url = started.url.replace(&urlencoding_encode(REDIRECT), &urlencoding_encode(loopback));
    let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    assert!(back.as_str().starts_with(loopback), "{back}");
    let code = param(&back, "code").unwrap();
    let (status, tokens) = json_of(gw.http.post(gw.url("/oauth2/default/v1/token")).form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", loopback),
        ("code_verifier", started.verifier.as_str()),
        ("client_id", native_id.as_str()),
    ]))
    .await;
    assert_eq!(status, 200, "{tokens}");
    let no_pkce = format!(
        "{}?client_id={native_id}&redirect_uri={}&response_type=code&scope=openid&state=s",
        flow.metadata.authorization_endpoint().as_str(),
        urlencoding_encode(loopback)
    );
    let r = b.get(&no_pkce).send().await.unwrap();
    let back = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"), "a public client needs PKCE");

    // An ID token signed with the algorithm the client registered (ES256).
    let mut es = web_settings();
    es["id_token_signed_response_alg"] = json!("ES256");
    let (es_client, es_secret) = oidc_app(&gw, es, json!({}), Some(&alice_id)).await;
    let es_secret = es_secret.unwrap();
    let started = authorize_url(&flow, &es_client, "openid", &[]);
    let back = sign_in_and_authorize(&gw, &b, &started.url, GOOD_PASSWORD).await;
    let code = param(&back, "code").unwrap();
    let (status, tokens) = token_request(
        &gw,
        &flow,
        (&es_client, &es_secret),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", &started.verifier)],
    )
    .await;
    assert_eq!(status, 200);
    let verifier = rp_verifier(&gw, &flow, &es_client, &es_secret)
        .set_allowed_algs([openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let token = CoreIdToken::from_str(tokens["id_token"].as_str().unwrap()).unwrap();
    let claims = token.claims(&verifier, &Nonce::new(started.nonce.clone())).expect("an ES256 ID token the RP accepts");
    let expected = AccessTokenHash::from_token(
        &AccessToken::new(tokens["access_token"].as_str().unwrap().into()),
        token.signing_alg().unwrap(),
        token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    // A single-page app reads the token endpoint's answers from its own
    // origin (the origin of a registered redirect URI), and only from there.
    let spa = json!({
        "redirect_uris": ["https://spa.example.com/callback"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "application_type": "browser",
    });
    let (spa_id, _) = oidc_app(&gw, spa, json!({ "token_endpoint_auth_method": "none" }), Some(&alice_id)).await;
    let token_endpoint = gw.url("/oauth2/default/v1/token");
    let pre = gw
        .http
        .request(Method::OPTIONS, &token_endpoint)
        .header("origin", "https://spa.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://spa.example.com");
    for (origin, readable) in [("https://spa.example.com", true), ("https://evil.example", false)] {
        let r = gw
            .http
            .post(&token_endpoint)
            .header("origin", origin)
            .form(&[("grant_type", "authorization_code"), ("code", "nope"), ("redirect_uri", "https://spa.example.com/callback"), ("code_verifier", &"v".repeat(43)), ("client_id", &spa_id)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers().get("access-control-allow-origin").is_some(), readable, "{origin}");
    }
    let keys = gw.http.get(gw.url("/oauth2/default/v1/keys")).header("origin", "https://any.example").send().await.unwrap();
    assert_eq!(keys.headers()["access-control-allow-origin"], "*");

    // private_key_jwt: a signed assertion authenticates once; its replay is refused.
    let key = oidc::SigningKey::generate("rp-key-1", oidc::SigningAlg::Es256).unwrap();
    let service = json!({
        "grant_types": ["client_credentials"],
        "application_type": "service",
        "jwks": { "keys": [Value::Object(key.public_jwk().clone())] },
    });
    let (jwt_client, _) = oidc_app(&gw, service, json!({ "token_endpoint_auth_method": "private_key_jwt" }), None).await;
    json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{jwt_client}/grants")).json(&json!({ "scopeId": "okta.logs.read" }))).await;
    let token_endpoint = gw.url("/oauth2/v1/token");
    let now = gw.clock.now_dt().unix_timestamp();
    let claims = json!({ "iss": jwt_client, "sub": jwt_client, "aud": token_endpoint, "iat": now, "exp": now + 300, "jti": "assertion-1" });
    let assertion = key.sign_jwt("JWT", claims.as_object().unwrap()).unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "okta.logs.read"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion.as_str()),
    ];
    let (status, t) = json_of(gw.http.post(&token_endpoint).form(&form)).await;
    assert_eq!(status, 200, "{t}");
    let (status, logs) = json_of(gw.http.get(gw.url("/api/v1/logs")).bearer_auth(t["access_token"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{logs}");
    let (status, e) = json_of(gw.http.post(&token_endpoint).form(&form)).await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")), "jti replay");
    gw.stop().await;
}

fn urlencoding_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Follows redirects within the gateway until the consent page, the
/// relying party, or another page; returns the last response's URL and body
/// (empty for the relying party).
async fn follow(gw: &TestGateway, b: &reqwest::Client, start: &str) -> (String, String) {
    let mut next = start.to_owned();
    for _ in 0..10 {
        if next.starts_with("http") && !next.starts_with(&gw.base) {
            return (next, String::new());
        }
        let absolute = if next.starts_with('/') { gw.url(&next) } else { next.clone() };
        let response = b.get(&absolute).send().await.unwrap();
        if let Some(location) = response.headers().get(LOCATION) {
            next = location.to_str().unwrap().to_owned();
            continue;
        }
        return (absolute, response.text().await.unwrap());
    }
    panic!("too many redirects from {start}");
}

async fn consent(gw: &TestGateway, b: &reqwest::Client, page: &str, decision: &str) -> url::Url {
    let (csrf, tx) = (hidden(page, "csrf").expect("csrf"), hidden(page, "tx").expect("tx"));
    let r = b
        .post(gw.url("/oauth2/v1/authorize/consent"))
        .header("origin", &gw.base)
        .form(&[("csrf", csrf.as_str()), ("tx", tx.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    let location = r.headers().get(LOCATION).expect("a redirect after consent").to_str().unwrap().to_owned();
    let (to, _) = follow(gw, b, &location).await;
    url::Url::parse(&to).unwrap()
}

async fn consent_is_asked_remembered_and_revocable(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    let mut settings = web_settings();
    settings["consent_method"] = json!("REQUIRED");
    let (client_id, secret) = oidc_app(&gw, settings, json!({}), Some(&alice_id)).await;
    let secret = secret.unwrap();
    let flow = discover(&gw, &gw.url("/oauth2/default")).await;
    let b = browser();

    // login_hint reaches the sign-in page's username field.
    let started = authorize_url(&flow, &client_id, "openid email offline_access", &[("login_hint", ALICE)]);
    let (at, page) = follow(&gw, &b, &started.url).await;
    assert!(at.contains("/login?"), "{at}");
    assert!(page.contains(&format!("name=\"username\" type=\"text\" autocomplete=\"username\" required value=\"{ALICE}\"")), "{page}");
    let r = b
        .post(gw.url("/login"))
        .header("origin", &gw.base)
        .form(&[("csrf", hidden(&page, "csrf").unwrap()), ("username", ALICE.into()), ("password", GOOD_PASSWORD.into()), ("fromURI", hidden(&page, "fromURI").unwrap())])
        .send()
        .await
        .unwrap();
    let (at, page) = follow(&gw, &b, r.headers()[LOCATION].to_str().unwrap()).await;
    assert!(page.contains("Allow Relying Party to access your account?") && page.contains("offline_access"), "{at}: {page}");
    assert!(!page.contains("logged_in"), "what the person did is kept by the gateway, not the form");

    // Declining: access_denied at the client.
    let back = consent(&gw, &b, &page, "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"), "{back}");
    // prompt=none cannot ask: consent_required.
    let started = authorize_url(&flow, &client_id, "openid email", &[("prompt", "none")]);
    let (back, _) = follow(&gw, &b, &started.url).await;
    assert!(back.starts_with(REDIRECT) && back.contains("error=consent_required"), "{back}");

    // Allowing: a code, and the consent is remembered for these scopes.
    let started = authorize_url(&flow, &client_id, "openid email offline_access", &[]);
    let (_, page) = follow(&gw, &b, &started.url).await;
    let back = consent(&gw, &b, &page, "allow").await;
    let code = param(&back, "code").expect("a code after consent");
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", started.verifier.as_str())];
    let (status, tokens) = token_request(&gw, &flow, (&client_id, &secret), &form).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let started = authorize_url(&flow, &client_id, "openid email", &[]);
    let (back, _) = follow(&gw, &b, &started.url).await;
    assert!(back.starts_with(REDIRECT) && back.contains("code="), "remembered: no second question: {back}");
    // A scope not consented to asks again; so does prompt=consent.
    for (scope, extra) in [("openid email profile", None), ("openid email", Some(("prompt", "consent")))] {
        let started = authorize_url(&flow, &client_id, scope, extra.as_slice());
        let (_, page) = follow(&gw, &b, &started.url).await;
        assert!(page.contains("Allow Relying Party"), "{scope} {extra:?}: {page}");
    }

    // The user-grants API: the consents, the client and its refresh token.
    let (status, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{alice_id}/grants?expand=scope"))).await;
    assert_eq!(status, 200, "{grants}");
    let mut scopes: Vec<&str> = grants.as_array().unwrap().iter().map(|g| g["scopeId"].as_str().unwrap()).collect();
    scopes.sort();
    assert_eq!(scopes, ["email", "offline_access", "openid"], "{grants}");
    let g = &grants[0];
    assert_eq!((g["source"].as_str(), g["clientId"].as_str(), g["userId"].as_str()), (Some("END_USER"), Some(client_id.as_str()), Some(alice_id.as_str())));
    assert_eq!(g["issuer"], json!(gw.url("/oauth2/default")));
    assert_eq!(g["_embedded"]["scope"]["id"], g["scopeId"]);
    let (status, one) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{alice_id}/grants/{}", g["id"].as_str().unwrap()))).await;
    assert_eq!((status, &one["id"]), (200, &g["id"]));
    let (status, clients) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{ALICE}/clients"))).await;
    assert_eq!(status, 200, "{clients}");
    assert_eq!(clients[0]["client_id"], json!(client_id));
    assert_eq!(clients[0]["client_name"], "Relying Party");
    let (status, tokens) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{alice_id}/clients/{client_id}/tokens"))).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens.as_array().unwrap().len(), 1, "{tokens}");
    assert!(tokens[0]["scopes"].as_array().unwrap().contains(&json!("offline_access")));
    let (status, _) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{alice_id}/clients/{client_id}/tokens/oarnosuchtoken"))).await;
    assert_eq!(status, 404);
    let (status, e) = json_of(gw.admin(Method::GET, "/api/v1/users/nobody@example.com/grants")).await;
    assert_eq!((status, e["errorCode"].as_str()), (404, Some("E0000007")), "{e}");
    // A read-only admin reads, and may not revoke.
    let reader = gw.admin_token_for_role("reader@example.com", "READ_ONLY_ADMIN").await;
    let (status, _) = json_of(gw.with_token(&reader, Method::GET, &format!("/api/v1/users/{alice_id}/grants"))).await;
    assert_eq!(status, 200);
    let (status, e) = json_of(gw.with_token(&reader, Method::DELETE, &format!("/api/v1/users/{alice_id}/clients/{client_id}/grants"))).await;
    assert_eq!((status, e["errorCode"].as_str()), (403, Some("E0000006")), "{e}");

    // Revoking the client's grants ends its refresh token and asks again.
    let revoked = gw.admin(Method::DELETE, &format!("/api/v1/users/{alice_id}/clients/{client_id}/grants")).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    let (status, e) = token_request(&gw, &flow, (&client_id, &secret), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    let (_, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{alice_id}/grants"))).await;
    assert_eq!(grants, json!([]));
    let started = authorize_url(&flow, &client_id, "openid email", &[]);
    let (_, page) = follow(&gw, &b, &started.url).await;
    assert!(page.contains("Allow Relying Party"), "asked again: {page}");
    let (_, logs) = json_of(gw.admin(Method::GET, "/api/v1/logs?filter=eventType+eq+%22app.oauth2.as.consent.revoke%22")).await;
    assert_eq!(logs.as_array().map(Vec::len), Some(1), "{logs}");
    gw.stop().await;
}

/// Makes each group and puts the person in it.
async fn join_groups(gw: &TestGateway, user_id: &str, names: &[&str]) {
    for name in names {
        let (status, g) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({ "profile": { "name": name } }))).await;
        assert_eq!(status, 200, "{g}");
        let added = gw.admin(Method::PUT, &format!("/api/v1/groups/{}/users/{user_id}", g["id"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(added.status(), 204);
    }
}

async fn app_groups_claim_filters_org_id_tokens(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let alice_id = alice(&gw).await;
    join_groups(&gw, &alice_id, &["app-admins", "staff"]).await;
    let (client_id, secret) = oidc_app(&gw, web_settings(), json!({}), Some(&alice_id)).await;
    let secret = secret.unwrap();
    let claim_path = format!("/api/v1/internal/apps/{client_id}/settings/oauth/idToken");
    let (status, none) = json_of(gw.admin(Method::GET, &claim_path)).await;
    assert_eq!((status, none), (200, json!({ "issuerMode": "ORG_URL" })));
    // Refused with Okta's validation error, field by field.
    let (status, e) = json_of(gw.admin(Method::POST, &claim_path).json(&json!({ "valueType": "GROUPS", "name": "sub", "groupFilterType": "REGEX", "value": "(" }))).await;
    assert_eq!((status, e["errorCode"].as_str()), (400, Some("E0000001")), "{e}");
    assert_eq!(e["errorCauses"].as_array().unwrap().len(), 2, "{e}");
    let claim = json!({ "valueType": "GROUPS", "name": "roles", "groupFilterType": "STARTS_WITH", "value": "app-" });
    let (status, saved) = json_of(gw.admin(Method::POST, &claim_path).json(&claim)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["issuerMode"], "ORG_URL");

    let flow = discover(&gw, &gw.base).await;
    let b = browser();
    let id_token = |tokens: &Value| jwt_part(tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap());
    let mut sign_in = GOOD_PASSWORD;
    let mut tokens_for = async |scope: &str| {
        let started = authorize_url(&flow, &client_id, scope, &[]);
        let back = sign_in_and_authorize(&gw, &b, &started.url, sign_in).await;
        sign_in = "unused: signed in";
        let code = param(&back, "code").unwrap();
        let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", started.verifier.as_str())];
        let (status, tokens) = token_request(&gw, &flow, (&client_id, &secret), &form).await;
        assert_eq!(status, 200, "{tokens}");
        check_id_token(&gw, &flow, &client_id, &secret, &tokens, &started.nonce);
        tokens
    };
    let tokens = tokens_for("openid groups").await;
    assert_eq!(id_token(&tokens)["roles"], json!(["app-admins"]), "only the groups the filter passes");
    let tokens = tokens_for("openid").await;
    assert!(id_token(&tokens).get("roles").is_none(), "only with the groups scope");
    let deleted = gw.admin(Method::DELETE, &claim_path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let tokens = tokens_for("openid groups").await;
    assert!(id_token(&tokens).get("roles").is_none(), "the app's claim is gone at once: {}", id_token(&tokens));
    let (status, _) = json_of(gw.admin(Method::DELETE, &claim_path)).await;
    assert_eq!(status, 404);
    gw.stop().await;
}
