//! App integrations: the catalog API, creating catalog and custom apps,
//! assignments (direct and through groups, with Okta's precedence), app
//! usernames, appLinks, launches, and cache invalidation on every write.

use reqwest::header::LOCATION;
use reqwest::Method;
use serde_json::{json, Value};
use tests::{json_of, session};
use tests::{Backend, TestGateway};

use tests::on_both_backends;

on_both_backends!(catalog_and_custom_apps, assignments_and_precedence, every_write_invalidates_the_launch_path);



async fn catalog_and_custom_apps(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    // Search is prefix- and typo-tolerant, ranked by name.
    let (status, found) = json_of(gw.admin(Method::GET, "/api/v1/catalog/apps?q=slak")).await;
    assert_eq!(status, 200);
    assert_eq!(found[0]["name"], "slack");
    let (_, by_prefix) = json_of(gw.admin(Method::GET, "/api/v1/catalog/apps?q=sales&limit=5")).await;
    assert!(by_prefix.as_array().unwrap().iter().any(|a| a["name"] == "salesforce"));
    let (_, scim) = json_of(gw.admin(Method::GET, "/api/v1/catalog/apps?functionality=SCIM&limit=200")).await;
    assert!(scim.as_array().unwrap().iter().all(|a| a["functionality"].as_array().unwrap().contains(&json!("SCIM"))));
    let (status, bad) = json_of(gw.admin(Method::GET, "/api/v1/catalog/apps?functionality=TELEPATHY")).await;
    assert_eq!(status, 400);
    assert!(bad["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with("functionality"));
    let (_, slack) = json_of(gw.admin(Method::GET, "/api/v1/catalog/apps/slack")).await;
    assert_eq!(slack["displayName"], "Slack");

    // A catalog app: tenant variables are validated and fill the SAML templates.
    let (status, err) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "slack", "settings": {"app": {"subdomain": "acme.evil.example/x"}}}))).await;
    assert_eq!(status, 400);
    assert!(err["errorCauses"].to_string().contains("settings.app.subdomain"), "{err}");
    let (status, err) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "slack", "settings": {"app": {}}}))).await;
    assert_eq!(status, 400);
    assert!(err["errorCauses"].to_string().contains("settings.app.subdomain"));
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "slack", "label": "Acme Slack", "settings": {"app": {"subdomain": "acme"}}}))).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["signOnMode"], "SAML_2_0");
    assert_eq!(app["status"], "ACTIVE");
    assert_eq!(app["settings"]["signOn"]["ssoAcsUrl"], "https://acme.slack.com/sso/saml");
    assert_eq!(app["settings"]["signOn"]["audience"], "https://slack.com");
    assert!(app["id"].as_str().unwrap().starts_with("0oa"));
    let kid = app["credentials"]["signing"]["kid"].as_str().unwrap().to_owned();
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{}/credentials/keys", app["id"].as_str().unwrap()))).await;
    assert_eq!(keys[0]["kid"], kid);
    assert_eq!(keys[0]["kty"], "RSA");
    assert!(keys[0].get("d").is_none());
    // Changing the tenant variable re-renders what the templates gave.
    let mut renamed = app.clone();
    renamed["settings"]["app"]["subdomain"] = json!("initech");
    let (status, renamed) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app["id"].as_str().unwrap())).json(&renamed)).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["settings"]["signOn"]["ssoAcsUrl"], "https://initech.slack.com/sso/saml");
    let (status, _) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "slack", "signOnMode": "BOOKMARK", "settings": {"app": {"subdomain": "acme"}}}))).await;
    assert_eq!(status, 400, "Slack offers SAML, not bookmark");

    // Custom apps by sign-on mode; invalid settings name each field.
    let (status, err) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "Broken", "signOnMode": "SAML_2_0", "settings": {"signOn": {"ssoAcsUrl": "not a url"}}}))).await;
    assert_eq!(status, 400);
    let causes = err["errorCauses"].to_string();
    assert!(causes.contains("settings.signOn.ssoAcsUrl") && causes.contains("settings.signOn.audience"), "{causes}");
    let (status, custom) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "Expenses", "signOnMode": "SAML_2_0", "settings": {"signOn": {"ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example"}}}))).await;
    assert_eq!(status, 200, "{custom}");
    assert!(custom["name"].as_str().unwrap().starts_with("acme_expenses_"));
    let (status, bookmark) = json_of(gw.admin(Method::POST, "/api/v1/apps?activate=false").json(&json!({"name": "bookmark", "label": "Wiki", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://wiki.example/"}}}))).await;
    assert_eq!(status, 200);
    assert_eq!(bookmark["status"], "INACTIVE");
    let (status, _) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "X", "signOnMode": "TELEX"}))).await;
    assert_eq!(status, 400);
    let (status, _) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "X", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://x.example"}}, "colour": "red"}))).await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (status, err) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "X", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://x.example"}}, "credentials": {"userNameTemplate": {"template": "${password}", "type": "CUSTOM"}}}))).await;
    assert_eq!(status, 400);
    assert!(err["errorCauses"].to_string().contains("credentials.userNameTemplate.template"));

    // List, filter, update, lifecycle, delete.
    let (_, all) = json_of(gw.admin(Method::GET, "/api/v1/apps")).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (_, inactive) = json_of(gw.admin(Method::GET, "/api/v1/apps?filter=status%20eq%20%22INACTIVE%22")).await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    let (_, q) = json_of(gw.admin(Method::GET, "/api/v1/apps?q=acme%20s")).await;
    assert_eq!(q[0]["label"], "Acme Slack");
    let bid = bookmark["id"].as_str().unwrap();
    let mut changed = bookmark.clone();
    changed["label"] = json!("Team Wiki");
    let (status, updated) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{bid}")).json(&changed)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["label"], "Team Wiki");
    let cid = custom["id"].as_str().unwrap();
    let (status, err) = json_of(gw.admin(Method::DELETE, &format!("/api/v1/apps/{cid}"))).await;
    assert_eq!(status, 403);
    assert_eq!(err["errorCode"], "E0000056");
    assert_eq!(gw.admin(Method::POST, &format!("/api/v1/apps/{cid}/lifecycle/deactivate")).send().await.unwrap().status(), 200);
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/apps/{cid}")).send().await.unwrap().status(), 204);
    assert_eq!(gw.admin(Method::GET, &format!("/api/v1/apps/{cid}")).send().await.unwrap().status(), 404);
    // An app admin may manage apps but not people.
    let app_admin = gw.admin_token_for_role("apps@example.com", "APP_ADMIN").await;
    assert_eq!(gw.with_token(&app_admin, Method::POST, &format!("/api/v1/apps/{bid}/lifecycle/activate")).send().await.unwrap().status(), 200);
    let reader = gw.admin_token_for_role("reader@example.com", "READ_ONLY_ADMIN").await;
    assert_eq!(gw.with_token(&reader, Method::POST, &format!("/api/v1/apps/{bid}/lifecycle/deactivate")).send().await.unwrap().status(), 403);
    gw.stop().await;
}

