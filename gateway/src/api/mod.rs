//! The management and authentication APIs, in Okta's URL layout and JSON shapes.

mod apps;
mod authn;
mod groups;
mod logs;
mod sessions;
mod tokens;
mod users;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use apps::{app_json, app_link_json, catalog_query, create_app, create_app_full, delete_app_key, generate_app_key, launchable_links, set_app_status, update_app};
pub use tokens::revoke_token as revoke_api_token;
pub use users::{user_json, validate_profile};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authn", post(authn::primary))
        .route("/api/v1/sessions", post(sessions::create))
        .route("/api/v1/sessions/me", get(sessions::get_me).delete(sessions::delete_me))
        .route("/api/v1/sessions/me/lifecycle/refresh", post(sessions::refresh_me))
        .route("/api/v1/sessions/{id}", get(sessions::get_one).delete(sessions::delete_one))
        .route("/api/v1/sessions/{id}/lifecycle/refresh", post(sessions::refresh_one))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{id}", get(users::get_one).post(users::update).put(users::replace).delete(users::delete))
        .route("/api/v1/users/{id}/lifecycle/{op}", post(users::lifecycle))
        .route("/api/v1/users/{id}/credentials/change_password", post(users::change_password))
        .route("/api/v1/users/{id}/groups", get(users::groups))
        .route("/api/v1/users/{id}/sessions", axum::routing::delete(users::revoke_sessions))
        .route("/api/v1/users/{id}/roles", get(users::roles).post(users::grant_role))
        .route("/api/v1/users/{id}/roles/{role_id}", axum::routing::delete(users::revoke_role))
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route("/api/v1/groups/{id}", get(groups::get_one).put(groups::replace).delete(groups::delete))
        .route("/api/v1/groups/{id}/users", get(groups::members))
        .route("/api/v1/groups/{id}/users/{user_id}", put(groups::add_member).delete(groups::remove_member))
        .route("/api/v1/logs", get(logs::list))
        .route("/api/v1/apps", get(apps::list).post(apps::create))
        .route("/api/v1/apps/{id}", get(apps::get_one).put(apps::replace).delete(apps::delete))
        .route("/api/v1/apps/{id}/lifecycle/{op}", post(apps::lifecycle))
        .route("/api/v1/apps/{id}/users", get(apps::users).post(apps::assign_user))
        .route("/api/v1/apps/{id}/users/{user_id}", get(apps::get_user).post(apps::update_user).delete(apps::unassign_user))
        .route("/api/v1/apps/{id}/groups", get(apps::groups))
        .route("/api/v1/apps/{id}/groups/{group_id}", get(apps::get_group).put(apps::assign_group).delete(apps::unassign_group))
        .route("/api/v1/apps/{id}/credentials/keys", get(apps::keys))
        .route("/api/v1/apps/{id}/credentials/keys/generate", post(apps::generate))
        .route("/api/v1/apps/{id}/credentials/keys/{kid}", get(apps::key).delete(apps::delete_key))
        .route("/api/v1/users/{id}/appLinks", get(apps::app_links))
        .route("/api/v1/groups/{id}/apps", get(apps::group_apps))
        .route("/api/v1/catalog/apps", get(apps::catalog_search))
        .route("/api/v1/catalog/apps/{name}", get(apps::catalog_entry))
        .route("/api/v1/catalog/lifecycle/reload", post(apps::catalog_reload))
        .route("/api/v1/api-tokens", get(tokens::list))
        .route("/api/v1/api-tokens/current", axum::routing::delete(tokens::revoke_current))
        .route("/api/v1/api-tokens/{id}", get(tokens::get_one).delete(tokens::revoke))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
}

/// A JSON request body, read within the size limit and parsed into `T`.
/// Every failure is an Okta error naming what is wrong.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(state.config.limits.max_body_bytes)
            } else {
                ApiError::malformed("body: could not be read")
            }
        })?;
        if let Some(ct) = content_type {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::unsupported_media_type());
            }
        }
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed("body: a JSON object is required"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::malformed(format!("body: not valid JSON ({inner})"))
            }
            _ if path == "." => ApiError::malformed(format!("body: {inner}")),
            _ => ApiError::malformed(format!("{path}: {inner}")),
        }
    })?;
    deserializer.end().map_err(|e| ApiError::malformed(format!("body: not valid JSON ({e})")))?;
    Ok(value)
}

/// Query parameters, decoded once. Repeated names keep the first value.
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn from_uri(uri: &axum::http::Uri) -> Self {
        let mut map = HashMap::new();
        if let Some(q) = uri.query() {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
            }
        }
        Self(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// `limit`, bounded; a non-number is a 400 naming it.
    pub fn limit(&self, default: i64, max: i64) -> ApiResult<i64> {
        match self.get("limit") {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(n.min(max)),
                _ => Err(ApiError::field("limit", "must be a whole number from 1")),
            },
        }
    }

    /// A boolean parameter such as `activate=false`.
    pub fn flag(&self, name: &str, default: bool) -> ApiResult<bool> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(ApiError::field(name, "must be true or false")),
        }
    }
}

/// A page of results with Okta's Link headers: `self` and, when there may be
/// more, `next` with the `after` cursor.
pub fn paged(state: &AppState, path: &str, params: &Params, body: serde_json::Value, next_after: Option<String>) -> Response {
    let mut response = axum::Json(body).into_response();
    let link = |after: Option<&str>| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let mut keys: Vec<&String> = params.0.keys().filter(|k| k.as_str() != "after").collect();
        keys.sort();
        for k in keys {
            query.append_pair(k, &params.0[k]);
        }
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        let query = query.finish();
        let sep = if query.is_empty() { "" } else { "?" };
        format!("<{}{sep}{query}>", state.config.absolute(path))
    };
    let headers = response.headers_mut();
    let self_link = match params.get("after") {
        Some(after) => link(Some(after)),
        None => link(None),
    };
    if let Ok(v) = HeaderValue::from_str(&format!("{self_link}; rel=\"self\"")) {
        headers.append(header::LINK, v);
    }
    if let Some(after) = next_after {
        if let Ok(v) = HeaderValue::from_str(&format!("{}; rel=\"next\"", link(Some(&after)))) {
            headers.append(header::LINK, v);
        }
    }
    response
}

/// The peer address the server recorded for this connection.
pub fn peer(extensions: &axum::http::Extensions) -> Option<std::net::SocketAddr> {
    extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)
}

/// Request context every handler wants: headers, peer, method and parameters.
pub struct Ctx {
    pub headers: HeaderMap,
    pub path: String,
    pub method: axum::http::Method,
    pub params: Params,
    pub client: crate::syslog::ClientInfo,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, ApiError> {
        let client = crate::auth::client_info(&parts.headers, peer(&parts.extensions));
        Ok(Ctx {
            headers: parts.headers.clone(),
            path: parts.uri.path().to_owned(),
            method: parts.method.clone(),
            params: Params::from_uri(&parts.uri),
            client,
        })
    }
}

/// The authenticated caller, resolved before the body is read, so that an
/// unauthenticated request is refused as such whatever its body holds.
pub struct Caller(pub crate::auth::Principal);

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::auth::api_principal(state, &parts.method, parts.uri.path(), &parts.headers).await.map(Caller)
    }
}
