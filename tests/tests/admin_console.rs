//! The Admin Console's application pages (gateway/src/web/admin_apps): who
//! may see and change them, CSRF, Add Integration's per-field errors, and
//! assignments made from an app's page reaching people's appLinks at once.
//! The browser story (typing in the catalog, the tile) is in
//! tests/browser/admin-apps.test.mjs.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tests::{Browser, TestGateway, ADMIN_LOGIN, ADMIN_PASSWORD, GOOD_PASSWORD};

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

on_both_backends!(pages_need_an_admin_and_changes_need_manage_apps_and_csrf, add_integration_explains_each_field, assignments_from_the_app_page);

async fn app_links(gw: &TestGateway, user_id: &str) -> Vec<Value> {
    let links: Value = gw.admin(Method::GET, &format!("/api/v1/users/{user_id}/appLinks")).send().await.unwrap().json().await.unwrap();
    links.as_array().unwrap().clone()
}

async fn bookmark(gw: &TestGateway, label: &str) -> String {
    let body = json!({"name": "bookmark", "label": label, "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://intranet.example.com/"}}});
    let app: Value = gw.admin(Method::POST, "/api/v1/apps").json(&body).send().await.unwrap().json().await.unwrap();
    app["id"].as_str().expect("app id").to_owned()
}

