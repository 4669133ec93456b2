//! Secure Web Authentication: stored usernames and passwords, sealed in the
//! vault, auto-posted to an app's own sign-in form.

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

/// A dashboard launch of an SWA (AUTO_LOGIN) app.
pub async fn launch(state: &AppState, _app: &AppInstance, _assignment: &AssignedApp, _user: &User, _client: &ClientInfo) -> Response {
    crate::web::error_page(state, StatusCode::NOT_IMPLEMENTED, "Sign-on not available", "Secure Web Authentication is not available in this version of Vestibule.")
}
