//! Who is calling: sessions (the `sid` cookie) for people and SSWS API
//! tokens for scripts, and what their admin roles let them do.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, HeaderMap, Method};
use time::OffsetDateTime;

use crate::crypto::digest_token;
use crate::directory::{AdminRole, Permission, User, UserStatus};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, CachedPrincipal, Invalidation};
use crate::store::{ApiTokenRecord, SessionRecord};
use crate::syslog::ClientInfo;

pub const SESSION_COOKIE: &str = "sid";

/// How a principal proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    ApiToken(Arc<ApiTokenRecord>),
    Session(Arc<SessionRecord>),
    /// An OAuth 2.0 access token from the org authorization server.
    AccessToken(Arc<oidc::AccessToken>),
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub roles: Vec<AdminRole>,
    pub credential: Credential,
}

impl Principal {
    pub fn can(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| r.grants(permission))
    }

    /// Fails with E0000006 unless one of the principal's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.can(permission) { Ok(()) } else { Err(ApiError::forbidden()) }
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Where the request came from. The peer address is the TCP peer's; headers
/// such as X-Forwarded-For are not trusted, since anyone can send them.
pub fn client_info(headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    ClientInfo {
        ip: peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect())
            .unwrap_or_default(),
        request_id: vestibule_core::id::random_token(20, &mut rand::thread_rng()),
    }
}

/// The live session named by the request's cookie, if any. Reads the cache
/// first; refreshes the idle timer in the store at most once a minute.
pub async fn session(state: &AppState, headers: &HeaderMap) -> Option<Arc<SessionRecord>> {
    let token = cookie(headers, SESSION_COOKIE)?;
    if token.is_empty() || token.len() > 128 {
        return None;
    }
    let digest = digest_token(token);
    let now = state.now();
    let cached = state.caches.sessions.get(&digest).await;
    state.metrics.cache_lookup("sessions", cached.is_some());
    let record = match cached {
        Some(record) => record,
        None => {
            let record = Arc::new(state.store.session_by_cookie(&digest).await.ok()??);
            state.caches.sessions.insert(digest.clone(), record.clone()).await;
            record
        }
    };
    let idle_deadline = record.last_active + state.config.session.idle;
    if record.expires_at <= now || idle_deadline <= now {
        end_session(state, &record).await;
        return None;
    }
    if now - record.last_active > time::Duration::minutes(1) {
        let mut touched = (*record).clone();
        touched.last_active = now;
        let touched = Arc::new(touched);
        if state.store.touch_session(&record.id, now).await.is_ok() {
            state.caches.sessions.insert(digest, touched.clone()).await;
        }
        return Some(touched);
    }
    Some(record)
}

/// Ends a session in the store and in the caches.
pub async fn end_session(state: &AppState, record: &SessionRecord) {
    if let Ok(Some(_)) = state.store.delete_session(&record.id).await {
        state.metrics.active_sessions.dec();
    }
    state.invalidate(Invalidation::Session { cookie_digest: record.cookie_digest.clone() }).await;
}

/// Ends every session a user has (deactivation, suspension, password reset).
pub async fn end_user_sessions(state: &AppState, user_id: &str) -> usize {
    let digests = state.store.delete_user_sessions(user_id).await.unwrap_or_default();
    state.metrics.active_sessions.sub(digests.len() as i64);
    for digest in &digests {
        state.invalidate(Invalidation::Session { cookie_digest: digest.clone() }).await;
    }
    digests.len()
}

/// The user and roles behind a user id, through the principal cache.
pub async fn load_principal(state: &AppState, user_id: &str) -> ApiResult<Option<Arc<CachedPrincipal>>> {
    if let Some(found) = state.caches.principals.get(user_id).await {
        state.metrics.cache_lookup("principals", true);
        return Ok(Some(found));
    }
    state.metrics.cache_lookup("principals", false);
    let Some(record) = state.store.user(user_id).await? else { return Ok(None) };
    let roles = state.store.roles_of(user_id).await?.into_iter().map(|(_, role, _)| role).collect();
    let principal = Arc::new(CachedPrincipal { user: record.user, roles });
    state.caches.principals.insert(user_id.to_owned(), principal.clone()).await;
    Ok(Some(principal))
}

