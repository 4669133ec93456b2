//! The Admin Console's authorization-server pages (gateway/src/web/admin_authz)
//! and the OpenID Connect pages of an app (forms/oidc.rs, oidc_edit.rs): who
//! may see and change them, CSRF, per-field errors from the API's causes, and
//! that what the pages make is what the API and the token endpoint serve.
//! The browser story is in tests/browser/admin-authz.test.mjs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use reqwest::header::LOCATION;
use tests::{json_of, on_both_backends, Browser, TestGateway, ADMIN_LOGIN, ADMIN_PASSWORD, GOOD_PASSWORD};

on_both_backends!(
    server_pages_read_with_read_and_change_with_manage_org_and_csrf,
    server_pages_make_what_the_api_serves,
    oidc_wizard_shows_the_secret_once_and_grants_scopes,
    oidc_edit_page_saves_through_the_api_and_replaces_the_secret,
    access_policy_pages_decide_token_requests,
);

/// The value of the read-only input with this id.
fn input_value(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"id="{id}""#))?;
    let rest = &html[start..];
    let value = rest[..rest.find('>')?].split(r#"value=""#).nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

/// An error shown by the field for this API path, tied to it, and linked from the summary.
fn assert_field_error(html: &str, field: &str) {
    assert!(html.contains(&format!(r#"id="{field}-error""#)), "an error by {field}: {html}");
    assert!(html.contains(&format!(r##"href="#{field}""##)), "the summary links to {field}");
    assert!(html.contains(r#"role="alert""#));
}

async fn create_server(gw: &TestGateway, name: &str) -> String {
    let (status, made) =
        json_of(gw.admin(Method::POST, "/api/v1/authorizationServers").json(&json!({ "name": name, "description": "", "audiences": ["api://reports"] }))).await;
    assert_eq!(status, 201, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

async fn server_pages_read_with_read_and_change_with_manage_org_and_csrf(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let id = create_server(&gw, "Reports").await;

    // Nobody signed in: to the sign-in page, coming back.
    let anonymous = gw.http.get(gw.url("/admin/authorization-servers")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/login?fromURI=%2Fadmin%2Fauthorization-servers");

    // A person without a role may not look.
    gw.create_user("grace@example.com", "Grace", "Hopper").await;
    let grace = Browser::sign_in(&gw, "grace@example.com", GOOD_PASSWORD).await;
    assert_eq!(grace.get("/admin/authorization-servers").await.status(), StatusCode::FORBIDDEN);

    // A read-only admin sees every tab, with no way to change anything.
    let reader = Browser::with_role(&gw, "reader@example.com", "READ_ONLY_ADMIN").await;
    let list = reader.page("/admin/authorization-servers").await;
    assert!(list.contains("Reports") && list.contains("api://reports") && list.contains(&gw.url(&format!("/oauth2/{id}"))), "{list}");
    assert!(list.contains(r#"aria-current="page">Authorization Servers"#), "the nav marks its section");
    assert!(!list.contains("Add Authorization Server"));
    assert_eq!(reader.get("/admin/authorization-servers/new").await.status(), StatusCode::FORBIDDEN);
    let settings = reader.page(&format!("/admin/authorization-servers/{id}?tab=settings")).await;
    assert!(settings.contains(r#"name="name" type="text" value="Reports" required disabled"#), "{settings}");
    assert!(!settings.contains(">Save<") && !settings.contains(">Deactivate<"));
    let scopes = reader.page(&format!("/admin/authorization-servers/{id}?tab=scopes")).await;
    assert!(scopes.contains("openid") && !scopes.contains("Add scope"));
    let claims = reader.page(&format!("/admin/authorization-servers/{id}?tab=claims")).await;
    assert!(!claims.contains("Add groups claim"));
    let keys = reader.page(&format!("/admin/authorization-servers/{id}?tab=keys")).await;
    assert!(keys.contains("Current") && keys.contains("Next") && !keys.contains("Rotate keys</button>"));
    for (path, fields) in [
        ("/admin/authorization-servers/new".to_owned(), vec![("name", "Nope"), ("audiences", "api://nope")]),
        (format!("/admin/authorization-servers/{id}/settings"), vec![("name", "Renamed"), ("audiences", "api://x")]),
        (format!("/admin/authorization-servers/{id}/lifecycle/deactivate"), vec![]),
        (format!("/admin/authorization-servers/{id}/scopes"), vec![("name", "reports.read"), ("consent", "IMPLICIT")]),
        (format!("/admin/authorization-servers/{id}/claims"), vec![("group_filter_type", "STARTS_WITH"), ("value", "app-")]),
        (format!("/admin/authorization-servers/{id}/keys/rotate"), vec![]),
    ] {
        assert_eq!(reader.post(&path, &fields).await.status(), StatusCode::FORBIDDEN, "read-only POST {path}");
    }

    // An application administrator manages apps, not authorization servers, as in the API.
    let app_admin = Browser::with_role(&gw, "apps@example.com", "APP_ADMIN").await;
    assert!(!app_admin.page("/admin/authorization-servers").await.contains("Add Authorization Server"));
    assert_eq!(app_admin.post(&format!("/admin/authorization-servers/{id}/scopes"), &[("name", "reports.read")]).await.status(), StatusCode::FORBIDDEN);

    // The super admin, but with a forged CSRF field or from another site.
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let forged = gw
        .http
        .post(gw.url(&format!("/admin/authorization-servers/{id}/lifecycle/deactivate")))
        .header("cookie", admin.cookies())
        .form(&[("csrf", "not-the-token-000000000000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross = gw
        .http
        .post(gw.url("/admin/authorization-servers/new"))
        .header("cookie", admin.cookies())
        .header("origin", "https://evil.example")
        .form(&[("csrf", admin.csrf.as_str()), ("name", "Evil"), ("audiences", "api://evil")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let (_, servers) = json_of(gw.admin(Method::GET, "/api/v1/authorizationServers")).await;
    let mut names: Vec<&str> = servers.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Reports", "default"], "nothing was created or renamed");
    let (_, server) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}"))).await;
    assert_eq!(server["status"], "ACTIVE", "nothing changed");
    let (_, scopes) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/scopes"))).await;
    assert!(!scopes.as_array().unwrap().iter().any(|s| s["name"] == "reports.read"));

    // A server that does not exist, or the org server, is not a page.
    assert_eq!(admin.get("/admin/authorization-servers/ausnothere").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.get("/admin/authorization-servers/org").await.status(), StatusCode::NOT_FOUND);
    gw.stop().await;
}

async fn server_pages_make_what_the_api_serves(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;

    // Add: an empty form is explained field by field.
    let form = admin.page("/admin/authorization-servers/new").await;
    assert!(form.contains(r#"<label for="f-name">"#) && form.contains(r#"<label for="f-audiences">"#));
    let html = admin.post_refused("/admin/authorization-servers/new", &[("name", ""), ("audiences", "")]).await;
    assert_field_error(&html, "f-name");
    let html = admin.post_refused("/admin/authorization-servers/new", &[("name", "Reports <API>"), ("audiences", "  \n ")]).await;
    assert_field_error(&html, "f-audiences");
    assert!(html.contains("Reports &lt;API&gt;"), "what was typed comes back, escaped");
    let location = admin
        .post_ok("/admin/authorization-servers/new", &[("name", "Reports <API>"), ("audiences", "api://reports\napi://reports-v2"), ("description", "For reports")])
        .await;
    assert!(location.starts_with("/admin/authorization-servers/aus") && location.ends_with("?done=created"), "{location}");
    let id = location.trim_start_matches("/admin/authorization-servers/").trim_end_matches("?done=created").to_owned();
    let (_, server) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}"))).await;
    assert_eq!(server["name"], "Reports <API>");
    assert_eq!(server["audiences"], json!(["api://reports", "api://reports-v2"]));
    let page = admin.page(&location).await;
    assert!(page.contains("Authorization server added"));
    let issuer = gw.url(&format!("/oauth2/{id}"));
    assert!(page.contains(&format!(r#"href="{issuer}/.well-known/openid-configuration""#)), "metadata URI links");
    assert!(page.contains(&format!(r#"href="{issuer}/.well-known/oauth-authorization-server""#)));

    // Settings: saved through the API's function; a refusal lands on its field.
    let html = admin.post_refused(&format!("/admin/authorization-servers/{id}/settings"), &[("name", "Reports"), ("audiences", "")]).await;
    assert_field_error(&html, "f-audiences");
    admin.post_ok(&format!("/admin/authorization-servers/{id}/settings"), &[("name", "Reports"), ("audiences", "api://reports")]).await;
    let (_, server) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}"))).await;
    assert_eq!(server["name"], "Reports");
    assert_eq!(server["audiences"], json!(["api://reports"]));

    // Scopes: a bad name, a duplicate of a system scope, then one that works.
    let scopes_path = format!("/admin/authorization-servers/{id}/scopes");
    let html = admin.post_refused(&scopes_path, &[("name", "two words"), ("consent", "IMPLICIT")]).await;
    assert_field_error(&html, "f-name");
    let html = admin.post_refused(&scopes_path, &[("name", "email"), ("consent", "IMPLICIT")]).await;
    assert!(html.contains("a scope with this name exists"));
    let html = admin.post_refused(&scopes_path, &[("name", "reports.read"), ("consent", "SOMETIMES")]).await;
    assert_field_error(&html, "f-consent");
    admin
        .post_ok(&scopes_path, &[("name", "reports.read"), ("description", "Read reports"), ("consent", "REQUIRED"), ("default", "true"), ("metadataPublish", "true")])
        .await;
    let (_, scopes) = json_of(gw.admin(Method::GET, &scopes_path.replace("/admin/authorization-servers", "/api/v1/authorizationServers"))).await;
    let scope = scopes.as_array().unwrap().iter().find(|s| s["name"] == "reports.read").expect("the scope").clone();
    assert_eq!((scope["consent"].as_str(), scope["default"].as_bool(), scope["metadataPublish"].as_str()), (Some("REQUIRED"), Some(true), Some("ALL_CLIENTS")));
    let (_, discovery) = json_of(gw.http.get(format!("{issuer}/.well-known/openid-configuration"))).await;
    assert!(discovery["scopes_supported"].as_array().unwrap().iter().any(|s| s == "reports.read"));
    let tab = admin.page(&format!("/admin/authorization-servers/{id}?tab=scopes")).await;
    assert!(tab.contains("Delete scope reports.read") && !tab.contains("Delete scope openid"), "system scopes stay");
    admin.post_ok(&format!("{scopes_path}/{}/delete", scope["id"].as_str().unwrap()), &[]).await;
    let (_, scopes) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/scopes"))).await;
    assert!(!scopes.as_array().unwrap().iter().any(|s| s["name"] == "reports.read"));

    // Claims: a filter with no value is refused by its field; then a groups claim.
    let claims_path = format!("/admin/authorization-servers/{id}/claims");
    let html = admin.post_refused(&claims_path, &[("group_filter_type", "EQUALS"), ("value", "")]).await;
    assert_field_error(&html, "f-value");
    let html = admin.post_refused(&claims_path, &[("group_filter_type", "SOUNDS_LIKE"), ("value", "x")]).await;
    assert_field_error(&html, "f-group-filter-type");
    admin.post_ok(&claims_path, &[("group_filter_type", "STARTS_WITH"), ("value", "app-")]).await;
    let (_, claims) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/claims"))).await;
    assert_eq!(claims[0]["name"], "groups");
    assert_eq!((claims[0]["group_filter_type"].as_str(), claims[0]["value"].as_str()), (Some("STARTS_WITH"), Some("app-")));
    assert!(admin.page(&format!("/admin/authorization-servers/{id}?tab=claims")).await.contains("Starts with “app-”"));
    admin.post_ok(&format!("{claims_path}/{}/delete", claims[0]["id"].as_str().unwrap()), &[]).await;
    let (_, claims) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/claims"))).await;
    assert_eq!(claims, json!([]));

    // Keys: the kids the API lists, with their slots; rotation waits for the overlap.
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/credentials/keys"))).await;
    let kid_of = |keys: &Value, alg: &str, status: &str| {
        keys.as_array().unwrap().iter().find(|k| k["alg"] == alg && k["status"] == status).map(|k| k["kid"].as_str().unwrap().to_owned()).unwrap()
    };
    let (current, next) = (kid_of(&keys, "RS256", "ACTIVE"), kid_of(&keys, "RS256", "NEXT"));
    let tab = admin.page(&format!("/admin/authorization-servers/{id}?tab=keys")).await;
    assert!(tab.contains(&current) && tab.contains(&next) && tab.contains("Rotate keys"));
    let html = admin.post_refused(&format!("/admin/authorization-servers/{id}/keys/rotate"), &[]).await;
    assert!(html.contains("has not been published long enough"), "{html}");
    assert!(html.contains(r##"href="#f-use""##), "the summary points at the button");
    gw.clock.advance(time::Duration::hours(25));
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    admin.post_ok(&format!("/admin/authorization-servers/{id}/keys/rotate"), &[]).await;
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/credentials/keys"))).await;
    assert_eq!(kid_of(&keys, "RS256", "ACTIVE"), next, "the next key signs now");
    assert_eq!(kid_of(&keys, "RS256", "EXPIRED"), current, "the previous key is still published");
    let tab = admin.page(&format!("/admin/authorization-servers/{id}?tab=keys")).await;
    assert!(tab.contains("Previous"));

    // Deactivate, then delete: gone from the API and the list.
    admin.post_ok(&format!("/admin/authorization-servers/{id}/lifecycle/deactivate"), &[]).await;
    let (_, server) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}"))).await;
    assert_eq!(server["status"], "INACTIVE");
    assert!(admin.page(&format!("/admin/authorization-servers/{id}")).await.contains("Delete authorization server Reports"));
    assert_eq!(admin.post_ok(&format!("/admin/authorization-servers/{id}/delete"), &[]).await, "/admin/authorization-servers");
    let (status, _) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}"))).await;
    assert_eq!(status, 404);
    assert!(!admin.page("/admin/authorization-servers").await.contains("Reports"));
    gw.stop().await;
}

/// The fields of the wizard's OIDC form for a service app.
fn service_app<'a>(label: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("signOnMode", "OPENID_CONNECT"),
        ("label", label),
        ("settings.oauthClient.application_type", "service"),
        ("settings.oauthClient.grant_types", "client_credentials"),
        ("credentials.oauthClient.token_endpoint_auth_method", "client_secret_basic"),
        ("settings.oauthClient.consent_method", "TRUSTED"),
        ("settings.oauthClient.idp_initiated_login.mode", "DISABLED"),
        ("settings.oauthClient.id_token_signed_response_alg", "RS256"),
        ("scopeId", "okta.users.read"),
        ("scopeId", "okta.groups.read"),
    ]
}

async fn client_credentials(gw: &TestGateway, client_id: &str, secret: &str, scope: &str) -> (u16, Value) {
    json_of(gw.http.post(gw.url("/oauth2/v1/token")).basic_auth(client_id, Some(secret)).form(&[("grant_type", "client_credentials"), ("scope", scope)])).await
}

async fn oidc_wizard_shows_the_secret_once_and_grants_scopes(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let form = admin.page("/admin/apps/new?mode=OPENID_CONNECT").await;
    for label in ["Sign-out redirect URIs", "Client authentication", "Require PKCE", "Login initiated by", "Initiate login URI", "ID token signing algorithm", "okta.users.manage"] {
        assert!(form.contains(label), "the form offers {label}");
    }

    // Refusals from the API land by their fields: a single-page app with a
    // secret; "Either" without an initiate login URI; private_key_jwt without keys.
    let spa = [
        ("signOnMode", "OPENID_CONNECT"),
        ("label", "Dashboard SPA"),
        ("settings.oauthClient.application_type", "browser"),
        ("settings.oauthClient.grant_types", "authorization_code"),
        ("settings.oauthClient.redirect_uris", "https://spa.example.com/callback"),
        ("credentials.oauthClient.token_endpoint_auth_method", "client_secret_basic"),
        ("settings.oauthClient.idp_initiated_login.mode", "SPEC"),
    ];
    let html = admin.post_refused("/admin/apps/new", &spa).await;
    assert_field_error(&html, "f-credentials-oauthClient-token-endpoint-auth-method");
    assert_field_error(&html, "f-settings-oauthClient-initiate-login-uri");
    assert!(html.contains(r#"value="https://spa.example.com/callback""#) || html.contains("https://spa.example.com/callback</textarea>"), "values are kept");
    let mut web = service_app("Web");
    web[2] = ("settings.oauthClient.application_type", "web");
    web[3] = ("settings.oauthClient.grant_types", "authorization_code");
    web[4] = ("credentials.oauthClient.token_endpoint_auth_method", "private_key_jwt");
    web.push(("settings.oauthClient.redirect_uris", "https://web.example.com/cb"));
    web.push(("settings.oauthClient.jwks", "{not json"));
    let html = admin.post_refused("/admin/apps/new", &web).await;
    assert_field_error(&html, "f-settings-oauthClient-jwks");
    let (_, apps) = json_of(gw.admin(Method::GET, "/api/v1/apps")).await;
    assert_eq!(apps, json!([]), "nothing was created");

    // A service app: its secret on the answer, once, and its scopes granted.
    let created = admin.post("/admin/apps/new", &service_app("Reports exporter")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["cache-control"], "no-store", "the page with the secret is not cached");
    let html = created.text().await.unwrap();
    let secret = input_value(&html, "client-secret").expect("the secret is shown");
    assert!(secret.len() >= 40, "{secret}");
    assert!(html.contains("not shown again"));
    let (_, apps) = json_of(gw.admin(Method::GET, "/api/v1/apps")).await;
    let app = &apps[0];
    let id = app["id"].as_str().unwrap().to_owned();
    assert!(html.contains(&id), "the client id is shown");
    assert_eq!(app["settings"]["oauthClient"]["application_type"], "service");
    assert_eq!(app["settings"]["oauthClient"]["grant_types"], json!(["client_credentials"]));
    assert_eq!(app["settings"]["oauthClient"]["response_types"], json!(["token"]));
    assert_eq!(app["credentials"]["oauthClient"]["token_endpoint_auth_method"], "client_secret_basic");
    assert!(!app.to_string().contains(&secret), "the API never shows it again");
    let again = admin.page(&format!("/admin/apps/{id}?tab=signon")).await;
    assert!(!again.contains(&secret) && again.contains("Edit OIDC settings"));
    let (_, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/grants"))).await;
    let mut scopes: Vec<&str> = grants.as_array().unwrap().iter().map(|g| g["scopeId"].as_str().unwrap()).collect();
    scopes.sort();
    assert_eq!(scopes, ["okta.groups.read", "okta.users.read"]);

    // The configuration works: a token with the granted scope reads users; not more.
    let (status, token) = client_credentials(&gw, &id, &secret, "okta.users.read").await;
    assert_eq!(status, 200, "{token}");
    let bearer = token["access_token"].as_str().unwrap();
    let users = gw.http.get(gw.url("/api/v1/users")).bearer_auth(bearer).send().await.unwrap();
    assert_eq!(users.status(), 200);
    let (status, _) = client_credentials(&gw, &id, &secret, "okta.users.manage").await;
    assert_eq!(status, 400, "a scope not granted is refused");
    gw.stop().await;
}

async fn oidc_edit_page_saves_through_the_api_and_replaces_the_secret(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let html = admin.post("/admin/apps/new", &service_app("Exporter")).await.text().await.unwrap();
    let secret = input_value(&html, "client-secret").unwrap();
    let (_, apps) = json_of(gw.admin(Method::GET, "/api/v1/apps")).await;
    let id = apps[0]["id"].as_str().unwrap().to_owned();
    let edit = format!("/admin/apps/{id}/oidc");

    // The form shows the stored values.
    let page = admin.page(&edit).await;
    assert!(page.contains(r#"value="service" checked"#) && page.contains(r#"value="client_credentials" checked"#), "{page}");
    assert!(page.contains("Generate new client secret") && page.contains("Revoke okta.users.read"));

    // A refusal by its field, the typed values kept; then saved.
    let mut fields = service_app("Exporter");
    fields.retain(|(k, _)| *k != "scopeId" && *k != "label" && *k != "signOnMode");
    fields.push(("settings.oauthClient.post_logout_redirect_uris", "not a uri"));
    let html = admin.post_refused(&edit, &fields).await;
    assert_field_error(&html, "f-settings-oauthClient-post-logout-redirect-uris");
    assert!(html.contains("not a uri</textarea>"));
    fields.pop();
    fields.retain(|(k, _)| *k != "settings.oauthClient.id_token_signed_response_alg");
    fields.push(("settings.oauthClient.id_token_signed_response_alg", "ES256"));
    fields.push(("credentials.oauthClient.pkce_required", "true"));
    let back = admin.post_ok(&edit, &fields).await;
    assert_eq!(back, format!("/admin/apps/{id}?tab=signon&done=saved"));
    let (_, app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["settings"]["oauthClient"]["id_token_signed_response_alg"], "ES256");
    assert_eq!(app["credentials"]["oauthClient"]["pkce_required"], true);
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], json!(id), "what the form does not show is kept");

    // A read-only admin sees the settings but may not change them or make a secret.
    let reader = Browser::with_role(&gw, "reader@example.com", "READ_ONLY_ADMIN").await;
    let page = reader.page(&edit).await;
    assert!(page.contains("disabled") && !page.contains("Generate new client secret") && !page.contains("Revoke okta"));
    assert_eq!(reader.post(&format!("{edit}/secret"), &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(reader.post(&edit, &fields).await.status(), StatusCode::FORBIDDEN);
    let forged = gw.http.post(gw.url(&format!("{edit}/secret"))).header("cookie", admin.cookies()).form(&[("csrf", "forged-000000000000000000000000000000")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(client_credentials(&gw, &id, &secret, "okta.users.read").await.0, 200, "the secret still works");

    // A new secret: shown on the answer, once; the old one stops working.
    let answer = admin.post(&format!("{edit}/secret"), &[]).await;
    assert_eq!(answer.status(), 200);
    let new_secret = input_value(&answer.text().await.unwrap(), "client-secret").expect("the new secret is shown");
    assert_ne!(new_secret, secret);
    assert!(!admin.page(&edit).await.contains(&new_secret), "shown once");
    assert_eq!(client_credentials(&gw, &id, &secret, "okta.users.read").await.0, 401, "the old secret no longer works");
    assert_eq!(client_credentials(&gw, &id, &new_secret, "okta.users.read").await.0, 200);

    // Grants: revoke one, grant another; a scope that is not Okta's is refused by its field.
    let (_, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/grants"))).await;
    let users_read = grants.as_array().unwrap().iter().find(|g| g["scopeId"] == "okta.users.read").unwrap()["id"].as_str().unwrap().to_owned();
    admin.post_ok(&format!("{edit}/grants/{users_read}/revoke"), &[]).await;
    assert_eq!(client_credentials(&gw, &id, &new_secret, "okta.users.read").await.0, 400, "a revoked scope is refused");
    admin.post_ok(&format!("{edit}/grants"), &[("scopeId", "okta.apps.read")]).await;
    let html = admin.post_refused(&format!("{edit}/grants"), &[("scopeId", "okta.everything")]).await;
    assert!(html.contains(r#"id="f-scopeId-error""#), "{html}");
    let (_, grants) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/grants"))).await;
    let mut scopes: Vec<&str> = grants.as_array().unwrap().iter().map(|g| g["scopeId"].as_str().unwrap()).collect();
    scopes.sort();
    assert_eq!(scopes, ["okta.apps.read", "okta.groups.read"]);

    // Not an OIDC app: no such page.
    let (_, bookmark) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({
        "name": "bookmark", "label": "Intranet", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://intranet.example.com/"}}
    })))
    .await;
    assert_eq!(admin.get(&format!("/admin/apps/{}/oidc", bookmark["id"].as_str().unwrap())).await.status(), StatusCode::NOT_FOUND);
    gw.stop().await;
}

async fn custom_server_token(gw: &TestGateway, server: &str, client_id: &str, secret: &str, scope: &str) -> (u16, Value) {
    json_of(gw.http.post(gw.url(&format!("/oauth2/{server}/v1/token"))).basic_auth(client_id, Some(secret)).form(&[("grant_type", "client_credentials"), ("scope", scope)]))
        .await
}

async fn access_policy_pages_decide_token_requests(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let id = create_server(&gw, "Reports").await;
    let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/authorizationServers/{id}/scopes")).json(&json!({ "name": "reports.read" }))).await;
    assert_eq!(status, 201);
    let body = json!({
        "name": "oidc_client", "label": "Exporter", "signOnMode": "OPENID_CONNECT",
        "settings": { "oauthClient": { "application_type": "service", "grant_types": ["client_credentials"] } },
    });
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&body)).await;
    assert_eq!(status, 200, "{app}");
    let client_id = app["id"].as_str().unwrap().to_owned();
    let secret = app["credentials"]["oauthClient"]["client_secret"].as_str().unwrap().to_owned();
    let (status, refused) = custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await;
    assert_eq!(status, 403, "a server without a policy issues nothing: {refused}");

    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let tab = admin.page(&format!("/admin/authorization-servers/{id}?tab=policies")).await;
    assert!(tab.contains("No policies") && tab.contains("Add policy") && tab.contains("Exporter"), "{tab}");

    // A policy: refusals by their fields, then one for the exporter.
    let policies_path = format!("/admin/authorization-servers/{id}/policies");
    let html = admin.post_refused(&policies_path, &[("name", "")]).await;
    assert_field_error(&html, "f-name");
    assert_field_error(&html, "f-conditions-clients-include");
    let html = admin.post_refused(&policies_path, &[("name", "Exporters"), ("conditions.clients.include", "ALL_CLIENTS"), ("conditions.clients.include", &client_id)]).await;
    assert!(html.contains("ALL_CLIENTS stands alone"), "{html}");
    let policy_page = admin.post_ok(&policies_path, &[("name", "Exporters"), ("description", "Machines"), ("conditions.clients.include", &client_id)]).await;
    let (_, list) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/policies"))).await;
    let policy_id = list[0]["id"].as_str().unwrap().to_owned();
    assert!(policy_page.starts_with(&format!("/admin/authorization-servers/{id}/policies/{policy_id}")), "{policy_page}");
    assert_eq!(list[0]["conditions"]["clients"]["include"], json!([client_id]));
    assert_eq!(custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await.0, 403, "a policy without a rule allows nothing");

    // A rule: refusals by their fields, then one that lets the exporter read reports.
    let rules_path = format!("/admin/authorization-servers/{id}/policies/{policy_id}/rules");
    let rule = |access: &'static str, grant: &'static str| {
        vec![
            ("name", "Read reports"),
            ("conditions.grantTypes.include", grant),
            ("conditions.people.groups.include", "EVERYONE"),
            ("conditions.scopes.include", "reports.read"),
            ("actions.token.accessTokenLifetimeMinutes", access),
            ("actions.token.refreshTokenLifetimeMinutes", "0"),
            ("actions.token.refreshTokenWindowMinutes", "10080"),
        ]
    };
    let mut bad = rule("3", "client_credentials");
    bad.retain(|(k, _)| *k != "conditions.grantTypes.include");
    let html = admin.post_refused(&rules_path, &bad).await;
    assert_field_error(&html, "f-actions-token-accessTokenLifetimeMinutes");
    assert_field_error(&html, "f-conditions-grantTypes-include");
    assert!(html.contains(r#"value="3""#), "values are kept");
    admin.post_ok(&rules_path, &rule("30", "client_credentials")).await;
    let (status, token) = custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["expires_in"], 1800, "the rule's lifetime");
    let page = admin.page(&policy_page).await;
    assert!(page.contains("Read reports") && page.contains("client_credentials") && page.contains("Everyone"));

    // A read-only admin sees the policy and the rule, and changes nothing.
    let reader = Browser::with_role(&gw, "reader@example.com", "READ_ONLY_ADMIN").await;
    let (_, rules) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/policies/{policy_id}/rules"))).await;
    let rule_id = rules[0]["id"].as_str().unwrap().to_owned();
    let rule_page = format!("{rules_path}/{rule_id}");
    let page = reader.page(&format!("/admin/authorization-servers/{id}/policies/{policy_id}")).await;
    assert!(page.contains("Read reports") && !page.contains("Add rule") && !page.contains("Delete policy"));
    let tab = reader.page(&format!("/admin/authorization-servers/{id}?tab=policies")).await;
    assert!(tab.contains("Exporters") && tab.contains("Read reports") && !tab.contains("Add policy"), "{tab}");
    assert_eq!(reader.get(&format!("{rules_path}/new")).await.status(), StatusCode::FORBIDDEN);
    let page = reader.page(&rule_page).await;
    assert!(page.contains("disabled") && !page.contains("Save rule"));
    assert_eq!(reader.post(&rule_page, &rule("60", "client_credentials")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(reader.post(&format!("{rule_page}/delete"), &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(reader.post(&policies_path, &[("name", "Mine"), ("conditions.clients.include", "ALL_CLIENTS")]).await.status(), StatusCode::FORBIDDEN);

    // Edit the rule: only authorization codes now, so the exporter is refused.
    admin.post_ok(&rule_page, &rule("30", "authorization_code")).await;
    assert_eq!(custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await.0, 403);
    admin.post_ok(&rule_page, &rule("30", "client_credentials")).await;
    assert_eq!(custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await.0, 200);

    // Deactivating the policy stops it; deleting it removes it and its rules.
    admin.post_ok(&format!("/admin/authorization-servers/{id}/policies/{policy_id}/lifecycle/deactivate"), &[]).await;
    assert_eq!(custom_server_token(&gw, &id, &client_id, &secret, "reports.read").await.0, 403);
    admin.post_ok(&format!("/admin/authorization-servers/{id}/policies/{policy_id}/delete"), &[]).await;
    let (_, list) = json_of(gw.admin(Method::GET, &format!("/api/v1/authorizationServers/{id}/policies"))).await;
    assert_eq!(list, json!([]));
    gw.stop().await;
}
