//! Master-key rotation: gateways keep serving with the new key and the
//! previous one, `Store::rewrap_sealed` (what `vestibule keys rotate-master`
//! runs) moves every sealed record to the new key, resumes after an
//! interruption, and afterwards the previous key is no longer needed — nor
//! accepted on its own.

use std::sync::Arc;

use gateway::config::{Config, MapSource};
use gateway::crypto::{MasterKey, Vault};
use gateway::store::{RekeyCount, RekeyOptions};
use reqwest::Method;
use serde_json::{json, Value};
use vestibule_core::{FixedClock, Secret};
use tests::{json_of, on_both_backends, session, start_instant, Backend, TestGateway};

on_both_backends!(rotation_keeps_every_secret_readable);

const ACS: &str = "https://sp.example/acs";

async fn create_app(gw: &TestGateway, body: Value) -> Value {
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&body)).await;
    assert_eq!(status, 200, "{app}");
    app
}

async fn assign(gw: &TestGateway, app: &Value, user_id: &str) {
    let path = format!("/api/v1/apps/{}/users", app["id"].as_str().unwrap());
    let (status, body) = json_of(gw.admin(Method::POST, &path).json(&json!({"id": user_id, "scope": "USER"}))).await;
    assert_eq!(status, 200, "{body}");
}

fn launch_path(app: &Value) -> String {
    format!("/home/{}/{}/launch", app["name"].as_str().unwrap(), app["id"].as_str().unwrap())
}

/// A SAML launch (the app's signing key opened) and an SWA launch (the
/// stored password opened) both work for Ada.
async fn launches_work(gw: &TestGateway, saml: &Value, swa: &Value) {
    let cookie = session(gw, "ada@example.com").await;
    let page = gw.http.get(gw.url(&launch_path(saml))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("name=\"SAMLResponse\""), "{body}");
    let page = gw.http.get(gw.url(&launch_path(swa))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("value=\"Wiki-Pass-7\""), "the stored password is posted: {body}");
}

fn total(counts: &[RekeyCount], field: fn(&RekeyCount) -> u64) -> u64 {
    counts.iter().map(field).sum()
}

