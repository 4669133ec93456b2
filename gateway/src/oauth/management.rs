//! The management side of OAuth: bearer access tokens on `/api/v1/*`,
//! client secrets, the scope grants of API service apps
//! (`/api/v1/apps/{id}/grants`) and the custom authorization servers API
//! (`/api/v1/authorizationServers`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use oidc::SigningAlg;
use serde_json::{json, Map, Value};

use super::backing::Backing;
use super::runtime::{self, runtime, LoadedServer, ORG};
use crate::api::{Caller, Ctx, JsonBody};
use crate::apps::{AppInstance, SignOnMode};
use crate::auth::{Credential, Principal};
use crate::directory::{AdminRole, Permission, User, UserStatus};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder};
use crate::store::oauth::{AppScopeGrant, ClientSecretRecord, OAuthServerRecord};
use crate::store::ts;
use crate::syslog::{Actor, Target};

/// Okta's management scopes that Vestibule's API enforces.
pub const MANAGEMENT_SCOPES: [&str; 7] = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.logs.read",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{id}/grants", get(list_grants).post(create_grant))
        .route("/api/v1/apps/{id}/grants/{grant_id}", get(get_grant).delete(delete_grant))
        .route("/api/v1/apps/{id}/credentials/secrets", get(list_secrets).post(new_secret))
        .route("/api/v1/apps/{id}/credentials/secrets/{secret_id}", get(get_secret).delete(delete_secret))
        .route("/api/v1/apps/{id}/credentials/secrets/{secret_id}/lifecycle/{op}", post(secret_lifecycle))
        .route("/api/v1/authorizationServers", get(list_servers).post(create_server))
        .route("/api/v1/authorizationServers/{id}", get(get_server).put(replace_server).delete(delete_server))
        .route("/api/v1/authorizationServers/{id}/lifecycle/{op}", post(server_lifecycle))
        .route("/api/v1/authorizationServers/{id}/credentials/keys", get(server_keys))
        .route("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate", post(rotate_keys))
        .route("/api/v1/authorizationServers/{id}/scopes", get(list_scopes).post(create_scope))
        .route("/api/v1/authorizationServers/{id}/scopes/{scope_id}", get(get_scope).put(put_scope).delete(delete_scope))
        .route("/api/v1/authorizationServers/{id}/claims", get(list_claims).post(create_claim))
        .route("/api/v1/authorizationServers/{id}/claims/{claim_id}", get(get_claim).put(put_claim).delete(delete_claim))
}

// ---------------------------------------------------------------------------
// bearer tokens on the management API

/// The principal behind an `Authorization: Bearer` access token from the
/// org authorization server. A person's token acts with the person's admin
/// roles; a service app's token with [`AdminRole::ServiceApp`], which
/// grants exactly what its scopes allow. The caller (`auth::api_principal`)
/// then checks the scope the route needs.
pub async fn bearer_principal(state: &AppState, token: &str) -> ApiResult<Principal> {
    let rt = runtime(state).await?;
    let org = rt.server(ORG).ok_or_else(ApiError::invalid_token)?;
    let backing = Backing::new(state, &org);
    let p = backing.provider();
    let (at, client) = tokio::task::block_in_place(|| {
        let at = oidc::management::authenticate(&p, Some(&format!("Bearer {token}"))).ok()?;
        let client = oidc::ClientLookup::client(&backing, &at.client_id)?;
        Some((at, client))
    })
    .ok_or_else(ApiError::invalid_token)?;
    let at = Arc::new(at);
    match at.user_id.as_deref() {
        Some(uid) => {
            let principal = crate::auth::load_principal(state, uid).await?.ok_or_else(ApiError::invalid_token)?;
            if !principal.user.status.may_sign_in() {
                return Err(ApiError::invalid_token());
            }
            Ok(Principal { user: principal.user.clone(), roles: principal.roles.clone(), credential: Credential::AccessToken(at) })
        }
        None => {
            let has = |s: &str| at.scopes.contains(s);
            let role = AdminRole::ServiceApp {
                read: MANAGEMENT_SCOPES.iter().any(|s| has(s)),
                users: has("okta.users.manage"),
                groups: has("okta.groups.manage"),
                apps: has("okta.apps.manage"),
            };
            let label = crate::apps::cache::app(state, &client.client_id).await?.map(|a| a.label.clone()).unwrap_or_default();
            Ok(Principal { user: service_user(&client.client_id, &label, state), roles: vec![role], credential: Credential::AccessToken(at) })
        }
    }
}

/// A service app stands where a person would in the System Log and in
/// handlers that name the caller; its id is the client id.
fn service_user(client_id: &str, label: &str, state: &AppState) -> User {
    let mut profile = Map::new();
    profile.insert("login".into(), json!(client_id));
    profile.insert("firstName".into(), json!(label));
    profile.insert("lastName".into(), json!(""));
    let now = state.now();
    User {
        id: client_id.to_owned(),
        status: UserStatus::Active,
        profile,
        created: now,
        activated: None,
        status_changed: None,
        last_login: None,
        last_updated: now,
        password_changed: None,
        has_password: false,
    }
}

/// The scope a management route needs: the resource from the path, read
/// for GET and HEAD, manage otherwise. `None` for routes no scope opens.
pub fn management_scope(method: &axum::http::Method, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/api/v1/")?;
    let resource = rest.split('/').next().unwrap_or_default();
    let read = matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD);
    let kind = match resource {
        "users" => "users",
        "groups" => "groups",
        "apps" => "apps",
        "logs" if read => return Some("okta.logs.read".into()),
        _ => return None,
    };
    Some(format!("okta.{kind}.{}", if read { "read" } else { "manage" }))
}

