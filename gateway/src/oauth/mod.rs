//! The OpenID Connect provider and OAuth 2.0 authorization servers, in Okta's
//! layout. Protocol decisions come from the `oidc` crate.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use crate::apps::AppInstance;
use crate::directory::User;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// A dashboard launch of an OIDC app ("Login initiated by: Either Okta or App").
pub async fn dashboard_launch(state: &AppState, _app: &AppInstance, _user: &User) -> Response {
    crate::web::error_page(state, StatusCode::NOT_IMPLEMENTED, "Sign-on not available", "OpenID Connect sign-on is not available in this version of Vestibule.")
}
