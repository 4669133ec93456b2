//! Create App Integration's forms for SWA, WS-Federation and bookmarks: each
//! setting the form offers reaches the app (read back through the Apps API),
//! a refused form shows the API's cause next to its field and keeps what was
//! typed, and a shared SWA password is stored sealed, never drawn back into a
//! page or returned by the API.

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tests::{json_of, on_both_backends, Browser, TestGateway, ADMIN_LOGIN, ADMIN_PASSWORD};

on_both_backends!(swa_form_sets_scheme_fields_and_a_sealed_shared_password, wsfed_form_sets_every_token_option, bookmark_form);

/// Submits the wizard; returns the new app (read through the API) or the refused page.
async fn create(admin: &Browser<'_>, fields: &[(&str, &str)]) -> Result<Value, (StatusCode, String)> {
    let response = admin.post("/admin/apps/new", fields).await;
    if response.status() != StatusCode::SEE_OTHER {
        let status = response.status();
        return Err((status, response.text().await.unwrap()));
    }
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/admin/apps/").split('?').next().unwrap().to_owned();
    let (status, app) = json_of(admin.gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(status, 200);
    Ok(app)
}

async fn swa_form_sets_scheme_fields_and_a_sealed_shared_password(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let page = admin.page("/admin/apps/new?mode=AUTO_LOGIN").await;
    for label in ["Login page URL", "Extra field name", "Who sets the credentials", "Shared password", "Password reveal"] {
        assert!(page.contains(label), "the form offers {label}");
    }

    // Refused: shared credentials without a username; the password typed is not drawn back.
    let shared_password = " Team-Board-Pass 4 ";
    let base = [
        ("signOnMode", "AUTO_LOGIN"),
        ("label", "Team board"),
        ("settings.signOn.loginUrl", "https://board.example/session"),
        ("settings.app.usernameField", "#login"),
        ("settings.app.passwordField", "pw"),
        ("settings.app.buttonField", "commit"),
        ("settings.app.extraFieldSelector", "tenant"),
        ("settings.app.extraFieldValue", "acme"),
        ("credentials.scheme", "SHARED_USERNAME_AND_PASSWORD"),
        ("credentials.password", shared_password),
    ];
    let (status, refused) = create(&admin, &[&base[..], &[("credentials.userName", "")]].concat()).await.unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"#f-credentials-userName\""), "the summary links to the username field");
    assert!(!refused.contains("Team-Board-Pass"), "a typed password is never drawn back");
    assert!(refused.contains("value=\"acme\""), "what was typed stays");

    let app = create(&admin, &[&base[..], &[("credentials.userName", "team@example.com")]].concat()).await.unwrap();
    assert_eq!(app["signOnMode"], "AUTO_LOGIN");
    assert_eq!(app["settings"]["signOn"]["loginUrl"], "https://board.example/session");
    assert_eq!(app["settings"]["app"]["usernameField"], "#login");
    assert_eq!(app["settings"]["app"]["extraFieldSelector"], "tenant");
    assert_eq!(app["credentials"]["scheme"], "SHARED_USERNAME_AND_PASSWORD");
    assert_eq!(app["credentials"]["userName"], "team@example.com");
    assert!(!app.to_string().contains("Team-Board-Pass"), "the API never returns it: {app}");
    // Sealed in the vault, exactly as typed (spaces included).
    let state = gw.state();
    let sealed = state.store.swa_shared_password(app["id"].as_str().unwrap()).await.unwrap().expect("stored");
    let opened = state.vault.open(&format!("swa/{}/shared", app["id"].as_str().unwrap()), &sealed.sealed_password).unwrap();
    assert_eq!(opened, shared_password.as_bytes());
    let signon = admin.page(&format!("/admin/apps/{}?tab=signon", app["id"].as_str().unwrap())).await;
    assert!(!signon.contains("Team-Board-Pass"));

    // A person-set scheme with reveal allowed.
    let own = create(&admin, &[
        ("signOnMode", "AUTO_LOGIN"), ("label", "Wiki"), ("settings.signOn.loginUrl", "https://wiki.example/login"),
        ("credentials.scheme", "EDIT_USERNAME_AND_PASSWORD"), ("credentials.revealPassword", "true"),
    ])
    .await
    .unwrap();
    assert_eq!((own["credentials"]["scheme"].as_str(), own["credentials"]["revealPassword"].as_bool()), (Some("EDIT_USERNAME_AND_PASSWORD"), Some(true)));

    // A login URL that is not a URL is named by its field.
    let (_, bad) = create(&admin, &[("signOnMode", "AUTO_LOGIN"), ("label", "Bad"), ("settings.signOn.loginUrl", "javascript:alert(1)"), ("credentials.scheme", "EDIT_PASSWORD_ONLY")]).await.unwrap_err();
    assert!(bad.contains("id=\"f-settings-signOn-loginUrl-error\""), "the login URL's error is shown by its field");
    gw.stop().await;
}

