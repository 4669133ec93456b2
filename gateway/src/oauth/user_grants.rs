//! A person's OAuth consents and refresh tokens, in Okta's shapes
//! (`OAuth2ScopeConsentGrant` with source `END_USER`, `OAuth2Client`,
//! `OAuth2RefreshToken`) under `/api/v1/users/{id}/grants` and
//! `/api/v1/users/{id}/clients`.
//!
//! Reading needs the Read permission (or `okta.users.read` on a bearer
//! token); revoking needs ManageUsers (`okta.users.manage`). Revoking a
//! consent also revokes the refresh tokens of that person and client whose
//! scopes include the consented scope, so that what the consent allowed
//! stops working at once; the next authorization asks again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::runtime::{runtime, Runtime};
use crate::api::{paged, Caller, Ctx, Params};
use crate::auth::Principal;
use crate::directory::{Permission, User};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder};
use crate::store::oauth::{ConsentRecord, RefreshTokenListing};
use crate::store::ts;
use crate::syslog::{Actor, ClientInfo, Target};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/{id}/grants", get(list_user_grants).delete(revoke_user_grants))
        .route("/api/v1/users/{id}/grants/{grant_id}", get(get_user_grant).delete(revoke_user_grant))
        .route("/api/v1/users/{id}/clients", get(list_user_clients))
        .route("/api/v1/users/{id}/clients/{client_id}/grants", get(list_client_grants).delete(revoke_client_grants))
        .route("/api/v1/users/{id}/clients/{client_id}/tokens", get(list_client_tokens).delete(revoke_client_tokens))
        .route("/api/v1/users/{id}/clients/{client_id}/tokens/{token_id}", get(get_client_token).delete(revoke_client_token))
}

/// Resolves `{id}` (an id, a login, or `me`) and checks the permission.
async fn person(state: &AppState, principal: &Principal, key: &str, permission: Permission) -> ApiResult<User> {
    principal.require(permission)?;
    let key = if key == "me" { principal.user.id.as_str() } else { key };
    Ok(state.store.user_by_id_or_login(key).await?.ok_or_else(|| ApiError::not_found("User", key))?.user)
}

fn expanded(params: &Params, what: &str) -> bool {
    params.get("expand").is_some_and(|e| e.split(',').any(|x| x.trim() == what))
}

fn server_href(state: &AppState, server_id: &str) -> String {
    state.config.absolute(&format!("/api/v1/authorizationServers/{server_id}"))
}

fn grant_json(state: &AppState, g: &ConsentRecord, params: &Params) -> Value {
    let mut v = json!({
        "id": g.id,
        "status": "ACTIVE",
        "created": ts(g.created),
        "lastUpdated": ts(g.last_updated),
        "issuer": g.issuer,
        "clientId": g.client_id,
        "userId": g.user_id,
        "scopeId": g.scope,
        "source": "END_USER",
        "createdBy": { "id": g.user_id, "type": "User" },
        "_links": {
            "self": { "href": state.config.absolute(&format!("/api/v1/users/{}/grants/{}", g.user_id, g.id)), "hints": { "allow": ["GET", "DELETE"] } },
            "app": { "href": state.config.absolute(&format!("/api/v1/apps/{}", g.client_id)) },
            "client": { "href": state.config.absolute(&format!("/api/v1/apps/{}", g.client_id)) },
            "user": { "href": state.config.absolute(&format!("/api/v1/users/{}", g.user_id)) },
            "authorizationServer": { "href": server_href(state, &g.server_id) },
            "scope": { "href": format!("{}/scopes/{}", server_href(state, &g.server_id), g.scope) },
        },
    });
    if expanded(params, "scope") {
        v["_embedded"] = json!({ "scope": { "id": g.scope } });
    }
    v
}

