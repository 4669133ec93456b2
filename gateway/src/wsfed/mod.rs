//! WS-Federation passive requestor profile: SAML 1.1 or 2.0 tokens in a
//! RequestSecurityTokenResponse.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use crate::apps::cache::AssignedApp;
use crate::apps::AppInstance;
use crate::directory::User;
use crate::state::AppState;
use crate::syslog::ClientInfo;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// A dashboard launch of a WS-Federation app.
pub async fn idp_initiated(state: &AppState, _app: &AppInstance, _assignment: &AssignedApp, _user: &User, _client: &ClientInfo) -> Response {
    crate::web::error_page(state, StatusCode::NOT_IMPLEMENTED, "Sign-on not available", "WS-Federation is not available in this version of Vestibule.")
}

/// A session's sign-in to a WS-Federation app, kept until the session ends
/// so that signing out sends wsignoutcleanup1.0 to every app it reached.
#[derive(Debug, Clone)]
pub struct WsFedSignIn {
    pub session_id: String,
    pub app_id: String,
    pub reply_url: String,
    pub created: time::OffsetDateTime,
}
