//! The authorization servers this gateway runs, with their key rings, held
//! as one immutable snapshot behind an atomic pointer: requests read it
//! without a lock, and a change (a new server, a key rotation) builds a new
//! snapshot from the store and swaps it in.
//!
//! The org server (`org`) and the custom server `default` are created on
//! first use of a store that lacks them; their keys are generated then and
//! kept sealed by the vault (`oauth_keys/{kid}`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use oidc::{AuthorizationServer, KeyRing, KeySlots, SigningAlg, SigningKey};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use vestibule_core::Secret;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::oauth::{OAuthKeyRecord, OAuthServerRecord};

/// The id under which the org authorization server is stored.
pub const ORG: &str = "org";
/// The custom authorization server every org has.
pub const DEFAULT: &str = "default";

/// The algorithms every server signs with: RS256 (required by OIDC Core
/// §15.1 and the default), ES256 and EdDSA for clients that ask.
const ALGS: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

/// How long a new key is published before it may sign: relying parties
/// are told to cache the JWKS for at most this long.
pub const ROTATION_OVERLAP: time::Duration = time::Duration::hours(24);

/// One authorization server, ready to answer.
pub struct LoadedServer {
    pub record: OAuthServerRecord,
    pub server: AuthorizationServer,
    pub keys: KeyRing,
}

/// Every server, by id.
#[derive(Default)]
pub struct Snapshot {
    pub servers: HashMap<String, Arc<LoadedServer>>,
}

pub struct Runtime {
    snapshot: ArcSwap<Snapshot>,
    loaded: tokio::sync::OnceCell<()>,
    reload: tokio::sync::Mutex<()>,
    /// When (unix seconds, by the gateway's clock) the snapshot was last
    /// re-read from a shared store, and expired state last removed.
    last_reload: AtomicI64,
    last_cleanup: AtomicI64,
}