// ---------------------------------------------------------------------------
// client secrets

/// Gives a new OIDC app its client id (the app's id, as in Okta) and, when
/// it authenticates with a secret, a client secret. The secret is stored
/// only as its digest; the returned JSON (`{"client_secret": …}`) is the one
/// time it is shown. Call after the app's id is set and before it is stored.
pub async fn on_app_created(state: &AppState, app: &mut AppInstance) -> ApiResult<Option<Value>> {
    if app.sign_on_mode != SignOnMode::OpenIdConnect {
        return Ok(None);
    }
    let application_type =
        app.settings.get("oauthClient").and_then(|o| o.get("application_type")).and_then(Value::as_str).unwrap_or("web").to_owned();
    let mut oauth = app.credentials.get("oauthClient").and_then(Value::as_object).cloned().unwrap_or_default();
    oauth.insert("client_id".into(), json!(app.id));
    let method = oauth
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| if matches!(application_type.as_str(), "browser" | "native") { "none".into() } else { "client_secret_basic".into() });
    oauth.insert("token_endpoint_auth_method".into(), json!(method));
    oauth.entry("autoKeyRotation").or_insert(json!(true));
    app.credentials.insert("oauthClient".into(), Value::Object(oauth));
    if !method.starts_with("client_secret") {
        return Ok(None);
    }
    let secret = issue_secret(state, &app.id).await?;
    Ok(Some(json!({ "client_secret": secret })))
}