async fn assignments_and_precedence(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let (_, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({
        "label": "Payroll", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://payroll.example/"}},
        "credentials": {"userNameTemplate": {"template": "${fn:substringBefore(source.email, \"@\")}", "type": "BUILT_IN", "pushStatus": "PUSH"}}
    }))).await;
    let aid = app["id"].as_str().unwrap().to_owned();
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    let uid = ada["id"].as_str().unwrap().to_owned();

    // Direct assignment computes the app username from the format.
    let (status, assigned) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{aid}/users")).json(&json!({"id": uid, "scope": "USER", "profile": {"role": "direct"}}))).await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["credentials"]["userName"], "ada");
    assert_eq!(assigned["scope"], "USER");
    // "Create and update": a profile change updates the app username.
    gw.admin(Method::POST, &format!("/api/v1/users/{uid}")).json(&json!({"profile": {"email": "augusta@example.com"}})).send().await.unwrap();
    let (_, after) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{uid}"))).await;
    assert_eq!(after["credentials"]["userName"], "augusta");
    // An explicit username sticks.
    let (_, manual) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{aid}/users/{uid}")).json(&json!({"credentials": {"userName": "a.lovelace"}}))).await;
    assert_eq!(manual["credentials"]["userName"], "a.lovelace");

    // Groups: members get the app with scope GROUP and the top-priority group's profile.
    let (_, eng) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Engineering"}}))).await;
    let (_, ops) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Operations"}}))).await;
    let (eng, ops) = (eng["id"].as_str().unwrap().to_owned(), ops["id"].as_str().unwrap().to_owned());
    let grace = gw.create_user("grace@example.com", "Grace", "Hopper").await;
    let gid = grace["id"].as_str().unwrap().to_owned();
    for g in [&eng, &ops] {
        gw.admin(Method::PUT, &format!("/api/v1/groups/{g}/users/{gid}")).send().await.unwrap();
    }
    let (status, _) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{aid}/groups/{ops}")).json(&json!({"priority": 1, "profile": {"role": "ops"}}))).await;
    assert_eq!(status, 200);
    let (_, _) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{aid}/groups/{eng}")).json(&json!({"priority": 0, "profile": {"role": "eng"}}))).await;
    let (_, grace_app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{gid}"))).await;
    assert_eq!(grace_app["scope"], "GROUP");
    assert_eq!(grace_app["profile"]["role"], "eng", "priority 0 wins");
    assert_eq!(grace_app["credentials"]["userName"], "grace");
    let (_, groups) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/groups"))).await;
    assert_eq!(groups.as_array().unwrap().len(), 2);
    let (_, group_apps) = json_of(gw.admin(Method::GET, &format!("/api/v1/groups/{eng}/apps"))).await;
    assert_eq!(group_apps[0]["id"], aid);
    // A group-derived assignment cannot be removed directly.
    let (status, _) = json_of(gw.admin(Method::DELETE, &format!("/api/v1/apps/{aid}/users/{gid}"))).await;
    assert_eq!(status, 403);
    // Removing the top group falls back to the next; removing both removes the app.
    gw.admin(Method::DELETE, &format!("/api/v1/apps/{aid}/groups/{eng}")).send().await.unwrap();
    let (_, grace_app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{gid}"))).await;
    assert_eq!(grace_app["profile"]["role"], "ops");
    gw.admin(Method::DELETE, &format!("/api/v1/groups/{ops}/users/{gid}")).send().await.unwrap();
    assert_eq!(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{gid}")).send().await.unwrap().status(), 404);
    // A person assigned directly and through a group keeps the app when the direct assignment goes.
    gw.admin(Method::PUT, &format!("/api/v1/apps/{aid}/groups/{eng}")).json(&json!({})).send().await.unwrap();
    gw.admin(Method::PUT, &format!("/api/v1/groups/{eng}/users/{uid}")).send().await.unwrap();
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/apps/{aid}/users/{uid}")).send().await.unwrap().status(), 204);
    let (_, kept) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{uid}"))).await;
    assert_eq!(kept["scope"], "GROUP");
    // Deleting the group takes the app away from its members.
    gw.admin(Method::DELETE, &format!("/api/v1/groups/{eng}")).send().await.unwrap();
    assert_eq!(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users/{uid}")).send().await.unwrap().status(), 404);
    let (_, users) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{aid}/users"))).await;
    assert!(users.as_array().unwrap().is_empty(), "{users}");
    gw.stop().await;
}

async fn every_write_invalidates_the_launch_path(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let (_, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "bookmark", "label": "Intranet", "signOnMode": "BOOKMARK", "settings": {"app": {"url": "https://intranet.example/home"}}}))).await;
    let aid = app["id"].as_str().unwrap().to_owned();
    let user = gw.create_user("lin@example.com", "Lin", "Wu").await;
    let uid = user["id"].as_str().unwrap().to_owned();
    let cookie = session(&gw, "lin@example.com").await;
    let launch_path = format!("/home/bookmark/{aid}/launch");
    let launch = |gw: &TestGateway| gw.http.get(gw.url(&launch_path)).header("cookie", &cookie).send();
    let links = |gw: &TestGateway| gw.http.get(gw.url("/api/v1/users/me/appLinks")).header("cookie", &cookie).send();

    // Warm the caches with "not assigned".
    assert_eq!(launch(&gw).await.unwrap().status(), 404);
    assert!(links(&gw).await.unwrap().json::<Value>().await.unwrap().as_array().unwrap().is_empty());

    gw.admin(Method::POST, &format!("/api/v1/apps/{aid}/users")).json(&json!({"id": uid})).send().await.unwrap();
    let response = launch(&gw).await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "https://intranet.example/home");
    let got: Value = links(&gw).await.unwrap().json().await.unwrap();
    assert_eq!(got[0]["label"], "Intranet");
    assert_eq!(got[0]["linkUrl"], gw.url(&launch_path));
    assert_eq!(got[0]["appInstanceId"], aid);
    let home = gw.http.get(gw.url("/app/UserHome")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(&launch_path) && home.contains("Intranet"));

    // Deactivating the app removes it at once; activating brings it back.
    gw.admin(Method::POST, &format!("/api/v1/apps/{aid}/lifecycle/deactivate")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 404);
    assert!(links(&gw).await.unwrap().json::<Value>().await.unwrap().as_array().unwrap().is_empty());
    gw.admin(Method::POST, &format!("/api/v1/apps/{aid}/lifecycle/activate")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 303);

    // Unassigning removes it at once.
    gw.admin(Method::DELETE, &format!("/api/v1/apps/{aid}/users/{uid}")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 404);
    let home = gw.http.get(gw.url("/app/UserHome")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains(&launch_path));

    // Through a group: joining grants, leaving revokes, at once.
    let (_, group) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Staff"}}))).await;
    let group_id = group["id"].as_str().unwrap();
    gw.admin(Method::PUT, &format!("/api/v1/apps/{aid}/groups/{group_id}")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 404);
    gw.admin(Method::PUT, &format!("/api/v1/groups/{group_id}/users/{uid}")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 303);
    gw.admin(Method::DELETE, &format!("/api/v1/groups/{group_id}/users/{uid}")).send().await.unwrap();
    assert_eq!(launch(&gw).await.unwrap().status(), 404);

    // Hidden apps launch but have no tile.
    gw.admin(Method::PUT, &format!("/api/v1/groups/{group_id}/users/{uid}")).send().await.unwrap();
    let mut hidden = app.clone();
    hidden["visibility"]["hide"]["web"] = json!(true);
    gw.admin(Method::PUT, &format!("/api/v1/apps/{aid}")).json(&hidden).send().await.unwrap();
    let got: Value = links(&gw).await.unwrap().json().await.unwrap();
    assert_eq!(got[0]["hidden"], true);
    let home = gw.http.get(gw.url("/app/UserHome")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains(&launch_path));

    // Launches are counted and logged; misses and hits are in /metrics.
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"vestibule_launches_total{protocol="bookmark"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"vestibule_cache_requests_total{cache="assignments",result="hit"}"#));
    let (_, sso) = json_of(gw.admin(Method::GET, "/api/v1/logs?filter=eventType%20eq%20%22user.authentication.sso%22")).await;
    assert_eq!(sso.as_array().unwrap().len(), 3);
    gw.stop().await;
}
