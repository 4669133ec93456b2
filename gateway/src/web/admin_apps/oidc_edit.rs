//! An OpenID Connect app's own pages: the answer to Create App Integration
//! (the client secret, shown once, and the Okta API scopes granted), "Edit
//! OIDC settings" from the Sign On tab, "Generate new client secret", and
//! the scope grants of an API Service integration.
//!
//! Settings are saved through `api::update_app`; secrets and grants through
//! the functions behind `/api/v1/apps/{id}/credentials/secrets` and
//! `/api/v1/apps/{id}/grants` (`oauth::management`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::forms::oidc;
use super::{admin, field_id, fields, manager, see_other, shell, Admin, FieldErrors, Fields, FormFields, Section, View};
use crate::apps::{AppInstance, SignOnMode};
use crate::error::ApiError;
use crate::oauth::management::{self, MANAGEMENT_SCOPES};
use crate::state::AppState;
use crate::store::oauth::AppScopeGrant;
use crate::store::ts;
use crate::syslog::ClientInfo;
use crate::web::{csrf_field, error_page};

fn edit_url(app: &AppInstance) -> String {
    format!("/admin/apps/{}/oidc", app.id)
}

fn sign_on_url(app: &AppInstance) -> String {
    format!("/admin/apps/{}?tab=signon", app.id)
}

fn client_id(app: &AppInstance) -> &str {
    app.credentials.get("oauthClient").and_then(|c| c.get("client_id")).and_then(Value::as_str).unwrap_or(&app.id)
}

/// Whether the app authenticates with a client secret.
fn uses_secret(app: &AppInstance) -> bool {
    app.credentials
        .get("oauthClient")
        .and_then(|c| c.get("token_endpoint_auth_method"))
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("client_secret"))
}

/// The secret, once, in a read-only field to copy.
fn secret_notice(secret: &str) -> Markup {
    html! {
        section class="notice" role="status" aria-labelledby="new-secret" {
            h2 id="new-secret" { "Client secret" }
            p { strong { "Copy it now: it is not shown again." } " If it is lost, generate a new one from the app's Sign On tab." }
            label for="client-secret" { "Client secret" }
            input id="client-secret" type="text" readonly value=(secret) autocomplete="off" spellcheck="false";
        }
    }
}

/// The answer to Create App Integration for an OIDC app: its client id, its
/// secret (the only time it is shown), and the management scopes the form
/// asked to grant, granted now that the app exists.
pub(super) async fn created(
    state: &AppState,
    admin: &Admin,
    view: &View,
    client: &ClientInfo,
    form: &Fields,
    app: &AppInstance,
    shown_once: Option<Value>,
) -> Response {
    let principal = admin.principal();
    let mut granted = Vec::new();
    let mut refused = Vec::new();
    for scope in oidc::scope_grants(form) {
        let body = json!({ "scopeId": scope, "issuer": state.config.absolute("") });
        let body: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        match management::grant_app_scope(state, &principal, client, &app.id, &body).await {
            Ok((grant, _)) => granted.push(grant.scope_id),
            Err(e) => refused.push((scope, e.causes.first().cloned().unwrap_or(e.summary))),
        }
    }
    let secret = shown_once.as_ref().and_then(|s| s.get("client_secret")).and_then(Value::as_str);
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › " (app.label) }
        h1 { (app.label) " was created" }
        dl class="settings" {
            dt { "Client ID" } dd { code { (client_id(app)) } }
            dt { "Sign-on method" } dd { (app.sign_on_mode.label()) }
        }
        @if let Some(secret) = secret { (secret_notice(secret)) }
        @if !granted.is_empty() {
            p { "Okta API scopes granted: " @for (i, s) in granted.iter().enumerate() { @if i > 0 { ", " } code { (s) } } "." }
        }
        @if !refused.is_empty() {
            div class="error" role="alert" {
                p { strong { "The app was created, but these scopes were not granted:" } }
                ul { @for (scope, why) in &refused { li { code { (scope) } ": " (why) } } }
                p { "Grant them from " a href=(edit_url(app)) { "the app's OIDC settings" } "." }
            }
        }
        p class="actions" {
            a class="button" href=(format!("/admin/apps/{}?tab=assignments", app.id)) { "Assign people and groups" }
            a class="button secondary" href=(sign_on_url(app)) { "Go to the app" }
        }
    };
    let status = if refused.is_empty() { StatusCode::CREATED } else { StatusCode::OK };
    view.respond(status, shell(state, admin, &view.csrf, &app.label, Section::Applications, body))
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    /// A short confirmation after a change.
    #[serde(default)]
    done: String,
}

