//! An OIDC app's groups claim for ID tokens of the org authorization
//! server: Okta's "Groups claim type: Filter" on the app's Sign On tab,
//! which Okta keeps at `/api/v1/internal/apps/{appId}/settings/oauth/idToken`
//! (the endpoint Okta's Terraform provider uses) in this shape:
//!
//! ```json
//! { "issuerMode": "ORG_URL", "name": "groups", "valueType": "GROUPS",
//!   "groupFilterType": "STARTS_WITH", "value": "app-" }
//! ```
//!
//! `groupFilterType` is STARTS_WITH, EQUALS, CONTAINS (ignoring case) or
//! REGEX (matching the whole group name). Okta's other kind, an expression
//! (`valueType: EXPRESSION`), needs Okta's expression language, which
//! Vestibule does not evaluate; it is refused. The claim appears in ID
//! tokens and UserInfo answers of the org server when the `groups` scope
//! was granted.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use oidc::{GroupFilter, GroupsClaim};
use serde_json::{json, Map, Value};

use crate::api::{Caller, Ctx, JsonBody};
use crate::apps::SignOnMode;
use crate::directory::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::syslog::{Actor, Target};

const PATH: &str = "/api/v1/internal/apps/{id}/settings/oauth/idToken";

/// Claims an app's groups claim may not take the name of: the ID token's
/// own (OIDC Core §2) and the standard ones of §5.1.
const RESERVED: [&str; 22] = [
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid", "jti", "ver", "idp",
    "name", "email", "email_verified", "preferred_username", "address", "phone_number",
];

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(http_get).post(http_set).delete(http_delete))
}

/// A stored groups claim as the `oidc` crate applies it; `None` when it no
/// longer parses, which the API prevents.
pub fn groups_claim_of(data: &Map<String, Value>) -> Option<GroupsClaim> {
    let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    Some(GroupsClaim { name: text("name").to_owned(), filter: GroupFilter::from_okta(text("groupFilterType"), text("value"))? })
}

async fn oidc_app(state: &AppState, id: &str) -> ApiResult<std::sync::Arc<crate::apps::AppInstance>> {
    match crate::apps::cache::app(state, id).await? {
        Some(app) if app.sign_on_mode == SignOnMode::OpenIdConnect => Ok(app),
        _ => Err(ApiError::not_found("AppInstance", id)),
    }
}

fn shape(data: Option<&Map<String, Value>>) -> Value {
    match data {
        Some(d) => Value::Object(d.clone()),
        // What Okta answers for an app without one.
        None => json!({ "issuerMode": "ORG_URL" }),
    }
}

fn validate(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut causes = Vec::new();
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim);
    match text("valueType") {
        Some("GROUPS") => {}
        Some("EXPRESSION") => causes.push("valueType: expression claims (Okta Expression Language) are not supported; use GROUPS".to_owned()),
        _ => causes.push("valueType: must be GROUPS".to_owned()),
    }
    let name = text("name").unwrap_or_default();
    let name_ok = !name.is_empty() && name.len() <= 100 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if !name_ok {
        causes.push("name: must be a claim name of letters, digits, '_', '-' or '.'".to_owned());
    } else if RESERVED.contains(&name) {
        causes.push(format!("name: {name} is a reserved claim"));
    }
    let filter_type = text("groupFilterType").unwrap_or_default();
    let value = text("value").unwrap_or_default();
    if value.is_empty() || value.len() > 1024 {
        causes.push("value: The field cannot be left blank".to_owned());
    } else if !["STARTS_WITH", "EQUALS", "CONTAINS", "REGEX"].contains(&filter_type) {
        causes.push("groupFilterType: must be STARTS_WITH, EQUALS, CONTAINS or REGEX".to_owned());
    } else if GroupFilter::from_okta(filter_type, value).is_none() {
        causes.push("value: not a valid regular expression".to_owned());
    }
    if let Some(mode) = text("issuerMode") {
        if mode != "ORG_URL" {
            causes.push("issuerMode: must be ORG_URL".to_owned());
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::validation(causes));
    }
    Ok(json!({
        "issuerMode": "ORG_URL",
        "name": name,
        "valueType": "GROUPS",
        "groupFilterType": filter_type,
        "value": value,
    })
    .as_object()
    .cloned()
    .unwrap_or_default())
}

async fn http_get(State(state): State<AppState>, Caller(principal): Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    principal.require(Permission::Read)?;
    let app = oidc_app(&state, &id).await?;
    Ok(Json(shape(state.store.app_groups_claim(&app.id).await?.as_ref())))
}

/// POST: sets (replaces) the app's groups claim.
async fn http_set(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    principal.require(Permission::ManageApps)?;
    let app = oidc_app(&state, &id).await?;
    let data = validate(&body)?;
    state.store.put_app_groups_claim(&app.id, &data, state.now()).await?;
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("application.lifecycle.update", "Update application", Actor::user(&principal.user), &ctx.client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("groupsClaim", Value::Object(data.clone())),
        )
        .await;
    Ok(Json(Value::Object(data)))
}

/// DELETE: the app's ID tokens go back to the server's groups claim.
async fn http_delete(State(state): State<AppState>, Caller(principal): Caller, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    principal.require(Permission::ManageApps)?;
    let app = oidc_app(&state, &id).await?;
    if !state.store.delete_app_groups_claim(&app.id).await? {
        return Err(ApiError::not_found("GroupsClaim", &app.id));
    }
    state.invalidate(Invalidation::App { id: app.id.clone() }).await;
    state
        .log(
            EventBuilder::new("application.lifecycle.update", "Update application", Actor::user(&principal.user), &ctx.client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("groupsClaim", Value::Null),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_cases() {
        let ok = json!({ "valueType": "GROUPS", "name": "groups", "groupFilterType": "REGEX", "value": "app-.*" });
        let cases: Vec<(Value, bool)> = vec![
            (ok.clone(), true),
            (json!({ "valueType": "GROUPS", "name": "roles", "groupFilterType": "STARTS_WITH", "value": "app-", "issuerMode": "ORG_URL" }), true),
            (json!({ "valueType": "EXPRESSION", "name": "groups", "value": "Groups.startsWith(\"OKTA\", \"IT\", 10)" }), false),
            (json!({ "valueType": "GROUPS", "name": "sub", "groupFilterType": "EQUALS", "value": "x" }), false),
            (json!({ "valueType": "GROUPS", "name": "groups", "groupFilterType": "REGEX", "value": "(" }), false),
            (json!({ "valueType": "GROUPS", "name": "groups", "groupFilterType": "SOUNDS_LIKE", "value": "x" }), false),
            (json!({ "valueType": "GROUPS", "name": "groups", "groupFilterType": "EQUALS", "value": "" }), false),
            (json!({ "valueType": "GROUPS", "name": "has space", "groupFilterType": "EQUALS", "value": "x" }), false),
            (json!({ "valueType": "GROUPS", "name": "groups", "groupFilterType": "EQUALS", "value": "x", "issuerMode": "CUSTOM_URL" }), false),
        ];
        for (body, expected) in cases {
            assert_eq!(validate(body.as_object().unwrap()).is_ok(), expected, "{body}");
        }
    }
}