fn token_json(state: &AppState, rt: &Runtime, t: &RefreshTokenListing, params: &Params) -> Value {
    let issuer = rt.server(&t.server_id).map(|s| s.server.issuer.clone()).unwrap_or_default();
    let scopes: Vec<String> = t.token.scopes.iter().map(str::to_owned).collect();
    let self_href = state.config.absolute(&format!("/api/v1/users/{}/clients/{}/tokens/{}", t.token.user_id, t.token.client_id, t.id));
    let mut v = json!({
        "id": t.id,
        "status": "ACTIVE",
        "created": ts(t.created),
        "lastUpdated": ts(t.token.issued_at),
        "expiresAt": ts((t.token.issued_at + t.token.idle_window).min(t.token.grant_expires_at)),
        "issuer": issuer,
        "clientId": t.token.client_id,
        "userId": t.token.user_id,
        "scopes": scopes,
        "_links": {
            "self": { "href": self_href, "hints": { "allow": ["GET", "DELETE"] } },
            "revoke": { "href": self_href, "hints": { "allow": ["DELETE"] } },
            "app": { "href": state.config.absolute(&format!("/api/v1/apps/{}", t.token.client_id)) },
            "client": { "href": state.config.absolute(&format!("/api/v1/apps/{}", t.token.client_id)) },
            "user": { "href": state.config.absolute(&format!("/api/v1/users/{}", t.token.user_id)) },
            "authorizationServer": { "href": server_href(state, &t.server_id) },
        },
    });
    if expanded(params, "scope") {
        v["_embedded"] = json!({ "scopes": t.token.scopes.iter().map(|s| json!({ "id": s, "name": s })).collect::<Vec<_>>() });
    }
    v
}