/// With PostgreSQL, other nodes may change servers and rotate keys; each
/// node re-reads them this often (the same bound as its other caches).
const SHARED_STORE_RELOAD_SECONDS: i64 = 30;
/// How often expired codes, revocations, jtis and transactions are removed.
const CLEANUP_SECONDS: i64 = 600;

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// An empty runtime; `AppState` holds one per gateway, loaded on first use.
    pub fn new() -> Self {
        Self {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            loaded: tokio::sync::OnceCell::new(),
            reload: tokio::sync::Mutex::new(()),
            last_reload: AtomicI64::new(i64::MIN),
            last_cleanup: AtomicI64::new(i64::MIN),
        }
    }

    /// Claims a periodic job: true for exactly one caller once `every`
    /// seconds have passed since the last claim.
    fn due(slot: &AtomicI64, now: i64, every: i64) -> bool {
        let last = slot.load(Ordering::Relaxed);
        (last == i64::MIN || now - last >= every) && slot.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    pub fn server(&self, id: &str) -> Option<Arc<LoadedServer>> {
        self.snapshot.load().servers.get(id).cloned()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Rebuilds the snapshot from the store and swaps it in.
    pub async fn reload(&self, state: &AppState) -> ApiResult<()> {
        let _one_at_a_time = self.reload.lock().await;
        let records = state.store.oauth_servers().await?;
        let mut servers = HashMap::new();
        for record in records {
            let keys = state.store.oauth_keys(&record.id).await?;
            // Custom servers answer by their access policies; the org server has none.
            let policies = if record.id == ORG {
                None
            } else {
                let rules = state.store.oauth_policy_rules(&record.id).await?;
                Some(super::policies::access_policies(&state.store.oauth_policies(&record.id).await?, &rules))
            };
            let loaded = load_server(state, record, keys, policies).await?;
            servers.insert(loaded.record.id.clone(), Arc::new(loaded));
        }
        self.snapshot.store(Arc::new(Snapshot { servers }));
        Ok(())
    }
}

/// This gateway's runtime, loaded (and the org and default servers
/// created) on first use.
pub async fn runtime(state: &AppState) -> ApiResult<Arc<Runtime>> {
    let rt = state.oauth.clone();
    rt.loaded
        .get_or_try_init(|| async {
            ensure_builtin_servers(state).await?;
            rt.reload(state).await?;
            rt.last_reload.store(state.now().unix_timestamp(), Ordering::Relaxed);
            Ok::<(), ApiError>(())
        })
        .await?;
    maintain(state, &rt);
    Ok(rt)
}

/// Periodic work, started by requests rather than a timer and run off
/// their path: re-reading servers and keys from a shared store, and
/// removing expired state.
fn maintain(state: &AppState, rt: &Arc<Runtime>) {
    let now = state.now().unix_timestamp();
    let shared = state.store.backend() == crate::store::Backend::Postgres;
    let reload = shared && Runtime::due(&rt.last_reload, now, SHARED_STORE_RELOAD_SECONDS);
    let cleanup = Runtime::due(&rt.last_cleanup, now, CLEANUP_SECONDS);
    if !reload && !cleanup {
        return;
    }
    let (state, rt) = (state.clone(), rt.clone());
    tokio::spawn(async move {
        if reload {
            if let Err(e) = rt.reload(&state).await {
                tracing::warn!(error = ?e, "could not re-read the authorization servers");
            }
        }
        if cleanup {
            if let Err(e) = state.store.delete_expired_oauth_state(state.now()).await {
                tracing::warn!(error = %e, "could not remove expired OAuth state");
            }
        }
    });
}

async fn ensure_builtin_servers(state: &AppState) -> ApiResult<()> {
    let existing: Vec<String> = state.store.oauth_servers().await?.into_iter().map(|s| s.id).collect();
    if !existing.iter().any(|id| id == ORG) {
        create_server(state, ORG, "Org Authorization Server", "The org authorization server", vec![], Map::new()).await?;
    }
    if !existing.iter().any(|id| id == DEFAULT) {
        let settings = json!({ "scopes": [], "claims": [] }).as_object().cloned().unwrap_or_default();
        create_server(state, DEFAULT, "default", "Default Authorization Server for your Applications", vec!["api://default".into()], settings)
            .await?;
        // Okta's default server comes with its Default Policy (every client,
        // every grant, everyone, any scope). Its fixed id makes a second
        // node's insert a no-op; a server older than the policies got it
        // from migration 7. Other custom servers start without a policy.
        let (policy, rule) = super::policies::default_policy_records(DEFAULT, state.now());
        state.store.insert_oauth_policy(&policy, &[rule]).await?;
    }
    Ok(())
}

/// Creates a server with fresh keys. Another node creating the same one at
/// the same moment is not an error: the first insert wins.
pub async fn create_server(
    state: &AppState,
    id: &str,
    name: &str,
    description: &str,
    audiences: Vec<String>,
    settings: Map<String, Value>,
) -> ApiResult<OAuthServerRecord> {
    let now = state.now();
    let record = OAuthServerRecord {
        id: id.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        audiences,
        status: "ACTIVE".into(),
        settings,
        created: now,
        last_updated: now,
    };
    let mut keys = Vec::new();
    for alg in ALGS {
        for slot in ["current", "next"] {
            keys.push(new_key(state, id, alg, slot, now).await?);
        }
    }
    state.store.insert_oauth_server(&record, &keys).await?;
    Ok(record)
}

/// Generates a key and seals its private part.
pub async fn new_key(state: &AppState, server_id: &str, alg: SigningAlg, slot: &str, now: OffsetDateTime) -> ApiResult<OAuthKeyRecord> {
    let kid = vestibule_core::id::random_token(43, &mut rand::thread_rng());
    let kid_for_key = kid.clone();
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(kid_for_key, alg))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(OAuthKeyRecord {
        sealed_private_key: state.vault.seal(&format!("oauth_keys/{kid}"), key.private_pem().expose().as_bytes()),
        kid,
        server_id: server_id.to_owned(),
        alg: alg.as_str().to_owned(),
        slot: slot.to_owned(),
        published_at: now,
        created: now,
    })
}

async fn load_server(
    state: &AppState,
    record: OAuthServerRecord,
    keys: Vec<OAuthKeyRecord>,
    policies: Option<Vec<oidc::AccessPolicy>>,
) -> ApiResult<LoadedServer> {
    let vault_opened: Vec<(OAuthKeyRecord, Secret)> = keys
        .into_iter()
        .map(|k| {
            let pem = state.vault.open(&format!("oauth_keys/{}", k.kid), &k.sealed_private_key).map_err(|e| ApiError::internal(&e))?;
            let pem = String::from_utf8(pem).map_err(|e| ApiError::internal(&e))?;
            Ok((k, Secret::new(pem)))
        })
        .collect::<ApiResult<_>>()?;
    let keys = tokio::task::spawn_blocking(move || build_ring(vault_opened)).await.map_err(|e| ApiError::internal(&e))??;
    let mut server = server_config(state, &record);
    server.access_policies = policies;
    Ok(LoadedServer { record, server, keys })
}