/// The OIDC options only this module reads, checked on every write of an
/// app (for `apps::validate`): each problem as `path: message`.
pub fn validate(app: &AppInstance) -> Vec<String> {
    let mut causes = Vec::new();
    if app.sign_on_mode != SignOnMode::OpenIdConnect {
        return causes;
    }
    let empty = Map::new();
    let settings = app.settings.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let credentials = app.credentials.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let mut one_of = |map: &Map<String, Value>, path: &str, key: &str, allowed: &[&str]| {
        if let Some(v) = map.get(key) {
            if !v.as_str().is_some_and(|v| allowed.contains(&v)) {
                causes.push(format!("{path}.{key}: must be one of {}", allowed.join(", ")));
            }
        }
    };
    one_of(settings, "settings.oauthClient", "application_type", &["web", "native", "browser", "service"]);
    one_of(settings, "settings.oauthClient", "consent_method", &["REQUIRED", "TRUSTED"]);
    one_of(settings, "settings.oauthClient", "id_token_signed_response_alg", &["RS256", "ES256", "EdDSA"]);
    one_of(credentials, "credentials.oauthClient", "token_endpoint_auth_method", &["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);
    let kind = settings.get("application_type").and_then(Value::as_str).unwrap_or("web");
    let method = credentials.get("token_endpoint_auth_method").and_then(Value::as_str);
    if kind == "service" && method == Some("none") {
        causes.push("credentials.oauthClient.token_endpoint_auth_method: a service app must authenticate".into());
    }
    if kind == "browser" && method.is_some_and(|m| m != "none") {
        causes.push("credentials.oauthClient.token_endpoint_auth_method: a single-page app cannot keep a secret: use none, with PKCE".into());
    }
    // Okta's "Login initiated by": DISABLED is the app only; SPEC and OKTA
    // let the dashboard start it, which needs the app's initiate_login_uri.
    if let Some(login) = settings.get("idp_initiated_login") {
        match login.get("mode").and_then(Value::as_str) {
            Some("DISABLED") => {}
            Some("SPEC" | "OKTA") if settings.get("initiate_login_uri").and_then(Value::as_str).is_none_or(str::is_empty) => {
                causes.push("settings.oauthClient.initiate_login_uri: required when login may be initiated by Vestibule".into());
            }
            Some("SPEC" | "OKTA") => {}
            _ => causes.push("settings.oauthClient.idp_initiated_login.mode: must be one of DISABLED, SPEC, OKTA".into()),
        }
    }
    if method == Some("private_key_jwt") && !settings.get("jwks").is_some_and(|j| oidc::ClientJwks::parse(j).is_ok()) {
        causes.push("settings.oauthClient.jwks: private_key_jwt needs the client's public keys as a JWKS".into());
    }
    if let Some(uris) = settings.get("post_logout_redirect_uris") {
        let ok = uris.as_array().is_some_and(|a| a.iter().all(|u| u.as_str().is_some_and(|u| url::Url::parse(u).is_ok())));
        if !ok {
            causes.push("settings.oauthClient.post_logout_redirect_uris: must be absolute URIs".into());
        }
    }
    for key in ["initiate_login_uri", "target_link_uri"] {
        if let Some(uri) = settings.get(key).filter(|v| !v.is_null()) {
            let ok = uri.as_str().and_then(|u| url::Url::parse(u).ok()).is_some_and(|u| {
                u.scheme() == "https" || (u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")))
            });
            if !ok {
                causes.push(format!("settings.oauthClient.{key}: must be an https URL"));
            }
        }
    }
    causes
}

/// A new active client secret for `client_id`; with `replace`, the app's
/// other secrets stop working at once. Returns the record and the secret,
/// which is shown this once and stored only as its digest.
async fn issue_secret_record(state: &AppState, client_id: &str, replace: bool) -> ApiResult<(ClientSecretRecord, String)> {
    let secret = format!("{}{}", crate::crypto::random_secret(), crate::crypto::random_secret());
    let now = state.now();
    let record = ClientSecretRecord {
        id: vestibule_core::id::generate("ocs", &mut rand::thread_rng()),
        client_id: client_id.to_owned(),
        digest: crate::crypto::digest_token(&secret),
        active: true,
        created: now,
        last_updated: now,
    };
    state.store.insert_client_secret(&record, replace).await?;
    state.invalidate(crate::state::Invalidation::App { id: client_id.to_owned() }).await;
    Ok((record, secret))
}

async fn issue_secret(state: &AppState, client_id: &str) -> ApiResult<String> {
    Ok(issue_secret_record(state, client_id, true).await?.1)
}

/// Okta's OAuth2ClientSecret shape. The secret itself is only in the answer
/// that creates it; `secret_hash` (the start of its SHA-256) tells secrets apart.
fn secret_json(state: &AppState, s: &ClientSecretRecord, secret: Option<&str>) -> Value {
    let base = format!("/api/v1/apps/{}/credentials/secrets/{}", s.client_id, s.id);
    let mut v = json!({
        "id": s.id,
        "status": if s.active { "ACTIVE" } else { "INACTIVE" },
        "secret_hash": &s.digest[..s.digest.len().min(22)],
        "created": ts(s.created),
        "lastUpdated": ts(s.last_updated),
        "_links": {
            "self": { "href": state.config.absolute(&base), "hints": { "allow": ["GET", "DELETE"] } },
            if s.active { "deactivate" } else { "activate" }: {
                "href": state.config.absolute(&format!("{base}/lifecycle/{}", if s.active { "deactivate" } else { "activate" })),
                "hints": { "allow": ["POST"] },
            },
        },
    });
    if let Some(secret) = secret {
        v["client_secret"] = Value::String(secret.to_owned());
    }
    v
}

/// Okta keeps at most two secrets per app: one in use and the next one.
const MAX_CLIENT_SECRETS: usize = 2;

async fn secrets_of(state: &AppState, principal: &Principal, app_id: &str, permission: Permission) -> ApiResult<(Arc<AppInstance>, Vec<ClientSecretRecord>)> {
    principal.require(permission)?;
    let app = oidc_app(state, app_id).await?;
    let secrets = state.store.client_secrets(&app.id).await?;
    Ok((app, secrets))
}

async fn list_secrets(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (_, secrets) = secrets_of(&state, &principal, &id, Permission::Read).await?;
    Ok(Json(Value::Array(secrets.iter().map(|s| secret_json(&state, s, None)).collect())))
}

async fn get_secret(State(state): State<AppState>, Caller(principal): Caller, Path((id, secret_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let (_, secrets) = secrets_of(&state, &principal, &id, Permission::Read).await?;
    let s = secrets.iter().find(|s| s.id == secret_id).ok_or_else(|| ApiError::not_found("OAuth2ClientSecret", &secret_id))?;
    Ok(Json(secret_json(&state, s, None)))
}

async fn log_secret(state: &AppState, principal: &Principal, client: &crate::syslog::ClientInfo, event: &'static str, message: &str, app: &AppInstance, secret_id: &str) {
    state
        .log(
            EventBuilder::new(event, message, Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("secretId", secret_id.to_owned()),
        )
        .await;
}

/// POST /api/v1/apps/{id}/credentials/secrets: a second client secret, for
/// rotation without downtime: both work until the old one is deactivated.
async fn new_secret(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Response> {
    let (app, secrets) = secrets_of(&state, &principal, &id, Permission::ManageApps).await?;
    if secrets.len() >= MAX_CLIENT_SECRETS {
        return Err(ApiError::validation(vec![format!(
            "client_secret: an app has at most {MAX_CLIENT_SECRETS} client secrets; deactivate and delete one first"
        )]));
    }
    let (record, secret) = issue_secret_record(&state, &app.id, false).await?;
    log_secret(&state, &principal, &ctx.client, "app.oauth2.client.secret.create", "Create client secret", &app, &record.id).await;
    Ok((StatusCode::CREATED, Json(secret_json(&state, &record, Some(&secret)))).into_response())
}

/// POST …/secrets/{secretId}/lifecycle/{activate|deactivate}. The last
/// active secret cannot be deactivated: the app would have none.
async fn secret_lifecycle(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, secret_id, op)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let active = match op.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(ApiError::not_found("Lifecycle", &op)),
    };
    let (app, secrets) = secrets_of(&state, &principal, &id, Permission::ManageApps).await?;
    let s = secrets.iter().find(|s| s.id == secret_id).ok_or_else(|| ApiError::not_found("OAuth2ClientSecret", &secret_id))?;
    if !active && s.active && !secrets.iter().any(|o| o.active && o.id != s.id) {
        return Err(ApiError::validation(vec!["status: the app's only active client secret cannot be deactivated".to_owned()]));
    }
    state.store.set_client_secret_active(&app.id, &s.id, active, state.now()).await?;
    state.invalidate(crate::state::Invalidation::App { id: app.id.clone() }).await;
    let (event, message) =
        if active { ("app.oauth2.client.secret.activate", "Activate client secret") } else { ("app.oauth2.client.secret.deactivate", "Deactivate client secret") };
    log_secret(&state, &principal, &ctx.client, event, message, &app, &s.id).await;
    let updated = state.store.client_secrets(&app.id).await?.into_iter().find(|x| x.id == s.id).ok_or_else(|| ApiError::not_found("OAuth2ClientSecret", &secret_id))?;
    Ok(Json(secret_json(&state, &updated, None)))
}

/// DELETE …/secrets/{secretId}: only an inactive secret, as in Okta.
async fn delete_secret(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path((id, secret_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let (app, secrets) = secrets_of(&state, &principal, &id, Permission::ManageApps).await?;
    let s = secrets.iter().find(|s| s.id == secret_id).ok_or_else(|| ApiError::not_found("OAuth2ClientSecret", &secret_id))?;
    if s.active {
        return Err(ApiError::validation(vec!["status: deactivate the client secret before deleting it".to_owned()]));
    }
    state.store.delete_client_secret(&app.id, &s.id).await?;
    state.invalidate(crate::state::Invalidation::App { id: app.id.clone() }).await;
    log_secret(&state, &principal, &ctx.client, "app.oauth2.client.secret.delete", "Delete client secret", &app, &s.id).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn oidc_app(state: &AppState, id: &str) -> ApiResult<Arc<AppInstance>> {
    match crate::apps::cache::app(state, id).await? {
        Some(app) if app.sign_on_mode == SignOnMode::OpenIdConnect => Ok(app),
        _ => Err(ApiError::not_found("AppInstance", id)),
    }
}

// ---------------------------------------------------------------------------
// scope grants (Okta's OAuth2ScopeConsentGrant)

fn grant_json(state: &AppState, g: &AppScopeGrant) -> Value {
    json!({
        "id": g.id,
        "status": "ACTIVE",
        "created": ts(g.created),
        "lastUpdated": ts(g.created),
        "issuer": g.issuer,
        "clientId": g.app_id,
        "scopeId": g.scope_id,
        "source": "ADMIN",
        "_links": {
            "app": { "href": state.config.absolute(&format!("/api/v1/apps/{}", g.app_id)) },
            "self": { "href": state.config.absolute(&format!("/api/v1/apps/{}/grants/{}", g.app_id, g.id)) },
        },
    })
}

async fn list_grants(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let grants = app_grants(&state, &principal, &id).await?;
    Ok(Json(Value::Array(grants.iter().map(|g| grant_json(&state, g)).collect())))
}

async fn get_grant(State(state): State<AppState>, Caller(principal): Caller, Path((id, grant_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let grants = app_grants(&state, &principal, &id).await?;
    let g = grants.iter().find(|g| g.id == grant_id).ok_or_else(|| ApiError::not_found("OAuth2ScopeConsentGrant", &grant_id))?;
    Ok(Json(grant_json(&state, g)))
}

async fn create_grant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let (grant, new) = grant_app_scope(&state, &principal, &ctx.client, &id, &body).await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(grant_json(&state, &grant))).into_response())
}

async fn delete_grant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, grant_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    revoke_app_grant(&state, &principal, &ctx.client, &id, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// custom authorization servers

fn server_json(state: &AppState, s: &LoadedServer) -> Value {
    let r = &s.record;
    let current = s.keys.signing_key(SigningAlg::Rs256).map(|k| k.kid().to_owned());
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "audiences": r.audiences,
        "issuer": s.server.issuer,
        "issuerMode": "ORG_URL",
        "status": r.status,
        "created": ts(r.created),
        "lastUpdated": ts(r.last_updated),
        "credentials": { "signing": { "kid": current, "rotationMode": "MANUAL", "use": "sig" } },
        "_links": {
            "self": { "href": state.config.absolute(&format!("/api/v1/authorizationServers/{}", r.id)) },
            "metadata": [
                { "href": s.server.well_known_url("openid-configuration") },
                { "href": s.server.well_known_url("oauth-authorization-server") },
            ],
            "scopes": { "href": state.config.absolute(&format!("/api/v1/authorizationServers/{}/scopes", r.id)) },
            "keys": { "href": state.config.absolute(&format!("/api/v1/authorizationServers/{}/credentials/keys", r.id)) },
        },
    })
}

async fn custom_server(state: &AppState, id: &str) -> ApiResult<(Arc<runtime::Runtime>, Arc<LoadedServer>)> {
    let rt = runtime(state).await?;
    match rt.server(id) {
        Some(s) if id != ORG => Ok((rt, s)),
        _ => Err(ApiError::not_found("AuthorizationServer", id)),
    }
}

async fn list_servers(State(state): State<AppState>, Caller(principal): Caller) -> ApiResult<Json<Value>> {
    let servers = custom_servers(&state, &principal).await?;
    Ok(Json(Value::Array(servers.iter().map(|s| server_json(&state, s)).collect())))
}

async fn get_server(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = read_server(&state, &principal, &id).await?;
    Ok(Json(server_json(&state, &s)))
}

fn server_fields(body: &Map<String, Value>) -> ApiResult<(String, String, Vec<String>)> {
    let name = body.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()).ok_or_else(|| ApiError::field("name", "The field cannot be left blank"))?;
    let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
    let audiences: Vec<String> = match body.get("audiences") {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return Err(ApiError::field("audiences", "at least one audience is required")),
    };
    Ok((name.to_owned(), description.to_owned(), audiences))
}

async fn create_server(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let s = add_server(&state, &principal, &ctx.client, &body).await?;
    Ok((StatusCode::CREATED, Json(server_json(&state, &s))).into_response())
}

async fn save(state: &AppState, rt: &runtime::Runtime, record: OAuthServerRecord) -> ApiResult<()> {
    if !state.store.update_oauth_server(&record).await? {
        return Err(ApiError::not_found("AuthorizationServer", &record.id));
    }
    rt.reload(state).await
}

async fn replace_server(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let s = change_server(&state, &principal, &id, &body).await?;
    Ok(Json(server_json(&state, &s)))
}

async fn delete_server(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    remove_server(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn server_lifecycle(State(state): State<AppState>, Caller(principal): Caller, Path((id, op)): Path<(String, String)>) -> ApiResult<StatusCode> {
    set_server_lifecycle(&state, &principal, &id, &op).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn keys_json(s: &LoadedServer) -> Value {
    let mut out = Vec::new();
    for alg in s.keys.algorithms() {
        let Some(slots) = s.keys.slots(alg) else { continue };
        let mut push = |key: &oidc::SigningKey, status: &str| {
            let mut jwk = key.public_jwk().clone();
            jwk.insert("status".into(), json!(status));
            out.push(Value::Object(jwk));
        };
        push(&slots.current, "ACTIVE");
        push(&slots.next, "NEXT");
        if let Some(previous) = &slots.previous {
            push(previous, "EXPIRED");
        }
    }
    Value::Array(out)
}

async fn server_keys(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Array(signing_keys(&state, &principal, &id).await?)))
}

/// POST …/credentials/lifecycle/keyRotate: `{"use": "sig"}`, optionally
/// `"alg"`; every algorithm's keys move one slot on when none is named.
async fn rotate_keys(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageOrg)?;
    if body.get("use").and_then(Value::as_str) != Some("sig") {
        return Err(ApiError::field("use", "must be sig"));
    }
    let keys = rotate_server_keys(&state, &principal, &ctx.client, &id, body.get("alg").and_then(Value::as_str)).await?;
    Ok(Json(Value::Array(keys)))
}

fn scopes_of(record: &OAuthServerRecord) -> Vec<Value> {
    record.settings.get("scopes").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn scope_json(state: &AppState, server_id: &str, scope: &Value) -> Value {
    let mut s = scope.clone();
    if let Some(id) = scope.get("id").and_then(Value::as_str) {
        s["_links"] = json!({ "self": { "href": state.config.absolute(&format!("/api/v1/authorizationServers/{server_id}/scopes/{id}")) } });
    }
    s
}

async fn list_scopes(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Array(server_scopes(&state, &principal, &id).await?)))
}

async fn get_scope(State(state): State<AppState>, Caller(principal): Caller, Path((id, scope_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let scope = server_scopes(&state, &principal, &id)
        .await?
        .into_iter()
        .find(|sc| sc.get("system") != Some(&Value::Bool(true)) && sc.get("id").and_then(Value::as_str) == Some(scope_id.as_str()))
        .ok_or_else(|| ApiError::not_found("OAuth2Scope", &scope_id))?;
    Ok(Json(scope))
}

async fn create_scope(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let scope = add_scope(&state, &principal, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(scope)).into_response())
}

/// PUT …/scopes/{scopeId}: replaces a custom scope, keeping its id.
async fn put_scope(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, scope_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    Ok(Json(replace_scope(&state, &principal, &id, &scope_id, &body).await?))
}

async fn delete_scope(State(state): State<AppState>, Caller(principal): Caller, Path((id, scope_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    remove_scope(&state, &principal, &id, &scope_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// claims (the groups claim and its filter)

fn claims_of(record: &OAuthServerRecord) -> Vec<Value> {
    record.settings.get("claims").and_then(Value::as_array).cloned().unwrap_or_default()
}

async fn list_claims(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Array(server_claims(&state, &principal, &id).await?)))
}

/// POST …/claims: Okta's claim shape. Vestibule evaluates one kind: the
/// `groups` claim of valueType GROUPS, with a filter (STARTS_WITH, EQUALS,
/// CONTAINS, ignoring case, or REGEX matching the whole name).
async fn create_claim(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let claim = add_claim(&state, &principal, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(claim)).into_response())
}

async fn get_claim(State(state): State<AppState>, Caller(principal): Caller, Path((id, claim_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let claim = server_claims(&state, &principal, &id)
        .await?
        .into_iter()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(claim_id.as_str()))
        .ok_or_else(|| ApiError::not_found("OAuth2Claim", &claim_id))?;
    Ok(Json(claim))
}

/// PUT …/claims/{claimId}: replaces a claim, keeping its id.
async fn put_claim(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, claim_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    Ok(Json(replace_claim(&state, &principal, &id, &claim_id, &body).await?))
}

async fn delete_claim(State(state): State<AppState>, Caller(principal): Caller, Path((id, claim_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    remove_claim(&state, &principal, &id, &claim_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// The operations behind the handlers above, for the API and the Admin
// Console alike (`web::admin_authz`, the OIDC pages of `web::admin_apps`):
// each takes the acting principal and checks its permission, so a page can
// never do what the API would refuse.

/// The custom authorization servers (not the org server), oldest first.
pub(crate) async fn custom_servers(state: &AppState, principal: &Principal) -> ApiResult<Vec<Arc<LoadedServer>>> {
    principal.require(Permission::Read)?;
    let rt = runtime(state).await?;
    let snapshot = rt.snapshot();
    let mut servers: Vec<Arc<LoadedServer>> = snapshot.servers.values().filter(|s| s.record.id != ORG).cloned().collect();
    servers.sort_by(|a, b| (a.record.created, &a.record.id).cmp(&(b.record.created, &b.record.id)));
    Ok(servers)
}

/// One custom authorization server.
pub(crate) async fn read_server(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Arc<LoadedServer>> {
    principal.require(Permission::Read)?;
    Ok(custom_server(state, id).await?.1)
}

/// Creates a custom server from Okta's shape (`name`, `description`,
/// `audiences`), with fresh keys.
pub(crate) async fn add_server(
    state: &AppState,
    principal: &Principal,
    client: &crate::syslog::ClientInfo,
    body: &Map<String, Value>,
) -> ApiResult<Arc<LoadedServer>> {
    principal.require(Permission::ManageOrg)?;
    let (name, description, audiences) = server_fields(body)?;
    let id = vestibule_core::id::generate("aus", &mut rand::thread_rng());
    let settings = json!({ "scopes": [], "claims": [] }).as_object().cloned().unwrap_or_default();
    runtime::create_server(state, &id, &name, &description, audiences, settings).await?;
    let rt = runtime(state).await?;
    rt.reload(state).await?;
    let s = rt.server(&id).ok_or_else(|| ApiError::not_found("AuthorizationServer", &id))?;
    state
        .log(
            EventBuilder::new("oauth2.as.created", "Create authorization server", Actor::user(&principal.user), client)
                .target(Target::other(&id, "AuthorizationServer", &name)),
        )
        .await;
    Ok(s)
}

/// Replaces a custom server's name, description and audiences.
pub(crate) async fn change_server(state: &AppState, principal: &Principal, id: &str, body: &Map<String, Value>) -> ApiResult<Arc<LoadedServer>> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let (name, description, audiences) = server_fields(body)?;
    let mut record = s.record.clone();
    record.name = name;
    record.description = description;
    record.audiences = audiences;
    record.last_updated = state.now();
    save(state, &rt, record).await?;
    rt.server(id).ok_or_else(|| ApiError::not_found("AuthorizationServer", id))
}

/// Deletes an inactive custom server.
pub(crate) async fn remove_server(state: &AppState, principal: &Principal, id: &str) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    if s.record.status == "ACTIVE" {
        return Err(ApiError::wrong_status("deactivate the authorization server before deleting it"));
    }
    state.store.delete_oauth_server(id).await?;
    rt.reload(state).await
}

/// Activates (`activate`) or deactivates (`deactivate`) a custom server.
pub(crate) async fn set_server_lifecycle(state: &AppState, principal: &Principal, id: &str, op: &str) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let status = match op {
        "activate" => "ACTIVE",
        "deactivate" => "INACTIVE",
        _ => return Err(ApiError::not_found("Lifecycle", op)),
    };
    let mut record = s.record.clone();
    record.status = status.into();
    record.last_updated = state.now();
    save(state, &rt, record).await
}

/// A server's published signing keys as JWKs, each with its `status`:
/// ACTIVE (signs now), NEXT (published, signs after the next rotation) or
/// EXPIRED (the previous key, still published so tokens it signed verify).
pub(crate) async fn signing_keys(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Vec<Value>> {
    principal.require(Permission::Read)?;
    let rt = runtime(state).await?;
    let s = rt.server(id).ok_or_else(|| ApiError::not_found("AuthorizationServer", id))?;
    Ok(match keys_json(&s) {
        Value::Array(keys) => keys,
        _ => Vec::new(),
    })
}

/// Rotates a server's keys (one algorithm, or all when `alg` is `None`);
/// refused while a next key is younger than the overlap.
pub(crate) async fn rotate_server_keys(
    state: &AppState,
    principal: &Principal,
    client: &crate::syslog::ClientInfo,
    id: &str,
    alg: Option<&str>,
) -> ApiResult<Vec<Value>> {
    principal.require(Permission::ManageOrg)?;
    let rt = runtime(state).await?;
    let s = rt.server(id).ok_or_else(|| ApiError::not_found("AuthorizationServer", id))?;
    let algs: Vec<SigningAlg> = match alg {
        Some(a) => vec![SigningAlg::parse(a).ok_or_else(|| ApiError::field("alg", "must be RS256, ES256 or EdDSA"))?],
        None => s.keys.algorithms().collect(),
    };
    for alg in algs {
        runtime::rotate(state, &rt, id, alg).await?;
    }
    state
        .log(
            EventBuilder::new("oauth2.as.key.rollover", "Rotate authorization server keys", Actor::user(&principal.user), client)
                .target(Target::other(id, "AuthorizationServer", &s.record.name)),
        )
        .await;
    signing_keys(state, principal, id).await
}

/// Consent values of a scope in Okta's shape.
const SCOPE_CONSENTS: [&str; 3] = ["IMPLICIT", "REQUIRED", "FLEXIBLE"];
/// Whether a scope is listed in the server's metadata.
const SCOPE_PUBLISH: [&str; 2] = ["ALL_CLIENTS", "NO_CLIENTS"];

/// A server's scopes: the OpenID Connect scopes every server has (marked
/// `system`), then its custom scopes.
pub(crate) async fn server_scopes(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Vec<Value>> {
    principal.require(Permission::Read)?;
    let (_, s) = custom_server(state, id).await?;
    let mut out: Vec<Value> = oidc::server::OIDC_SCOPES
        .iter()
        .map(|name| json!({ "id": name, "name": name, "system": true, "consent": "IMPLICIT", "metadataPublish": "ALL_CLIENTS" }))
        .collect();
    out.extend(scopes_of(&s.record).iter().map(|sc| scope_json(state, id, sc)));
    Ok(out)
}

/// A custom scope as the body gives it (Okta's OAuth2Scope shape), checked
/// against the server's other scopes; `id` is the scope's id.
fn scope_from_body(body: &Map<String, Value>, others: &[Value], id: String) -> ApiResult<Value> {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if oidc::Scopes::parse(name).is_none_or(|p| p.iter().count() != 1) || name.starts_with("okta.") {
        return Err(ApiError::field("name", "must be one scope token, not an okta.* scope"));
    }
    if oidc::server::OIDC_SCOPES.contains(&name) || others.iter().any(|sc| sc.get("name").and_then(Value::as_str) == Some(name)) {
        return Err(ApiError::field("name", "a scope with this name exists"));
    }
    let mut causes = Vec::new();
    let consent = body.get("consent").and_then(Value::as_str).unwrap_or("IMPLICIT");
    if !SCOPE_CONSENTS.contains(&consent) {
        causes.push(format!("consent: must be one of {}", SCOPE_CONSENTS.join(", ")));
    }
    let publish = body.get("metadataPublish").and_then(Value::as_str).unwrap_or("NO_CLIENTS");
    if !SCOPE_PUBLISH.contains(&publish) {
        causes.push(format!("metadataPublish: must be one of {}", SCOPE_PUBLISH.join(", ")));
    }
    let description = body.get("description").and_then(Value::as_str).unwrap_or_default();
    if description.chars().count() > 1000 {
        causes.push("description: must be at most 1000 characters".into());
    }
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    Ok(json!({
        "id": id,
        "name": name,
        "description": description,
        "system": false,
        "consent": consent,
        "metadataPublish": publish,
        "default": body.get("default").and_then(Value::as_bool).unwrap_or(false),
    }))
}

/// Adds a custom scope.
pub(crate) async fn add_scope(state: &AppState, principal: &Principal, id: &str, body: &Map<String, Value>) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let mut scopes = scopes_of(&s.record);
    let scope = scope_from_body(body, &scopes, vestibule_core::id::generate("scp", &mut rand::thread_rng()))?;
    scopes.push(scope.clone());
    let mut record = s.record.clone();
    record.settings.insert("scopes".into(), Value::Array(scopes));
    record.last_updated = state.now();
    save(state, &rt, record).await?;
    Ok(scope_json(state, id, &scope))
}

/// Replaces a custom scope, keeping its id.
pub(crate) async fn replace_scope(state: &AppState, principal: &Principal, id: &str, scope_id: &str, body: &Map<String, Value>) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let mut scopes = scopes_of(&s.record);
    let at = scopes.iter().position(|sc| sc.get("id").and_then(Value::as_str) == Some(scope_id)).ok_or_else(|| ApiError::not_found("OAuth2Scope", scope_id))?;
    let others: Vec<Value> = scopes.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, sc)| sc.clone()).collect();
    let scope = scope_from_body(body, &others, scope_id.to_owned())?;
    scopes[at] = scope.clone();
    let mut record = s.record.clone();
    record.settings.insert("scopes".into(), Value::Array(scopes));
    record.last_updated = state.now();
    save(state, &rt, record).await?;
    Ok(scope_json(state, id, &scope))
}

/// Deletes a custom scope.
pub(crate) async fn remove_scope(state: &AppState, principal: &Principal, id: &str, scope_id: &str) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let mut scopes = scopes_of(&s.record);
    let before = scopes.len();
    scopes.retain(|sc| sc.get("id").and_then(Value::as_str) != Some(scope_id));
    if scopes.len() == before {
        return Err(ApiError::not_found("OAuth2Scope", scope_id));
    }
    let mut record = s.record.clone();
    record.settings.insert("scopes".into(), Value::Array(scopes));
    record.last_updated = state.now();
    save(state, &rt, record).await
}

/// A server's claims.
pub(crate) async fn server_claims(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Vec<Value>> {
    principal.require(Permission::Read)?;
    let (_, s) = custom_server(state, id).await?;
    Ok(claims_of(&s.record))
}

/// Adds (or replaces) the `groups` claim of valueType GROUPS, with its
/// filter: STARTS_WITH, EQUALS, CONTAINS, or REGEX `.*` for every group.
pub(crate) async fn add_claim(state: &AppState, principal: &Principal, id: &str, body: &Map<String, Value>) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let claim = claim_from_body(body, vestibule_core::id::generate("ocl", &mut rand::thread_rng()))?;
    let mut claims: Vec<Value> = claims_of(&s.record).into_iter().filter(|c| c["name"] != "groups").collect();
    claims.push(claim.clone());
    let mut record = s.record.clone();
    record.settings.insert("claims".into(), Value::Array(claims));
    record.last_updated = state.now();
    save(state, &rt, record).await?;
    Ok(claim)
}

/// Replaces a claim, keeping its id.
pub(crate) async fn replace_claim(state: &AppState, principal: &Principal, id: &str, claim_id: &str, body: &Map<String, Value>) -> ApiResult<Value> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let mut claims = claims_of(&s.record);
    let at = claims.iter().position(|c| c.get("id").and_then(Value::as_str) == Some(claim_id)).ok_or_else(|| ApiError::not_found("OAuth2Claim", claim_id))?;
    let claim = claim_from_body(body, claim_id.to_owned())?;
    claims[at] = claim.clone();
    let mut record = s.record.clone();
    record.settings.insert("claims".into(), Value::Array(claims));
    record.last_updated = state.now();
    save(state, &rt, record).await?;
    Ok(claim)
}

/// The groups claim the body describes, with the id `id`.
fn claim_from_body(body: &Map<String, Value>, id: String) -> ApiResult<Value> {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name != "groups" || body.get("valueType").and_then(Value::as_str) != Some("GROUPS") {
        return Err(ApiError::field("valueType", "only the groups claim (name groups, valueType GROUPS) is supported"));
    }
    let filter = body.get("group_filter_type").and_then(Value::as_str).unwrap_or("REGEX");
    let value = body.get("value").and_then(Value::as_str).unwrap_or_default();
    if filter != "REGEX" && value.trim().is_empty() {
        return Err(ApiError::field("value", "The field cannot be left blank"));
    }
    if oidc::GroupFilter::from_okta(filter, value).is_none() {
        return Err(ApiError::field("group_filter_type", "must be STARTS_WITH, EQUALS, CONTAINS, or REGEX with a valid regular expression as the value"));
    }
    let mut causes = Vec::new();
    let status = body.get("status").and_then(Value::as_str).unwrap_or("ACTIVE");
    if !["ACTIVE", "INACTIVE"].contains(&status) {
        causes.push("status: must be ACTIVE or INACTIVE".to_owned());
    }
    let claim_type = body.get("claimType").and_then(Value::as_str).unwrap_or("IDENTITY");
    if !["IDENTITY", "RESOURCE"].contains(&claim_type) {
        causes.push("claimType: must be IDENTITY or RESOURCE".to_owned());
    }
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    Ok(json!({
        "id": id,
        "name": "groups",
        "status": status,
        "claimType": claim_type,
        "valueType": "GROUPS",
        "value": value,
        "group_filter_type": filter,
        "alwaysIncludeInToken": body.get("alwaysIncludeInToken").and_then(Value::as_bool).unwrap_or(false),
        "conditions": body.get("conditions").cloned().unwrap_or_else(|| json!({ "scopes": ["groups"] })),
        "system": false,
    }))
}

/// Deletes a claim.
pub(crate) async fn remove_claim(state: &AppState, principal: &Principal, id: &str, claim_id: &str) -> ApiResult<()> {
    principal.require(Permission::ManageOrg)?;
    let (rt, s) = custom_server(state, id).await?;
    let mut claims = claims_of(&s.record);
    let before = claims.len();
    claims.retain(|c| c.get("id").and_then(Value::as_str) != Some(claim_id));
    if claims.len() == before {
        return Err(ApiError::not_found("OAuth2Claim", claim_id));
    }
    let mut record = s.record.clone();
    record.settings.insert("claims".into(), Value::Array(claims));
    record.last_updated = state.now();
    save(state, &rt, record).await
}

/// The management scopes granted to an OIDC app.
pub(crate) async fn app_grants(state: &AppState, principal: &Principal, app_id: &str) -> ApiResult<Vec<AppScopeGrant>> {
    principal.require(Permission::Read)?;
    let app = oidc_app(state, app_id).await?;
    Ok(state.store.app_scope_grants(&app.id).await?)
}

/// Grants a management scope to an app (`scopeId`, and `issuer`, which must
/// be the org server's). Granting a scope the app has returns its grant;
/// the boolean says whether the grant is new.
pub(crate) async fn grant_app_scope(
    state: &AppState,
    principal: &Principal,
    client: &crate::syslog::ClientInfo,
    app_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<(AppScopeGrant, bool)> {
    principal.require(Permission::ManageApps)?;
    let app = oidc_app(state, app_id).await?;
    let issuer = state.config.absolute("");
    let given_issuer = body.get("issuer").and_then(Value::as_str).unwrap_or(&issuer).trim_end_matches('/').to_owned();
    if given_issuer != issuer {
        return Err(ApiError::field("issuer", "must be the org authorization server's issuer"));
    }
    let scope = body.get("scopeId").and_then(Value::as_str).ok_or_else(|| ApiError::field("scopeId", "The field cannot be left blank"))?;
    if !MANAGEMENT_SCOPES.contains(&scope) {
        return Err(ApiError::field("scopeId", &format!("must be one of {}", MANAGEMENT_SCOPES.join(", "))));
    }
    let existing = state.store.app_scope_grants(&app.id).await?;
    if let Some(g) = existing.into_iter().find(|g| g.scope_id == scope) {
        return Ok((g, false));
    }
    let grant = AppScopeGrant {
        id: vestibule_core::id::generate("oag", &mut rand::thread_rng()),
        app_id: app.id.clone(),
        issuer,
        scope_id: scope.to_owned(),
        created: state.now(),
    };
    state.store.insert_app_scope_grant(&grant).await?;
    state.invalidate(crate::state::Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("app.oauth2.as.consent.grant", "Grant scope to app", Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("scope", scope.to_owned()),
        )
        .await;
    Ok((grant, true))
}

/// Revokes one of an app's scope grants.
pub(crate) async fn revoke_app_grant(
    state: &AppState,
    principal: &Principal,
    client: &crate::syslog::ClientInfo,
    app_id: &str,
    grant_id: &str,
) -> ApiResult<()> {
    principal.require(Permission::ManageApps)?;
    let app = oidc_app(state, app_id).await?;
    if !state.store.delete_app_scope_grant(&app.id, grant_id).await? {
        return Err(ApiError::not_found("OAuth2ScopeConsentGrant", grant_id));
    }
    state.invalidate(crate::state::Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("app.oauth2.as.consent.revoke", "Revoke scope grant", Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(())
}

/// A new client secret for an OIDC app, returned to be shown once; the
/// previous one stops working.
pub(crate) async fn new_client_secret(state: &AppState, principal: &Principal, client: &crate::syslog::ClientInfo, app_id: &str) -> ApiResult<String> {
    principal.require(Permission::ManageApps)?;
    let app = oidc_app(state, app_id).await?;
    let secret = issue_secret(state, &app.id).await?;
    state
        .log(
            EventBuilder::new("app.oauth2.client.secret.create", "Create client secret", Actor::user(&principal.user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    Ok(secret)
}
