//! The SAML 2.0 identity provider endpoints: metadata, SP- and IdP-initiated
//! single sign-on, single logout. Protocol decisions come from the `saml` crate.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use crate::apps::cache::AssignedApp;
use crate::apps::AppInstance;
use crate::directory::User;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::syslog::ClientInfo;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// A dashboard launch of a SAML app: an auto-submitting POST of a signed Response to the ACS.
pub async fn idp_initiated(
    state: &AppState,
    _app: &AppInstance,
    _assignment: &AssignedApp,
    _user: &User,
    _session: &SessionRecord,
    _client: &ClientInfo,
) -> Response {
    crate::web::error_page(state, StatusCode::NOT_IMPLEMENTED, "Sign-on not available", "SAML 2.0 sign-on is not available in this version of Vestibule.")
}