fn build_ring(keys: Vec<(OAuthKeyRecord, Secret)>) -> ApiResult<KeyRing> {
    let mut slots = Vec::new();
    for alg in ALGS {
        let mut current = None;
        let mut next = None;
        let mut previous = None;
        let mut next_published_at = OffsetDateTime::UNIX_EPOCH;
        for (record, pem) in keys.iter().filter(|(k, _)| k.alg == alg.as_str()) {
            let key = Arc::new(SigningKey::from_pem(record.kid.clone(), alg, pem).map_err(|e| ApiError::internal(&e))?);
            match record.slot.as_str() {
                "current" => current = Some(key),
                "next" => {
                    next_published_at = record.published_at;
                    next = Some(key);
                }
                "previous" => previous = Some(key),
                _ => {}
            }
        }
        if let (Some(current), Some(next)) = (current, next) {
            slots.push(KeySlots { previous, current, next, next_published_at });
        }
    }
    KeyRing::new(slots).map_err(|e| ApiError::internal(&e))
}

/// The protocol's view of a stored server: the issuer from configuration,
/// never from a request.
fn server_config(state: &AppState, record: &OAuthServerRecord) -> AuthorizationServer {
    let base = state.config.absolute("");
    let mut server = if record.id == ORG {
        AuthorizationServer::org(base)
    } else {
        AuthorizationServer::custom(&base, record.id.clone(), record.audiences.clone())
    };
    if let Some(scopes) = record.settings.get("scopes").and_then(Value::as_array) {
        server.custom_scopes = scopes
            .iter()
            .filter_map(|s| {
                Some(oidc::server::ScopeDefinition {
                    name: s.get("name")?.as_str()?.to_owned(),
                    description: s.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                })
            })
            .collect();
    }
    // Okta's groups claim: a claim of valueType GROUPS named "groups" filters
    // the groups released; without one, the groups scope releases them all.
    if let Some(claim) = record.settings.get("claims").and_then(Value::as_array).and_then(|claims| {
        claims.iter().find(|c| c.get("name").and_then(Value::as_str) == Some("groups") && c.get("valueType").and_then(Value::as_str) == Some("GROUPS"))
    }) {
        let value = claim.get("value").and_then(Value::as_str).unwrap_or_default();
        let filter_type = claim.get("group_filter_type").and_then(Value::as_str).unwrap_or("REGEX");
        server.groups_filter = oidc::GroupFilter::from_okta(filter_type, value);
        if claim.get("status").and_then(Value::as_str) == Some("INACTIVE") {
            server.groups_filter = None;
        }
    }
    if let Some(alg) = record.settings.get("accessTokenAlg").and_then(Value::as_str).and_then(SigningAlg::parse) {
        server.access_token_alg = alg;
    }
    server
}

/// Rotates one algorithm's keys of a server (refused while its next key
/// is younger than the overlap), then reloads.
pub async fn rotate(state: &AppState, rt: &Runtime, server_id: &str, alg: SigningAlg) -> ApiResult<()> {
    let loaded = rt.server(server_id).ok_or_else(|| ApiError::not_found("AuthorizationServer", server_id))?;
    let now = state.now();
    let slots = loaded.keys.slots(alg).ok_or_else(|| ApiError::not_found("Key", alg.as_str()))?;
    if now - slots.next_published_at < ROTATION_OVERLAP {
        return Err(ApiError::field("use", "the next key has not been published long enough to sign"));
    }
    let next = new_key(state, server_id, alg, "next", now).await?;
    state.store.rotate_oauth_keys(server_id, alg.as_str(), slots.next.kid(), &next).await?;
    rt.reload(state).await
}

/// Scheduled rotation: a key signs for [`ROTATION_PERIOD`], then its
/// successor (published since the last rotation, so for at least the
/// overlap) takes over. Checked when a server is used, so no timer is
/// needed; when two nodes see it due at once, the store lets one rotate.
pub async fn rotate_if_due(state: &AppState, rt: &Runtime, loaded: &LoadedServer) -> ApiResult<bool> {
    let now = state.now();
    let mut rotated = false;
    for alg in loaded.keys.algorithms() {
        let Some(slots) = loaded.keys.slots(alg) else { continue };
        if now - slots.next_published_at < ROTATION_PERIOD {
            continue;
        }
        let next = new_key(state, &loaded.record.id, alg, "next", now).await?;
        rotated |= state.store.rotate_oauth_keys(&loaded.record.id, alg.as_str(), slots.next.kid(), &next).await?;
    }
    if rotated {
        rt.reload(state).await?;
    }
    Ok(rotated)
}

/// How long a key signs before the scheduled rotation replaces it.
pub const ROTATION_PERIOD: time::Duration = time::Duration::days(90);
