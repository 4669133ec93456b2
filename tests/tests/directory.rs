//! /api/v1/users and /api/v1/groups against a running gateway, on SQLite and
//! PostgreSQL: Okta's shapes, search and pagination, lifecycle, roles, and
//! bad input that changes nothing.

use reqwest::Method;
use serde_json::{json, Value};
use tests::{link, Backend, TestGateway, GOOD_PASSWORD};

use tests::on_both_backends;

on_both_backends!(users_are_created_found_and_listed, user_lifecycle_follows_okta, groups_and_members, bad_input_changes_nothing, roles_are_enforced);

async fn count_users(gw: &TestGateway) -> usize {
    let all: Vec<Value> = gw.admin(Method::GET, "/api/v1/users?filter=status%20ne%20%22x%22&limit=200").send().await.unwrap().json().await.unwrap();
    all.len()
}

async fn users_are_created_found_and_listed(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    assert_eq!(ada["status"], "ACTIVE");
    assert!(ada["id"].as_str().unwrap().starts_with("00u"));
    assert_eq!(ada["profile"]["firstName"], "Ada");
    assert_eq!(ada["credentials"]["provider"]["type"], "OKTA");
    assert!(ada["credentials"]["password"].is_object());
    assert_eq!(ada["_links"]["self"]["href"], gw.url(&format!("/api/v1/users/{}", ada["id"].as_str().unwrap())));

    // Without credentials, activation leaves the person PROVISIONED; without activation, STAGED.
    let provisioned: Value = gw
        .admin(Method::POST, "/api/v1/users?activate=true")
        .json(&json!({"profile": {"login": "pat@example.com", "email": "pat@example.com", "firstName": "Pat", "lastName": "Doe", "department": "Sales"}}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(provisioned["status"], "PROVISIONED");
    assert!(provisioned["credentials"].get("password").is_none());
    let staged: Value = gw
        .admin(Method::POST, "/api/v1/users?activate=false")
        .json(&json!({"profile": {"login": "sam@example.com", "email": "sam@example.com", "firstName": "Sam", "lastName": "Smith", "department": "Sales"}}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(staged["status"], "STAGED");

    // By id, by login, and as "me".
    let id = ada["id"].as_str().unwrap();
    for key in [id, "ada@example.com", "ADA@example.com"] {
        let found: Value = gw.admin(Method::GET, &format!("/api/v1/users/{key}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(found["id"], id, "lookup by {key}");
    }
    let me: Value = gw.admin(Method::GET, "/api/v1/users/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["profile"]["login"], tests::ADMIN_LOGIN);

    // q is a prefix match on names, login and email.
    let q: Vec<Value> = gw.admin(Method::GET, "/api/v1/users?q=lov").send().await.unwrap().json().await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["id"], id);
    // filter on status; search on any profile attribute.
    let staged_list: Vec<Value> = gw.admin(Method::GET, "/api/v1/users?filter=status%20eq%20%22STAGED%22").send().await.unwrap().json().await.unwrap();
    assert_eq!(staged_list.iter().map(|u| u["profile"]["login"].as_str().unwrap()).collect::<Vec<_>>(), vec!["sam@example.com"]);
    let sales: Vec<Value> = gw
        .admin(Method::GET, "/api/v1/users")
        .query(&[("search", "profile.department eq \"sales\" and status eq \"PROVISIONED\"")])
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0]["profile"]["login"], "pat@example.com");
    let sw: Vec<Value> = gw.admin(Method::GET, "/api/v1/users").query(&[("search", "profile.lastName sw \"s\"")]).send().await.unwrap().json().await.unwrap();
    assert_eq!(sw.len(), 1);

    // Pagination: limit and Link rel="next", followed to the end, sees each user once.
    for i in 0..5 {
        gw.create_user(&format!("page{i}@example.com"), "Page", &format!("Person{i}")).await;
    }
    let mut seen = Vec::new();
    let mut next = Some(gw.url("/api/v1/users?limit=2"));
    let mut pages = 0;
    while let Some(url) = next {
        let response = gw.http.get(&url).header("authorization", format!("SSWS {}", tests::API_TOKEN)).send().await.unwrap();
        assert!(link(response.headers(), "self").is_some());
        next = link(response.headers(), "next");
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        pages += 1;
        assert!(pages < 20, "pagination does not end");
    }
    let total = count_users(&gw).await;
    assert_eq!(seen.len(), total);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a user appeared on two pages");

    // Partial update keeps other attributes; PUT replaces the profile.
    let updated: Value = gw
        .admin(Method::POST, &format!("/api/v1/users/{id}"))
        .json(&json!({"profile": {"title": "Analyst"}}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(updated["profile"]["title"], "Analyst");
    assert_eq!(updated["profile"]["firstName"], "Ada");
    let replaced: Value = gw
        .admin(Method::PUT, &format!("/api/v1/users/{id}"))
        .json(&json!({"profile": {"login": "ada@example.com", "email": "ada@example.com", "firstName": "Augusta", "lastName": "King"}}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(replaced["profile"]["firstName"], "Augusta");
    assert!(replaced["profile"].get("title").is_none());
    gw.stop().await;
}

async fn user_lifecycle_follows_okta(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let user = gw.create_user("lin@example.com", "Lin", "Wu").await;
    let id = user["id"].as_str().unwrap();
    let op = |name: &str| gw.admin(Method::POST, &format!("/api/v1/users/{id}/lifecycle/{name}?sendEmail=false")).send();
    let status = |gw: &TestGateway| {
        let request = gw.admin(Method::GET, &format!("/api/v1/users/{id}"));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["status"].as_str().unwrap().to_owned() }
    };

    assert_eq!(op("suspend").await.unwrap().status(), 200);
    assert_eq!(status(&gw).await, "SUSPENDED");
    let again = op("suspend").await.unwrap();
    assert_eq!(again.status(), 403);
    assert_eq!(again.json::<Value>().await.unwrap()["errorCode"], "E0000038");
    assert_eq!(op("unsuspend").await.unwrap().status(), 200);
    assert_eq!(status(&gw).await, "ACTIVE");
    let active_again = op("activate").await.unwrap();
    assert_eq!(active_again.status(), 403);
    assert_eq!(active_again.json::<Value>().await.unwrap()["errorCode"], "E0000016");

    // Reset: RECOVERY, and a one-time link that sets a new password.
    let reset: Value = op("reset_password").await.unwrap().json().await.unwrap();
    let reset_url = reset["resetPasswordUrl"].as_str().unwrap();
    assert!(reset_url.starts_with(&gw.url("/signin/reset-password/")));
    assert_eq!(status(&gw).await, "RECOVERY");
    let unsent = gw.admin(Method::POST, &format!("/api/v1/users/{id}/lifecycle/reset_password")).send().await.unwrap();
    assert_eq!(unsent.status(), 400, "sendEmail=true needs email delivery, which is not configured");

    // Deactivate, then delete twice: the first DELETE of an active user deactivates.
    assert_eq!(op("deactivate").await.unwrap().status(), 200);
    assert_eq!(status(&gw).await, "DEPROVISIONED");
    let listed: Vec<Value> = gw.admin(Method::GET, "/api/v1/users").send().await.unwrap().json().await.unwrap();
    assert!(listed.iter().all(|u| u["id"] != id), "plain listings leave out deactivated people");
    // A person with a password is active again at once.
    assert_eq!(op("activate").await.unwrap().json::<Value>().await.unwrap(), json!({}));
    assert_eq!(status(&gw).await, "ACTIVE");
    // Activating a person without a password gives a one-time activation link.
    let staged: Value = gw
        .admin(Method::POST, "/api/v1/users?activate=false")
        .json(&json!({"profile": {"login": "new@example.com", "email": "new@example.com", "firstName": "New", "lastName": "Hire"}}))
        .send().await.unwrap().json().await.unwrap();
    let staged_id = staged["id"].as_str().unwrap();
    let activation: Value = gw
        .admin(Method::POST, &format!("/api/v1/users/{staged_id}/lifecycle/activate?sendEmail=false"))
        .send().await.unwrap().json().await.unwrap();
    assert!(activation["activationUrl"].as_str().unwrap().starts_with(&gw.url("/welcome/")));
    assert!(activation["activationToken"].is_string());

    let other = gw.create_user("del@example.com", "Del", "Ete").await;
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/users/{other_id}")).send().await.unwrap().status(), 204);
    let after_first: Value = gw.admin(Method::GET, &format!("/api/v1/users/{other_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(after_first["status"], "DEPROVISIONED");
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/users/{other_id}")).send().await.unwrap().status(), 204);
    let gone = gw.admin(Method::GET, &format!("/api/v1/users/{other_id}")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.json::<Value>().await.unwrap()["errorCode"], "E0000007");
    gw.stop().await;
}

async fn groups_and_members(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let group: Value = gw
        .admin(Method::POST, "/api/v1/groups")
        .json(&json!({"profile": {"name": "Engineering", "description": "Builders"}}))
        .send().await.unwrap().json().await.unwrap();
    let gid = group["id"].as_str().unwrap();
    assert!(gid.starts_with("00g"));
    assert_eq!(group["type"], "OKTA_GROUP");
    assert_eq!(group["objectClass"], json!(["okta:user_group"]));
    let duplicate = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "engineering"}})).send().await.unwrap();
    assert_eq!(duplicate.status(), 400);
    assert_eq!(duplicate.json::<Value>().await.unwrap()["errorCauses"][0]["errorSummary"].as_str().unwrap().split(':').next(), Some("name"));

    let user = gw.create_user("grace@example.com", "Grace", "Hopper").await;
    let uid = user["id"].as_str().unwrap();
    assert_eq!(gw.admin(Method::PUT, &format!("/api/v1/groups/{gid}/users/{uid}")).send().await.unwrap().status(), 204);
    assert_eq!(gw.admin(Method::PUT, &format!("/api/v1/groups/{gid}/users/{uid}")).send().await.unwrap().status(), 204, "adding twice is harmless");
    let members: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/groups/{gid}/users")).send().await.unwrap().json().await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["id"], uid);
    let groups: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/users/{uid}/groups")).send().await.unwrap().json().await.unwrap();
    assert_eq!(groups[0]["id"], gid);
    let found: Vec<Value> = gw.admin(Method::GET, "/api/v1/groups?q=eng").send().await.unwrap().json().await.unwrap();
    assert_eq!(found.len(), 1);
    let none: Vec<Value> = gw.admin(Method::GET, "/api/v1/groups?q=zzz").send().await.unwrap().json().await.unwrap();
    assert!(none.is_empty());

    // A group created with the user: groupIds on create.
    let second: Value = gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Sales"}})).send().await.unwrap().json().await.unwrap();
    let sid = second["id"].as_str().unwrap();
    let with_groups: Value = gw
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"profile": {"login": "kim@example.com", "email": "kim@example.com", "firstName": "Kim", "lastName": "Lee"}, "groupIds": [sid]}))
        .send().await.unwrap().json().await.unwrap();
    let kim_groups: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/users/{}/groups", with_groups["id"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
    assert_eq!(kim_groups[0]["profile"]["name"], "Sales");

    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/groups/{gid}/users/{uid}")).send().await.unwrap().status(), 204);
    let members: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/groups/{gid}/users")).send().await.unwrap().json().await.unwrap();
    assert!(members.is_empty());
    let renamed: Value = gw.admin(Method::PUT, &format!("/api/v1/groups/{gid}")).json(&json!({"profile": {"name": "Platform"}})).send().await.unwrap().json().await.unwrap();
    assert_eq!(renamed["profile"]["name"], "Platform");
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/groups/{gid}")).send().await.unwrap().status(), 204);
    assert_eq!(gw.admin(Method::GET, &format!("/api/v1/groups/{gid}")).send().await.unwrap().status(), 404);
    gw.stop().await;
}

async fn bad_input_changes_nothing(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let before = count_users(&gw).await;
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str, Option<&str>)> = vec![
        ("malformed JSON", gw.admin(Method::POST, "/api/v1/users").header("content-type", "application/json").body("{\"profile\": {"), 400, "E0000003", Some("body")),
        ("empty body", gw.admin(Method::POST, "/api/v1/users").header("content-type", "application/json").body(""), 400, "E0000003", Some("body")),
        ("wrong type", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profile": "ada"})), 400, "E0000003", Some("profile")),
        ("unknown field", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profiles": {}})), 400, "E0000003", Some("profiles")),
        ("missing fields", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profile": {"login": "x@example.com"}})), 400, "E0000001", Some("email")),
        ("login not an email", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profile": {"login": "bob", "email": "bob@example.com", "firstName": "B", "lastName": "C"}})), 400, "E0000001", Some("login")),
        ("weak password", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profile": {"login": "w@example.com", "email": "w@example.com", "firstName": "W", "lastName": "X"}, "credentials": {"password": {"value": "password"}}})), 400, "E0000001", Some("password")),
        ("bad attribute name", gw.admin(Method::POST, "/api/v1/users").json(&json!({"profile": {"login": "a@example.com", "email": "a@example.com", "firstName": "A", "lastName": "B", "x'; drop": "1"}})), 400, "E0000001", Some("x'; drop")),
        ("unsupported content type", gw.admin(Method::POST, "/api/v1/users").header("content-type", "text/plain").body("{}"), 415, "E0000021", None),
        ("oversized body", gw.admin(Method::POST, "/api/v1/users").header("content-type", "application/json").body(vec![b' '; 2 * 1024 * 1024]), 413, "E0000003", Some("1048576-byte limit")),
        ("no credentials", gw.http.post(gw.url("/api/v1/users")).json(&json!({})), 403, "E0000005", None),
        ("bad token", gw.with_token("00nottherighttoken0000000000000", Method::POST, "/api/v1/users").json(&json!({})), 401, "E0000011", None),
        ("SSWS without a token", gw.http.post(gw.url("/api/v1/users")).header("authorization", "SSWS").json(&json!({})), 401, "E0000011", None),
        ("wrong scheme", gw.http.post(gw.url("/api/v1/users")).header("authorization", format!("Bearer {}", tests::API_TOKEN)).json(&json!({})), 401, "E0000011", None),
        ("bad filter", gw.admin(Method::GET, "/api/v1/users?filter=status%20like%20%22x%22"), 400, "E0000030", Some("filter")),
        ("bad search attribute", gw.admin(Method::GET, "/api/v1/users?search=credentials.password%20eq%20%22x%22"), 400, "E0000031", Some("search")),
        ("bad limit", gw.admin(Method::GET, "/api/v1/users?limit=many"), 400, "E0000001", Some("limit")),
        ("unknown user", gw.admin(Method::GET, "/api/v1/users/00unotarealuser00000"), 404, "E0000007", None),
        ("unknown lifecycle", gw.admin(Method::POST, "/api/v1/users/me/lifecycle/explode"), 404, "E0000007", None),
        ("method not allowed", gw.admin(Method::PATCH, "/api/v1/users"), 405, "E0000022", None),
        ("bad log timestamp", gw.admin(Method::GET, "/api/v1/logs?since=yesterday"), 400, "E0000001", Some("since")),
    ];
    for (what, request, status, code, cause) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{what}: error body is JSON: {e}"));
        assert_eq!(body["errorCode"], code, "{what}: {body}");
        assert_eq!(body["errorLink"], code, "{what}");
        assert!(body["errorId"].as_str().unwrap().starts_with("oae"), "{what}");
        assert!(body["errorSummary"].is_string(), "{what}");
        if let Some(cause) = cause {
            let causes = body["errorCauses"].to_string();
            assert!(causes.contains(cause), "{what}: causes {causes} should name {cause}");
        }
    }
    assert_eq!(count_users(&gw).await, before, "bad input created or removed users");
    // Okta's Python SDK sends the token with no space after SSWS; Okta accepts that.
    let squeezed = gw.http.get(gw.url("/api/v1/users")).header("authorization", format!("SSWS{}", tests::API_TOKEN)).send().await.unwrap();
    assert_eq!(squeezed.status(), 200);
    gw.stop().await;
}

async fn roles_are_enforced(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let read_only = gw.admin_token_for_role("reader@example.com", "READ_ONLY_ADMIN").await;
    let app_admin = gw.admin_token_for_role("apps@example.com", "APP_ADMIN").await;
    let org_admin = gw.admin_token_for_role("org@example.com", "ORG_ADMIN").await;
    let before = count_users(&gw).await;
    let new_user = json!({"profile": {"login": "n@example.com", "email": "n@example.com", "firstName": "N", "lastName": "M"}});

    // Reading is open to every admin role.
    for token in [&read_only, &app_admin, &org_admin] {
        assert_eq!(gw.with_token(token, Method::GET, "/api/v1/users").send().await.unwrap().status(), 200);
        assert_eq!(gw.with_token(token, Method::GET, "/api/v1/logs").send().await.unwrap().status(), 200);
    }
    // Writing users and groups needs ORG_ADMIN or SUPER_ADMIN.
    for token in [&read_only, &app_admin] {
        let denied = gw.with_token(token, Method::POST, "/api/v1/users").json(&new_user).send().await.unwrap();
        assert_eq!(denied.status(), 403);
        assert_eq!(denied.json::<Value>().await.unwrap()["errorCode"], "E0000006");
        let denied = gw.with_token(token, Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "X"}})).send().await.unwrap();
        assert_eq!(denied.status(), 403);
    }
    assert_eq!(count_users(&gw).await, before);
    assert_eq!(gw.with_token(&org_admin, Method::POST, "/api/v1/users").json(&new_user).send().await.unwrap().status(), 200);
    // Granting roles needs SUPER_ADMIN.
    let me: Value = gw.with_token(&org_admin, Method::GET, "/api/v1/users/me").send().await.unwrap().json().await.unwrap();
    let escalate = gw
        .with_token(&org_admin, Method::POST, &format!("/api/v1/users/{}/roles", me["id"].as_str().unwrap()))
        .json(&json!({"type": "SUPER_ADMIN"}))
        .send().await.unwrap();
    assert_eq!(escalate.status(), 403);
    // Revoking a role takes effect at once, through the cache.
    let reader: Value = gw.admin(Method::GET, "/api/v1/users/reader@example.com").send().await.unwrap().json().await.unwrap();
    let rid = reader["id"].as_str().unwrap();
    let roles: Vec<Value> = gw.admin(Method::GET, &format!("/api/v1/users/{rid}/roles")).send().await.unwrap().json().await.unwrap();
    assert_eq!(roles[0]["type"], "READ_ONLY_ADMIN");
    let revoked = gw.admin(Method::DELETE, &format!("/api/v1/users/{rid}/roles/{}", roles[0]["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(gw.with_token(&read_only, Method::GET, "/api/v1/users").send().await.unwrap().status(), 403);
    // A deactivated admin's token stops working at once.
    let apps: Value = gw.admin(Method::GET, "/api/v1/users/apps@example.com").send().await.unwrap().json().await.unwrap();
    gw.admin(Method::POST, &format!("/api/v1/users/{}/lifecycle/deactivate", apps["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(gw.with_token(&app_admin, Method::GET, "/api/v1/users").send().await.unwrap().status(), 401);
    // Revoked tokens stop working at once.
    let tokens: Vec<Value> = gw.admin(Method::GET, "/api/v1/api-tokens").send().await.unwrap().json().await.unwrap();
    let org_token = tokens.iter().find(|t| t["name"] == "test" && t["userId"] == me["id"]).unwrap();
    assert!(org_token.get("token").is_none(), "token values are never listed");
    assert_eq!(gw.admin(Method::DELETE, &format!("/api/v1/api-tokens/{}", org_token["id"].as_str().unwrap())).send().await.unwrap().status(), 204);
    assert_eq!(gw.with_token(&org_admin, Method::GET, "/api/v1/users").send().await.unwrap().status(), 401);
    let _ = GOOD_PASSWORD;
    gw.stop().await;
}
