//! The Admin Console's authorization-server pages (Okta's Security › API):
//! the list of custom authorization servers, Add Authorization Server, and a
//! server's page with its Settings, Scopes, Claims, Access Policies and Keys
//! tabs, with a page for each policy and each rule.
//!
//! Every change goes through the function the `/api/v1/authorizationServers`
//! handlers call (`oauth::management`), acting as the signed-in person, so
//! a page can never accept what the API would refuse; the API's
//! `errorCauses` ("audiences: …") are shown next to the field they name,
//! and form fields are named by their API path for that reason.
//!
//! This module is a child of `admin_apps` (declared there by path), so that
//! it draws with the same Admin Console toolkit: the shell and navigation,
//! the CSRF-checked admin, `Fields`, `FieldErrors` and the field helpers.
//! Pages read with the `Read` permission; changes need `ManageOrg` (the
//! Super Administrator role), as the API's do.

mod list;
mod policies;
mod server;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::{admin, Admin};
use crate::directory::Permission;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::{csrf_ok, error_page};

/// Where the pages live.
const BASE: &str = "/admin/authorization-servers";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list::show))
        .route("/admin/authorization-servers/new", get(list::new).post(list::create))
        .route("/admin/authorization-servers/{id}", get(server::show))
        .route("/admin/authorization-servers/{id}/settings", post(server::save_settings))
        .route("/admin/authorization-servers/{id}/lifecycle/{op}", post(server::lifecycle))
        .route("/admin/authorization-servers/{id}/delete", post(server::delete))
        .route("/admin/authorization-servers/{id}/scopes", post(server::add_scope))
        .route("/admin/authorization-servers/{id}/scopes/{scope_id}/delete", post(server::delete_scope))
        .route("/admin/authorization-servers/{id}/claims", post(server::add_claim))
        .route("/admin/authorization-servers/{id}/claims/{claim_id}/delete", post(server::delete_claim))
        .route("/admin/authorization-servers/{id}/keys/rotate", post(server::rotate_keys))
        .route("/admin/authorization-servers/{id}/policies", post(policies::create_policy))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}", get(policies::show_policy).post(policies::save_policy))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/lifecycle/{op}", post(policies::policy_lifecycle))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/delete", post(policies::delete_policy))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/rules", post(policies::create_rule))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/rules/new", get(policies::new_rule))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/rules/{rule_id}", get(policies::show_rule).post(policies::save_rule))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/{op}", post(policies::rule_lifecycle))
        .route("/admin/authorization-servers/{id}/policies/{policy_id}/rules/{rule_id}/delete", post(policies::delete_rule))
}

impl Admin {
    /// Whether this person may change authorization servers, as the API's
    /// `ManageOrg` checks.
    fn can_configure(&self) -> bool {
        self.person.roles.iter().any(|r| r.grants(Permission::ManageOrg))
    }
}

/// The administrator for a form that changes an authorization server: a
/// valid CSRF field and `ManageOrg`.
async fn configurer(state: &AppState, headers: &HeaderMap, here: &str, csrf: &str) -> Result<Admin, Response> {
    let admin = admin(state, headers, here).await?;
    if !csrf_ok(state, headers, csrf) {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Form expired", "The form expired or came from another site. Go back, reload the page and try again."));
    }
    if !admin.can_configure() {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Not allowed", "Changing authorization servers needs the Super Administrator role."));
    }
    Ok(admin)
}

/// The page for an API error that no form field explains: a missing
/// server (404) or a failure on our side.
fn api_error_page(state: &AppState, error: &ApiError) -> Response {
    if error.status == StatusCode::NOT_FOUND {
        return error_page(state, StatusCode::NOT_FOUND, "No such authorization server", "That authorization server, or the item on it, does not exist.");
    }
    if error.status.is_server_error() {
        return error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The authorization server could not be loaded or changed.");
    }
    error_page(state, error.status, "Not done", &error.causes.first().cloned().unwrap_or_else(|| error.summary.clone()))
}

/// The lines of a textarea, trimmed, without blank ones.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}