async fn wsfed_form_sets_every_token_option(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let page = admin.page("/admin/apps/new?mode=WS_FEDERATION").await;
    for label in ["Realm", "Reply URL override", "Other reply URLs", "Token type", "Attribute statements", "Group filter", "AuthnContextClassRef"] {
        assert!(page.contains(label), "the form offers {label}");
    }
    let base = [
        ("signOnMode", "WS_FEDERATION"),
        ("label", "Claims app"),
        ("settings.app.realm", "urn:claims:app"),
        ("settings.app.wReplyURL", "https://claims.example/wsfed"),
        ("settings.app.wReplyOverride", "true"),
        ("settings.app.audienceRestriction", "urn:claims:audience"),
        ("settings.app.nameIDFormat", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
        ("settings.app.tokenType", "SAML_2_0"),
        ("settings.app.usernameAttribute", "upn"),
        ("settings.app.attributeStatements", "department|user.department\n\ncostCenter|user.costCenter|urn:example:claims"),
        ("settings.app.groupName", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"),
        ("settings.app.authnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
    ];
    // Refused: a bad second reply URL and a group filter that is not a regular expression.
    let (status, refused) = create(&admin, &[&base[..], &[("settings.app.wReplyURLs", "https://claims.example/alt\nnot a url"), ("settings.app.groupFilter", "(")]].concat())
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"#f-settings-app-wReplyURLs\"") || refused.contains("href=\"#f-settings-app-groupFilter\""), "{refused}");
    assert!(refused.contains("urn:claims:audience"), "what was typed stays");

    let app = create(&admin, &[&base[..], &[("settings.app.wReplyURLs", "https://claims.example/alt\n"), ("settings.app.groupFilter", "^Eng")]].concat())
        .await
        .unwrap();
    let settings = &app["settings"]["app"];
    assert_eq!(settings["realm"], "urn:claims:app");
    assert_eq!(settings["wReplyOverride"], true);
    assert_eq!(settings["wReplyURLs"], serde_json::json!(["https://claims.example/alt"]));
    assert_eq!(settings["tokenType"], "SAML_2_0");
    assert_eq!(settings["usernameAttribute"], "upn");
    assert_eq!(settings["attributeStatements"], "department|user.department,costCenter|user.costCenter|urn:example:claims");
    assert_eq!(settings["groupFilter"], "^Eng");
    assert_eq!(settings["audienceRestriction"], "urn:claims:audience");

    // What the form made is a working relying party: the override URL is honoured, others are not.
    let passive = |wreply: &str| {
        format!("/app/{}/{}/sso/wsfed/passive?wa=wsignin1.0&wtrealm=urn%3Aclaims%3Aapp&wreply={}", app["name"].as_str().unwrap(), app["id"].as_str().unwrap(), wreply)
    };
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{}/users", app["id"].as_str().unwrap())).json(&serde_json::json!({"id": ada["id"], "scope": "USER"}))).await;
    assert_eq!(status, 200);
    let cookie = tests::session(&gw, "ada@example.com").await;
    let ok = gw.http.get(gw.url(&passive("https%3A%2F%2Fclaims.example%2Falt"))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body = ok.text().await.unwrap();
    assert!(body.contains("action=\"https://claims.example/alt\"") && body.contains("name=\"wresult\""), "{body}");
    let other = gw.http.get(gw.url(&passive("https%3A%2F%2Fevil.example%2F"))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(other.status(), 400);
    assert!(!other.text().await.unwrap().contains("wresult"));
    gw.stop().await;
}

async fn bookmark_form(backend: tests::Backend) {
    let gw = TestGateway::start(backend).await;
    let admin = Browser::sign_in(&gw, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (status, refused) = create(&admin, &[("signOnMode", "BOOKMARK"), ("label", "Intranet"), ("settings.app.url", "intranet")]).await.unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"#f-settings-app-url\""));
    let app = create(&admin, &[("signOnMode", "BOOKMARK"), ("label", "Intranet"), ("settings.app.url", "https://intranet.example/"), ("settings.app.requestIntegration", "true")])
        .await
        .unwrap();
    assert_eq!(app["settings"]["app"]["url"], "https://intranet.example/");
    assert_eq!(app["settings"]["app"]["requestIntegration"], true);
    gw.stop().await;
}
