//! POST /api/v1/authn: Okta's classic Authentication API, primary
//! authentication with a password. Answers a one-time session token that
//! /login/sessionCookieRedirect (or POST /api/v1/sessions) exchanges.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use vestibule_core::Secret;

use super::{Ctx, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::signin;
use crate::state::AppState;
use crate::store::ts;

#[derive(Deserialize)]
pub struct PrimaryAuthentication {
    username: Option<String>,
    password: Option<String>,
    /// Okta clients send options (e.g. multiOptionalFactorEnroll) and context; both are accepted and unused.
    #[serde(default)]
    #[allow(dead_code)]
    options: Option<Value>,
    #[serde(default)]
    #[allow(dead_code)]
    context: Option<Value>,
}

pub async fn primary(State(state): State<AppState>, ctx: Ctx, JsonBody(body): JsonBody<PrimaryAuthentication>) -> ApiResult<Json<Value>> {
    let mut causes = Vec::new();
    let username = body.username.filter(|u| !u.trim().is_empty());
    let password = body.password.filter(|p| !p.is_empty());
    if username.is_none() {
        causes.push("username: The field cannot be left blank".to_owned());
    }
    if password.is_none() {
        causes.push("password: The field cannot be left blank".to_owned());
    }
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::validation(causes));
    };
    if username.len() > 256 || password.len() > 1024 {
        return Err(ApiError::authentication_failed());
    }
    let user = signin::authenticate(&state, username.trim(), &Secret::new(password), &ctx.client).await?;
    let (token, expires_at) = signin::issue_session_token(&state, &user).await?;
    Ok(Json(json!({
        "expiresAt": ts(expires_at),
        "status": "SUCCESS",
        "sessionToken": token,
        "_embedded": {
            "user": {
                "id": user.id,
                "passwordChanged": user.password_changed.map(ts),
                "profile": {
                    "login": user.login(),
                    "firstName": user.text("firstName"),
                    "lastName": user.text("lastName"),
                    "locale": user.profile.get("locale").and_then(Value::as_str).unwrap_or("en_US"),
                    "timeZone": user.profile.get("timeZone").and_then(Value::as_str).unwrap_or("UTC"),
                },
            },
        },
    })))
}
