//! /api/v1/api-tokens: list and revoke SSWS tokens. Tokens are created in the
//! Admin Console or with `vestibule token create`, and shown only then.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::Ctx;
use crate::auth::{self, Credential};
use crate::directory::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::store::{ts, ApiTokenRecord};
use crate::syslog::{Actor, Target};

fn token_json(state: &AppState, t: &ApiTokenRecord) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "userId": t.user_id,
        "clientName": "Okta API",
        "created": ts(t.created),
        "lastUpdated": ts(t.last_used.unwrap_or(t.created)),
        "tokenWindow": "P30D",
        "_links": { "self": { "href": state.config.absolute(&format!("/api/v1/api-tokens/{}", t.id)) } },
    })
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let tokens = state.store.api_tokens().await?;
    Ok(Json(Value::Array(tokens.iter().map(|t| token_json(&state, t)).collect())))
}

pub async fn get_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(Permission::Read)?;
    let tokens = state.store.api_tokens().await?;
    let token = tokens.iter().find(|t| t.id == id).ok_or_else(|| ApiError::not_found("ApiToken", &id))?;
    Ok(Json(token_json(&state, token)))
}

/// Revokes a token: one's own, or anyone's with the org-management permission.
pub async fn revoke_token(state: &AppState, actor: Actor, client: &crate::syslog::ClientInfo, id: &str) -> ApiResult<()> {
    let digest = state.store.delete_api_token(id).await?.ok_or_else(|| ApiError::not_found("ApiToken", id))?;
    state.invalidate(Invalidation::ApiToken { digest }).await;
    state
        .log(EventBuilder::new("system.api_token.revoke", "Revoke API token", actor, client).target(Target::other(id, "Token", "API token")))
        .await;
    Ok(())
}

pub async fn revoke(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let tokens = state.store.api_tokens().await?;
    let token = tokens.iter().find(|t| t.id == id).ok_or_else(|| ApiError::not_found("ApiToken", &id))?;
    if token.user_id != principal.user.id {
        principal.require(Permission::ManageOrg)?;
    }
    revoke_token(&state, Actor::user(&principal.user), &ctx.client, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revoke_current(State(state): State<AppState>, ctx: Ctx) -> ApiResult<StatusCode> {
    let principal = auth::api_principal(&state, &ctx.method, &ctx.path, &ctx.headers).await?;
    let Credential::ApiToken(token) = &principal.credential else {
        return Err(ApiError::invalid_token());
    };
    revoke_token(&state, Actor::user(&principal.user), &ctx.client, &token.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