async fn pages_need_an_admin_and_changes_need_manage_apps_and_csrf(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;

    // Nobody signed in: to the sign-in page, coming back here.
    let anonymous = gw.http.get(gw.url("/admin/apps/catalog")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/login?fromURI=%2Fadmin%2Fapps%2Fcatalog");
    assert_eq!(gw.http.get(gw.url("/admin/apps/catalog/suggest?q=sla")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // A person without a role may not look.
    gw.create_user("grace@example.com", "Grace", "Hopper").await;
    let grace = Browser::sign_in(&gw, "grace@example.com", GOOD_PASSWORD).await;
    assert_eq!(grace.get("/admin/apps").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(grace.get("/admin/apps/catalog/suggest?q=sla").await.status(), StatusCode::FORBIDDEN);

    // A read-only admin looks but cannot change anything.
    let reader = gw.create_user("reader@example.com", "Read", "Only").await;
    let granted = gw
        .admin(Method::POST, &format!("/api/v1/users/{}/roles", reader["id"].as_str().unwrap()))
        .json(&json!({"type": "READ_ONLY_ADMIN"}))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), 201);
    let reader = Browser::sign_in(&gw, "reader@example.com", GOOD_PASSWORD).await;
    let list = reader.page("/admin/apps").await;
    assert!(!list.contains("Create App Integration"), "no way to create for a read-only admin");
    let details = reader.page("/admin/apps/catalog/slack").await;
    assert!(details.contains("Subdomain") && !details.contains("Add integration"));
    let refused = reader.post("/admin/apps/new", &[("signOnMode", "BOOKMARK"), ("label", "Nope"), ("settings.app.url", "https://x.example/")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let id = bookmark(&gw, "Intranet").await;
    assert!(reader.page(&format!("/admin/apps/{id}?tab=general")).await.contains("disabled"), "fields are read-only");
    assert_eq!(reader.post(&format!("/admin/apps/{id}/lifecycle/deactivate"), &[]).await.status(), StatusCode::FORBIDDEN);

    // The super admin, but with a forged CSRF field or from another site.
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let forged = gw
        .http
        .post(gw.url(&format!("/admin/apps/{id}/lifecycle/deactivate")))
        .header("cookie", admin.cookies())
        .form(&[("csrf", "not-the-token-000000000000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross = gw
        .http
        .post(gw.url(&format!("/admin/apps/{id}/lifecycle/deactivate")))
        .header("cookie", admin.cookies())
        .header("origin", "https://evil.example")
        .form(&[("csrf", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let app: Value = gw.admin(Method::GET, &format!("/api/v1/apps/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(app["status"], "ACTIVE", "nothing changed");

    // And properly: deactivated, then back to the list.
    let done = admin.post(&format!("/admin/apps/{id}/lifecycle/deactivate"), &[("back", "https://evil.example/")]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], "/admin/apps", "only our own pages are a way back");
    let app: Value = gw.admin(Method::GET, &format!("/api/v1/apps/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(app["status"], "INACTIVE");

    // The catalog page may run its one script; the others may not run any.
    let catalog = admin.get("/admin/apps/catalog").await;
    let csp = catalog.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let list = admin.get("/admin/apps").await;
    assert!(!list.headers()["content-security-policy"].to_str().unwrap().contains("script-src"));
    gw.stop().await;
}

async fn add_integration_explains_each_field(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let form = admin.page("/admin/apps/catalog/slack/add").await;
    assert!(form.contains(r#"<label for="f-settings-app-subdomain">"#), "the tenant variable is a labelled field");

    // A bad subdomain and an empty label: each explained by its field, the values kept.
    let bad = admin.post("/admin/apps/catalog/slack/add", &[("step", "general"), ("label", ""), ("settings.app.subdomain", "<b>no</b>")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let html = bad.text().await.unwrap();
    assert!(html.contains(r#"id="f-settings-app-subdomain-error""#), "{html}");
    assert!(html.contains(r#"id="f-label-error""#));
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(html.contains("&lt;b&gt;no&lt;/b&gt;") && !html.contains("<b>no</b>"), "what was typed comes back escaped");

    // Good values: the Sign-On Options step carries them.
    let next = admin.post("/admin/apps/catalog/slack/add", &[("step", "general"), ("label", "Slack <Acme>"), ("settings.app.subdomain", "acme")]).await;
    assert_eq!(next.status(), StatusCode::OK);
    let html = next.text().await.unwrap();
    assert!(html.contains("Sign-On Options") && html.contains(r#"name="settings.app.subdomain" value="acme""#));

    // A custom username expression the API refuses: the cause lands on the field.
    let fields = [
        ("step", "signon"),
        ("label", "Slack <Acme>"),
        ("settings.app.subdomain", "acme"),
        ("signOnMode", "SAML_2_0"),
        ("usernameFormat", "CUSTOM"),
        ("credentials.userNameTemplate.template", "${source.login"),
        ("credentials.userNameTemplate.pushStatus", "PUSH"),
    ];
    let refused = admin.post("/admin/apps/catalog/slack/add", &fields).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r#"id="f-credentials-userNameTemplate-template-error""#), "{html}");

    // Done: created through the API's own function, landing on the app's page.
    let mut fields = fields.to_vec();
    fields[4] = ("usernameFormat", "EMAIL_PREFIX");
    let done = admin.post("/admin/apps/catalog/slack/add", &fields).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/admin/apps/0oa") && location.ends_with("?added=1"), "{location}");
    let id = location.trim_start_matches("/admin/apps/").trim_end_matches("?added=1");
    let app: Value = gw.admin(Method::GET, &format!("/api/v1/apps/{id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(app["name"], "slack");
    assert_eq!(app["label"], "Slack <Acme>");
    assert_eq!(app["settings"]["signOn"]["ssoAcsUrl"], "https://acme.slack.com/sso/saml");
    assert_eq!(app["credentials"]["userNameTemplate"]["template"], r#"${fn:substringBefore(source.email, "@")}"#);
    assert_eq!(app["credentials"]["revealPassword"], false);
    let page = admin.page(&location).await;
    assert!(page.contains("Slack &lt;Acme&gt;") && page.contains("was added"));
    gw.stop().await;
}

async fn assignments_from_the_app_page(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let id = bookmark(&gw, "Intranet").await;
    let grace = gw.create_user("grace.hopper@example.com", "Grace", "Hopper").await;
    let grace_id = grace["id"].as_str().unwrap();
    let alan = gw.create_user("alan@example.com", "Alan", "Turing").await;
    let alan_id = alan["id"].as_str().unwrap();
    let group: Value = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Codebreakers"}})).send().await.unwrap().json().await.unwrap();
    let group_id = group["id"].as_str().unwrap();
    assert_eq!(gw.admin(Method::PUT, &format!("/api/v1/groups/{group_id}/users/{alan_id}")).send().await.unwrap().status(), 204);

    // Find a person by the start of a name; assign them.
    let found = admin.page(&format!("/admin/apps/{id}?tab=assignments&person=gra")).await;
    assert!(found.contains("Assign Grace Hopper to Intranet"), "{found}");
    assert!(!found.contains("Assign Alan Turing"));
    let assigned = admin.post(&format!("/admin/apps/{id}/users"), &[("user_id", grace_id)]).await;
    assert_eq!(assigned.status(), StatusCode::SEE_OTHER);
    let links = app_links(&gw, grace_id).await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["appInstanceId"], id.as_str());

    // Edit the app username; an empty one is refused by the field.
    let empty = admin.post(&format!("/admin/apps/{id}/users/{grace_id}"), &[("credentials.userName", "  ")]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(empty.text().await.unwrap().contains(&format!(r#"id="username-{grace_id}-error""#)));
    let renamed = admin.post(&format!("/admin/apps/{id}/users/{grace_id}"), &[("credentials.userName", "ghopper")]).await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let row: Value = gw.admin(Method::GET, &format!("/api/v1/apps/{id}/users/{grace_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(row["credentials"]["userName"], "ghopper");

    // Unassign: gone from appLinks at once.
    assert_eq!(admin.post(&format!("/admin/apps/{id}/users/{grace_id}/remove"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert!(app_links(&gw, grace_id).await.is_empty());

    // A group: its member gets the app, shown as assigned by group, and loses it with the group.
    let found = admin.page(&format!("/admin/apps/{id}?tab=assignments&group=code")).await;
    assert!(found.contains("Assign group Codebreakers to Intranet"));
    assert_eq!(admin.post(&format!("/admin/apps/{id}/groups"), &[("group_id", group_id)]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app_links(&gw, alan_id).await.len(), 1);
    let tab = admin.page(&format!("/admin/apps/{id}?tab=assignments")).await;
    assert!(tab.contains("By group") && tab.contains("Unassign group Codebreakers"));
    assert!(!tab.contains("Unassign Alan Turing"), "a group's member is unassigned through the group");
    assert_eq!(admin.post(&format!("/admin/apps/{id}/groups/{group_id}/remove"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert!(app_links(&gw, alan_id).await.is_empty());
    gw.stop().await;
}