fn usable(status: UserStatus) -> bool {
    !matches!(status, UserStatus::Suspended | UserStatus::Deprovisioned | UserStatus::Staged)
}

/// Authenticates an API request: `Authorization: SSWS <token>`, or the
/// session cookie. A cookie-authenticated request that changes state must
/// come from our own origin (a browser sends `Origin` on such requests), so
/// another site cannot make a signed-in person's browser call the API.
///
/// `path` is the request path: bearer-token principals (OAuth service apps)
/// are limited by scope per resource, which the path names.
pub async fn api_principal(state: &AppState, method: &Method, path: &str, headers: &HeaderMap) -> ApiResult<Principal> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::invalid_token())?;
        if let Some(token) = value.strip_prefix("Bearer ").map(str::trim) {
            if token.is_empty() || token.len() > 16 * 1024 {
                return Err(ApiError::invalid_token());
            }
            let principal = crate::oauth::bearer_principal(state, token).await?;
            let Credential::AccessToken(at) = &principal.credential else { return Err(ApiError::invalid_token()) };
            // Each route needs the scope of its resource: read for GET and
            // HEAD, manage otherwise; routes outside those resources take no
            // bearer token at all.
            let needed = crate::oauth::management_scope(method, path)
                .ok_or_else(|| ApiError::forbidden().with_cause("This resource does not accept OAuth access tokens"))?;
            oidc::management::require_scope(at, &needed).map_err(|e| ApiError::forbidden().with_cause(e.description.to_string()))?;
            return Ok(principal);
        }
        // Okta's Python SDK (3.4) sends `SSWS<token>` without the space, and
        // Okta accepts it; so do we.
        let Some(token) = value.strip_prefix("SSWS").map(str::trim) else {
            return Err(ApiError::invalid_token());
        };
        if token.is_empty() || token.len() > 256 {
            return Err(ApiError::invalid_token());
        }
        let record = api_token(state, token).await?.ok_or_else(ApiError::invalid_token)?;
        let principal = load_principal(state, &record.user_id).await?.ok_or_else(ApiError::invalid_token)?;
        if !usable(principal.user.status) {
            return Err(ApiError::invalid_token());
        }
        let now = state.now();
        if record.last_used.is_none_or(|t| now - t > time::Duration::minutes(5)) {
            touch_token(state, token, &record, now).await;
        }
        return Ok(Principal {
            user: principal.user.clone(),
            roles: principal.roles.clone(),
            credential: Credential::ApiToken(record),
        });
    }
    let Some(session) = session(state, headers).await else { return Err(ApiError::invalid_session()) };
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin != Some(state.config.public_origin().as_str()) {
            return Err(ApiError::forbidden().with_cause("Origin: a cookie-authenticated change must come from this site"));
        }
    }
    let principal = load_principal(state, &session.user_id).await?.ok_or_else(ApiError::invalid_session)?;
    if !usable(principal.user.status) {
        return Err(ApiError::invalid_session());
    }
    Ok(Principal { user: principal.user.clone(), roles: principal.roles.clone(), credential: Credential::Session(session) })
}

async fn api_token(state: &AppState, token: &str) -> ApiResult<Option<Arc<ApiTokenRecord>>> {
    let digest = digest_token(token);
    if let Some(found) = state.caches.api_tokens.get(&digest).await {
        state.metrics.cache_lookup("api_tokens", true);
        return Ok(Some(found));
    }
    state.metrics.cache_lookup("api_tokens", false);
    let Some(record) = state.store.api_token_by_digest(&digest).await? else { return Ok(None) };
    let record = Arc::new(record);
    state.caches.api_tokens.insert(digest, record.clone()).await;
    Ok(Some(record))
}

async fn touch_token(state: &AppState, token: &str, record: &ApiTokenRecord, now: OffsetDateTime) {
    if state.store.touch_api_token(&record.id, now).await.is_ok() {
        let mut touched = record.clone();
        touched.last_used = Some(now);
        state.caches.api_tokens.insert(digest_token(token), Arc::new(touched)).await;
    }
}