/// What `gateway::prepare` says about these keys on this store.
async fn prepare_with(gw: &TestGateway, keys: &[(&str, &str)]) -> Result<(), String> {
    let mut source = MapSource::default()
        .set("VESTIBULE_TLS", "off")
        .set("VESTIBULE_DATA_DIR", gw.storage.data_dir.display().to_string())
        .set("VESTIBULE_DATABASE_URL", gw.storage.database_url.clone());
    for (k, v) in keys {
        source = source.set(k, v.to_string());
    }
    let config = Config::from_source(&source).map_err(|e| e.to_string())?;
    match gateway::prepare(config, Arc::new(FixedClock::new(start_instant()))).await {
        Ok(state) => {
            state.store.close().await;
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn rotation_keeps_every_secret_readable(backend: Backend) {
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let (old64, new64) = (old.to_base64(), new.to_base64());
    let gw = TestGateway::start_with(backend, &[("VESTIBULE_MASTER_KEY", &old64)]).await;
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    let ada_id = ada["id"].as_str().unwrap().to_owned();
    let saml = create_app(&gw, json!({
        "label": "Expenses", "signOnMode": "SAML_2_0",
        "settings": {"signOn": {"ssoAcsUrl": ACS, "audience": "https://sp.example", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}},
    }))
    .await;
    let swa = create_app(&gw, json!({
        "label": "Wiki", "signOnMode": "AUTO_LOGIN",
        "settings": {"signOn": {"loginUrl": "https://wiki.example/login"}},
        "credentials": {"scheme": "ADMIN_SETS_CREDENTIALS"},
    }))
    .await;
    let shared = create_app(&gw, json!({
        "label": "Team board", "signOnMode": "AUTO_LOGIN",
        "settings": {"signOn": {"loginUrl": "https://board.example/login"}},
        "credentials": {"scheme": "SHARED_USERNAME_AND_PASSWORD", "userName": "team@example.com", "password": {"value": "Board-Pass-2"}},
    }))
    .await;
    for app in [&saml, &swa, &shared] {
        assign(&gw, app, &ada_id).await;
    }
    let state = gw.state();
    let record = state.store.app(swa["id"].as_str().unwrap()).await.unwrap().unwrap();
    gateway::swa::set_credentials(state, &record, &ada_id, Some("ada.wiki"), Some(&Secret::new(String::from("Wiki-Pass-7")))).await.unwrap();
    launches_work(&gw, &saml, &swa).await;

    // Nothing needs moving while only the old key is in use.
    let before = state.store.rewrap_sealed(&state.vault, RekeyOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert_eq!(total(&before, |c| c.rewrapped), 0, "{before:?}");
    let sealed_records = total(&before, |c| c.current);
    // The master-key check, the SAML app's key, the default servers' keys, two SWA passwords.
    assert!(sealed_records >= 5, "{before:?}");

    // Nodes restart with the new key and the previous one: everything still opens.
    let mut gw = gw;
    gw.extra = vec![("VESTIBULE_MASTER_KEY".into(), new64.clone()), ("VESTIBULE_MASTER_KEY_PREVIOUS".into(), old64.clone())];
    let gw = gw.restart().await;
    launches_work(&gw, &saml, &swa).await;
    let state = gw.state();

    // A dry run counts without writing.
    let dry = state.store.rewrap_sealed(&state.vault, RekeyOptions { dry_run: true, batch: 2, max_batches: None }).await.unwrap();
    assert_eq!(total(&dry, |c| c.rewrapped), sealed_records, "{dry:?}");
    let again = state.store.rewrap_sealed(&state.vault, RekeyOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert_eq!(total(&again, |c| c.rewrapped), sealed_records, "a dry run wrote nothing: {again:?}");

    // Interrupted after two small batches, then run to the end.
    let first = state.store.rewrap_sealed(&state.vault, RekeyOptions { dry_run: false, batch: 2, max_batches: Some(2) }).await.unwrap();
    let moved = total(&first, |c| c.rewrapped);
    assert!(moved >= 1 && moved < sealed_records, "{first:?}");
    let rest = state.store.rewrap_sealed(&state.vault, RekeyOptions { dry_run: false, batch: 2, max_batches: None }).await.unwrap();
    assert_eq!(total(&rest, |c| c.rewrapped), sealed_records - moved, "{rest:?}");
    assert_eq!(total(&rest, |c| c.current), moved);
    assert_eq!((total(&rest, |c| c.unreadable), total(&rest, |c| c.raced)), (0, 0));

    // The new key alone now opens everything; the old key alone opens nothing.
    let only_new = state.store.rewrap_sealed(&Vault::new(new.clone()), RekeyOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert_eq!((total(&only_new, |c| c.current), total(&only_new, |c| c.unreadable)), (sealed_records, 0), "{only_new:?}");
    let only_old = state.store.rewrap_sealed(&Vault::new(old.clone()), RekeyOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert_eq!(total(&only_old, |c| c.unreadable), sealed_records, "{only_old:?}");

    // Restart without the previous key: launches work, new secrets are sealed by the new key.
    let mut gw = gw;
    gw.extra = vec![("VESTIBULE_MASTER_KEY".into(), new64.clone())];
    let gw = gw.restart().await;
    launches_work(&gw, &saml, &swa).await;

    // The old key alone is refused at start, naming the setting; so is a
    // previous key equal to the master key, and a stranger's key pair.
    let refused = prepare_with(&gw, &[("VESTIBULE_MASTER_KEY", &old64)]).await.unwrap_err();
    assert!(refused.contains("VESTIBULE_MASTER_KEY") && refused.contains("neither key"), "{refused}");
    let same = prepare_with(&gw, &[("VESTIBULE_MASTER_KEY", &new64), ("VESTIBULE_MASTER_KEY_PREVIOUS", &new64)]).await.unwrap_err();
    assert!(same.contains("VESTIBULE_MASTER_KEY_PREVIOUS"), "{same}");
    let stranger = MasterKey::generate().to_base64();
    let strangers = prepare_with(&gw, &[("VESTIBULE_MASTER_KEY", &stranger), ("VESTIBULE_MASTER_KEY_PREVIOUS", &old64)]).await.unwrap_err();
    assert!(strangers.contains("VESTIBULE_MASTER_KEY_PREVIOUS") && strangers.contains("neither key"), "{strangers}");
    assert!(prepare_with(&gw, &[("VESTIBULE_MASTER_KEY", &new64)]).await.is_ok());
    gw.stop().await;
}
