//! /api/v1/sessions: the caller's own session (by cookie) and, for admins,
//! any session by id.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Caller, Ctx, JsonBody};
use crate::auth::{self, Credential};
use crate::crypto::digest_token;
use crate::directory::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder};
use crate::store::{ts, SessionRecord};
use crate::syslog::{Actor, Target};

fn session_json(state: &AppState, s: &SessionRecord, login: &str) -> Value {
    let expires = s.expires_at.min(s.last_active + state.config.session.idle);
    let base = state.config.absolute(&format!("/api/v1/sessions/{}", s.id));
    json!({
        "id": s.id,
        "userId": s.user_id,
        "login": login,
        "createdAt": ts(s.created),
        "expiresAt": ts(expires),
        "status": "ACTIVE",
        "lastPasswordVerification": ts(s.created),
        "lastFactorVerification": null,
        "amr": ["pwd"],
        "idp": { "id": "00ovestibule", "type": "OKTA" },
        "mfaActive": false,
        "_links": {
            "self": { "href": base },
            "refresh": { "href": format!("{base}/lifecycle/refresh"), "hints": { "allow": ["POST"] } },
            "user": { "href": state.config.absolute(&format!("/api/v1/users/{}", s.user_id)) },
        },
    })
}

async fn own_session(state: &AppState, ctx: &Ctx) -> ApiResult<(Arc<SessionRecord>, String)> {
    let principal = auth::api_principal(state, &ctx.method, &ctx.path, &ctx.headers).await?;
    match principal.credential {
        Credential::Session(s) => Ok((s, principal.user.login().to_owned())),
        Credential::ApiToken(_) | Credential::AccessToken(_) => {
            Err(ApiError::invalid_session().with_cause("sid: /sessions/me needs the session cookie"))
        }
    }
}

pub async fn get_me(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let (session, login) = own_session(&state, &ctx).await?;
    Ok(Json(session_json(&state, &session, &login)))
}

pub async fn refresh_me(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let (session, login) = own_session(&state, &ctx).await?;
    Ok(Json(session_json(&state, &refresh(&state, &session).await?, &login)))
}

async fn refresh(state: &AppState, session: &SessionRecord) -> ApiResult<SessionRecord> {
    let now = state.now();
    state.store.touch_session(&session.id, now).await?;
    let mut refreshed = session.clone();
    refreshed.last_active = now;
    state.caches.sessions.insert(refreshed.cookie_digest.clone(), Arc::new(refreshed.clone())).await;
    Ok(refreshed)
}

pub async fn delete_me(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let (session, _) = own_session(&state, &ctx).await?;
    end(&state, &ctx, &session).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(crate::web::CLEAR_SESSION_COOKIE));
    Ok(response)
}

async fn end(state: &AppState, ctx: &Ctx, session: &SessionRecord) -> ApiResult<()> {
    auth::end_session(state, session).await;
    let actor = match auth::load_principal(state, &session.user_id).await? {
        Some(p) => Actor::user(&p.user),
        None => Actor::unknown(&session.user_id),
    };
    state
        .log(
            EventBuilder::new("user.session.end", "User logout from Vestibule", actor, &ctx.client)
                .target(Target::other(&session.id, "Session", "Vestibule session")),
        )
        .await;
    Ok(())
}

async fn admin_find(state: &AppState, ctx: &Ctx, id: &str, permission: Permission) -> ApiResult<SessionRecord> {
    let principal = auth::api_principal(state, &ctx.method, &ctx.path, &ctx.headers).await?;
    principal.require(permission)?;
    let session = state.store.session(id).await?.ok_or_else(|| ApiError::not_found("Session", id))?;
    if session.expires_at <= state.now() {
        return Err(ApiError::not_found("Session", id));
    }
    Ok(session)
}

async fn login_of(state: &AppState, user_id: &str) -> ApiResult<String> {
    Ok(auth::load_principal(state, user_id).await?.map(|p| p.user.login().to_owned()).unwrap_or_default())
}

pub async fn get_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let session = admin_find(&state, &ctx, &id, Permission::Read).await?;
    Ok(Json(session_json(&state, &session, &login_of(&state, &session.user_id).await?)))
}

pub async fn refresh_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let session = admin_find(&state, &ctx, &id, Permission::ManageUsers).await?;
    let refreshed = refresh(&state, &session).await?;
    Ok(Json(session_json(&state, &refreshed, &login_of(&state, &session.user_id).await?)))
}

pub async fn delete_one(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let session = admin_find(&state, &ctx, &id, Permission::ManageUsers).await?;
    end(&state, &ctx, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    #[serde(rename = "sessionToken")]
    session_token: String,
}

/// POST /api/v1/sessions: exchanges a session token for a session (an admin
/// call, as in Okta). The answer names the session; no cookie is set.
pub async fn create(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, JsonBody(body): JsonBody<CreateSession>) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageUsers)?;
    let user_id = state
        .store
        .take_one_time_token(&digest_token(&body.session_token), "session", state.now())
        .await?
        .ok_or_else(|| ApiError::authentication_failed().with_cause("sessionToken: invalid or expired"))?;
    let user = auth::load_principal(&state, &user_id).await?.ok_or_else(ApiError::authentication_failed)?;
    let (_cookie, session) = crate::signin::start_session(&state, &user.user, &ctx.client).await?;
    Ok(Json(session_json(&state, &session, user.user.login())))
}