/// One page of `items` after the `after` cursor (an item id), with Okta's Link headers.
fn page<T>(state: &AppState, ctx: &Ctx, items: &[T], id: impl Fn(&T) -> &str, render: impl Fn(&T) -> Value) -> ApiResult<axum::response::Response> {
    let limit = ctx.params.limit(200, 200)? as usize;
    let start = match ctx.params.get("after") {
        Some(after) => items.iter().position(|i| id(i) == after).map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let rest = &items[start..];
    let shown = &rest[..rest.len().min(limit)];
    let next = (rest.len() > limit).then(|| shown.last().map(|i| id(i).to_owned())).flatten();
    Ok(paged(state, &ctx.path, &ctx.params, Value::Array(shown.iter().map(render).collect()), next))
}

async fn log(state: &AppState, principal: &Principal, client: &ClientInfo, event: &'static str, message: &str, user: &User, what: &str) {
    state
        .log(
            EventBuilder::new(event, message, Actor::user(&principal.user), client)
                .target(Target::user(user))
                .debug("revoked", what.to_owned()),
        )
        .await;
}

/// Revokes the person's refresh tokens for `client_id` whose scopes
/// include `scope` (all of them when `None`); returns how many grants.
async fn revoke_tokens(state: &AppState, user_id: &str, client_id: &str, scope: Option<&str>) -> ApiResult<usize> {
    let mut n = 0;
    for (grant_id, scopes) in state.store.refresh_grants_of(user_id, client_id, None).await? {
        if scope.is_none_or(|s| scopes.iter().any(|x| x == s)) {
            state.store.revoke_grant(&grant_id, state.now()).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Deletes consents and what they issued.
async fn revoke_consents(state: &AppState, consents: &[ConsentRecord]) -> ApiResult<()> {
    for c in consents {
        if state.store.delete_consent(&c.user_id, &c.id).await? {
            revoke_tokens(state, &c.user_id, &c.client_id, Some(&c.scope)).await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// /grants

async fn list_user_grants(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>) -> ApiResult<axum::response::Response> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let mut grants = state.store.consents(&user.id, None, None).await?;
    if let Some(scope) = ctx.params.get("scopeId") {
        grants.retain(|g| g.scope == scope);
    }
    page(&state, &ctx, &grants, |g| &g.id, |g| grant_json(&state, g, &ctx.params))
}

async fn get_user_grant(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path((id, grant_id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let grants = state.store.consents(&user.id, None, None).await?;
    let g = grants.iter().find(|g| g.id == grant_id).ok_or_else(|| ApiError::not_found("OAuth2ScopeConsentGrant", &grant_id))?;
    Ok(Json(grant_json(&state, g, &ctx.params)))
}

async fn revoke_user_grants(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let user = person(&state, &principal, &id, Permission::ManageUsers).await?;
    let grants = state.store.consents(&user.id, None, None).await?;
    revoke_consents(&state, &grants).await?;
    log(&state, &principal, &ctx.client, "app.oauth2.as.consent.revoke", "Revoke user consent grants", &user, "all").await;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_user_grant(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, grant_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = person(&state, &principal, &id, Permission::ManageUsers).await?;
    let grants = state.store.consents(&user.id, None, None).await?;
    let g = grants.into_iter().find(|g| g.id == grant_id).ok_or_else(|| ApiError::not_found("OAuth2ScopeConsentGrant", &grant_id))?;
    revoke_consents(&state, std::slice::from_ref(&g)).await?;
    log(&state, &principal, &ctx.client, "app.oauth2.as.consent.revoke", "Revoke user consent grant", &user, &g.scope).await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------
// /clients

/// The clients a person has consented to or holds refresh tokens for.
async fn list_user_clients(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>) -> ApiResult<axum::response::Response> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let mut ids: Vec<String> = state.store.consents(&user.id, None, None).await?.into_iter().map(|c| c.client_id).collect();
    ids.extend(state.store.refresh_tokens_of_user(&user.id, None, state.now()).await?.into_iter().map(|t| t.token.client_id));
    ids.sort();
    ids.dedup();
    let mut clients = Vec::new();
    for client_id in ids {
        let Some(app) = crate::apps::cache::app(&state, &client_id).await? else { continue };
        let base = format!("/api/v1/users/{}/clients/{}", user.id, app.id);
        let mut c = json!({
            "client_id": app.id,
            "client_name": app.label,
            "_links": {
                "self": { "href": state.config.absolute(&format!("/api/v1/apps/{}", app.id)) },
                "grants": { "href": state.config.absolute(&format!("{base}/grants")) },
                "tokens": { "href": state.config.absolute(&format!("{base}/tokens")) },
            },
        });
        let settings = app.settings.get("oauthClient");
        for (ours, theirs) in [("client_uri", "client_uri"), ("logo_uri", "logo_uri")] {
            if let Some(v) = settings.and_then(|s| s.get(ours)).and_then(Value::as_str) {
                c[theirs] = Value::String(v.to_owned());
            }
        }
        clients.push(c);
    }
    page(&state, &ctx, &clients, |c| c["client_id"].as_str().unwrap_or_default(), Clone::clone)
}

async fn list_client_grants(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let grants = state.store.consents(&user.id, Some(&client_id), None).await?;
    page(&state, &ctx, &grants, |g| &g.id, |g| grant_json(&state, g, &ctx.params))
}

async fn revoke_client_grants(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = person(&state, &principal, &id, Permission::ManageUsers).await?;
    let grants = state.store.consents(&user.id, Some(&client_id), None).await?;
    revoke_consents(&state, &grants).await?;
    log(&state, &principal, &ctx.client, "app.oauth2.as.consent.revoke", "Revoke user consent grants for a client", &user, &client_id).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_client_tokens(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let tokens = state.store.refresh_tokens_of_user(&user.id, Some(&client_id), state.now()).await?;
    let rt = runtime(&state).await?;
    page(&state, &ctx, &tokens, |t| &t.id, |t| token_json(&state, &rt, t, &ctx.params))
}

/// A live token by id; a rotated, expired or revoked one is gone (404).
async fn live_token(state: &AppState, user: &User, client_id: &str, token_id: &str) -> ApiResult<RefreshTokenListing> {
    let live = state.store.refresh_tokens_of_user(&user.id, Some(client_id), state.now()).await?;
    live.into_iter().find(|t| t.id == token_id).ok_or_else(|| ApiError::not_found("OAuth2RefreshToken", token_id))
}

async fn get_client_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id, token_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let user = person(&state, &principal, &id, Permission::Read).await?;
    let t = live_token(&state, &user, &client_id, &token_id).await?;
    let rt = runtime(&state).await?;
    Ok(Json(token_json(&state, &rt, &t, &ctx.params)))
}

async fn revoke_client_tokens(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = person(&state, &principal, &id, Permission::ManageUsers).await?;
    revoke_tokens(&state, &user.id, &client_id, None).await?;
    log(&state, &principal, &ctx.client, "app.oauth2.as.token.revoke", "Revoke user refresh tokens for a client", &user, &client_id).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_client_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path((id, client_id, token_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let user = person(&state, &principal, &id, Permission::ManageUsers).await?;
    let t = live_token(&state, &user, &client_id, &token_id).await?;
    state.store.revoke_grant(&t.token.grant_id, state.now()).await?;
    log(&state, &principal, &ctx.client, "app.oauth2.as.token.revoke", "Revoke user refresh token", &user, &t.id).await;
    Ok(StatusCode::NO_CONTENT)
}