/// What the edit page shows besides the app: a refused form, a new secret.
#[derive(Default)]
struct Outcome<'a> {
    errors: FieldErrors,
    form: Option<&'a Fields>,
    secret: Option<String>,
    done: &'a str,
}

async fn load(state: &AppState, id: &str) -> Result<AppInstance, Response> {
    match state.store.app(id).await {
        Ok(Some(app)) if app.sign_on_mode == SignOnMode::OpenIdConnect => Ok(app),
        Ok(Some(_)) => Err(error_page(state, StatusCode::NOT_FOUND, "Not an OpenID Connect app", "That application does not use OpenID Connect.")),
        Ok(None) => Err(error_page(state, StatusCode::NOT_FOUND, "No such application", "That application does not exist.")),
        Err(_) => Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The application could not be loaded.")),
    }
}

fn grants_section(admin: &Admin, view: &View, app: &AppInstance, grants: &[AppScopeGrant], errors: &FieldErrors) -> Markup {
    let can = admin.can_manage();
    let remaining: Vec<&str> = MANAGEMENT_SCOPES.iter().copied().filter(|s| !grants.iter().any(|g| g.scope_id == *s)).collect();
    let select_id = field_id(oidc::SCOPE_GRANTS);
    let error = errors.get(oidc::SCOPE_GRANTS);
    html! {
        section aria-labelledby="okta-scopes" {
            h2 id="okta-scopes" { "Okta API scopes" }
            p { "The scopes of Vestibule's management API (/api/v1) this app may ask the org authorization server for with client credentials. A token acts with exactly these." }
            @if grants.is_empty() {
                p class="empty" { "No scopes granted." }
            } @else {
                table {
                    caption { "Scopes granted to " (app.label) }
                    thead { tr { th scope="col" { "Scope" } th scope="col" { "Granted" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                    tbody {
                        @for g in grants {
                            tr {
                                th scope="row" { code { (g.scope_id) } }
                                td { (ts(g.created)) }
                                td {
                                    @if can {
                                        form method="post" action=(format!("/admin/apps/{}/oidc/grants/{}/revoke", app.id, urlencoding::encode(&g.id))) class="inline" {
                                            (csrf_field(&view.csrf))
                                            button type="submit" class="small" aria-label=(format!("Revoke {}", g.scope_id)) { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if can && !remaining.is_empty() {
                form method="post" action=(format!("/admin/apps/{}/oidc/grants", app.id)) class="row" {
                    (csrf_field(&view.csrf))
                    div {
                        label for=(select_id) { "Scope to grant" }
                        @if let Some(e) = error { p class="field-error" id=(format!("{select_id}-error")) { (e) } }
                        select id=(select_id) name=(oidc::SCOPE_GRANTS) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{select_id}-error"))] {
                            @for s in &remaining { option value=(s) { (s) } }
                        }
                    }
                    button type="submit" { "Grant" }
                }
            }
        }
    }
}

async fn render(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, outcome: &Outcome<'_>) -> Markup {
    let can = admin.can_manage();
    let stored = oidc::from_app(app);
    let form = outcome.form.unwrap_or(&stored);
    let grants = management::app_grants(state, &admin.principal(), &app.id).await;
    let mut labels = oidc::labels();
    labels.push(("credentials.oauthClient", "Client authentication"));
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › " a href=(sign_on_url(app)) { (app.label) } " › OIDC settings" }
        h1 { "OIDC settings of " (app.label) }
        @if !outcome.done.is_empty() {
            p class="notice" role="status" { (match outcome.done { "granted" => "Scope granted.", "revoked" => "Scope grant revoked.", _ => "Saved." }) }
        }
        dl class="settings" { dt { "Client ID" } dd { code { (client_id(app)) } } }
        @if let Some(secret) = &outcome.secret { (secret_notice(secret)) }
        (outcome.errors.summary(&labels))
        form method="post" action=(edit_url(app)) novalidate {
            (csrf_field(&view.csrf))
            (oidc::settings_fields(form, &outcome.errors, !can))
            @if can {
                div class="actions" {
                    button type="submit" { "Save" }
                    " " a href=(sign_on_url(app)) { "Cancel" }
                }
            }
        }
        section aria-labelledby="client-secret-heading" {
            h2 id="client-secret-heading" { "Client secret" }
            @if uses_secret(app) {
                p { "The secret was shown once, when it was made. A new one replaces it: the old one stops working at once." }
                @if can {
                    form method="post" action=(format!("/admin/apps/{}/oidc/secret", app.id)) {
                        (csrf_field(&view.csrf))
                        button type="submit" { "Generate new client secret" }
                    }
                }
            } @else {
                p { "This app does not authenticate with a client secret. To use one, choose a client secret under Client authentication and save, then generate it here." }
            }
        }
        @match &grants {
            Ok(grants) => (grants_section(admin, view, app, grants, &outcome.errors)),
            Err(_) => p class="error" role="alert" { "The Okta API scopes of this app could not be loaded. Reload the page to try again." },
        }
    };
    shell(state, admin, &view.csrf, &format!("OIDC settings of {}", app.label), Section::Applications, body)
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<EditQuery>) -> Response {
    let admin = match admin(&state, &headers, &format!("/admin/apps/{}/oidc", urlencoding::encode(&id))).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let outcome = Outcome { done: &query.done, ..Outcome::default() };
    view.respond(StatusCode::OK, render(&state, &admin, &view, &app, &outcome).await)
}

async fn guarded(state: &AppState, headers: &HeaderMap, id: &str, form: &Fields) -> Result<(Admin, AppInstance), Response> {
    let admin = manager(state, headers, &format!("/admin/apps/{}/oidc", urlencoding::encode(id)), form.get("csrf")).await?;
    let app = load(state, id).await?;
    Ok((admin, app))
}

/// The page again after a refusal, with the API's causes by their fields.
async fn refused(state: &AppState, headers: &HeaderMap, admin: &Admin, app: &AppInstance, error: &ApiError, form: Option<&Fields>) -> Response {
    if error.status == StatusCode::NOT_FOUND {
        return error_page(state, StatusCode::NOT_FOUND, "Not found", "That application or grant does not exist.");
    }
    let view = View::new(state, headers);
    let outcome = Outcome { errors: FieldErrors::from_api(error), form, ..Outcome::default() };
    let status = if error.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
    view.respond(status, render(state, admin, &view, app, &outcome).await)
}

/// POST /admin/apps/{id}/oidc: the settings, through `api::update_app`.
pub async fn save(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut settings = app.settings.clone();
    let mut oauth_settings = settings.get("oauthClient").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut credentials = app.credentials.clone();
    credentials.remove("signing");
    let mut oauth_credentials = credentials.get("oauthClient").and_then(Value::as_object).cloned().unwrap_or_default();
    oidc::apply(&form, &mut oauth_settings, &mut oauth_credentials);
    settings.insert("oauthClient".into(), Value::Object(oauth_settings));
    credentials.insert("oauthClient".into(), Value::Object(oauth_credentials));
    let mut body = Map::new();
    body.insert("settings".into(), Value::Object(settings));
    body.insert("credentials".into(), Value::Object(credentials));
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::update_app(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}&done=saved", sign_on_url(&app))),
        Err(e) => refused(&state, &headers, &admin, &app, &e, Some(&form)).await,
    }
}

/// POST /admin/apps/{id}/oidc/secret: a new secret, shown on this answer only.
pub async fn new_secret(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if !uses_secret(&app) {
        let e = ApiError::field("credentials.oauthClient.token_endpoint_auth_method", "the app does not authenticate with a client secret");
        return refused(&state, &headers, &admin, &app, &e, None).await;
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    match management::new_client_secret(&state, &admin.principal(), &client, &app.id).await {
        Ok(secret) => {
            let view = View::new(&state, &headers);
            let outcome = Outcome { secret: Some(secret), ..Outcome::default() };
            view.respond(StatusCode::OK, render(&state, &admin, &view, &app, &outcome).await)
        }
        Err(e) => refused(&state, &headers, &admin, &app, &e, None).await,
    }
}

/// POST /admin/apps/{id}/oidc/grants: grants one management scope.
pub async fn grant(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let body = json!({ "scopeId": form.get(oidc::SCOPE_GRANTS), "issuer": state.config.absolute("") });
    let body: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
    let client = crate::auth::client_info(&headers, Some(peer));
    match management::grant_app_scope(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}?done=granted", edit_url(&app))),
        Err(e) => refused(&state, &headers, &admin, &app, &e, None).await,
    }
}

/// POST /admin/apps/{id}/oidc/grants/{grant_id}/revoke
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, grant_id)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    match management::revoke_app_grant(&state, &admin.principal(), &client, &app.id, &grant_id).await {
        Ok(()) => see_other(&format!("{}?done=revoked", edit_url(&app))),
        Err(e) => refused(&state, &headers, &admin, &app, &e, None).await,
    }
}
