//! An authorization server's page: Settings, Scopes, Claims, Access Policies
//! (drawn by `policies`) and Keys tabs, and the forms they post.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::{admin, field_id, fields, group_error, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, View};
use super::list::{server_body, server_fields, status_badge, SERVER_LABELS};
use super::{api_error_page, configurer, BASE};
use crate::error::ApiError;
use crate::oauth::management;
use crate::oauth::runtime::{LoadedServer, ROTATION_OVERLAP, ROTATION_PERIOD};
use crate::state::AppState;
use crate::web::csrf_field;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    Settings,
    Scopes,
    Claims,
    Policies,
    Keys,
}

impl Tab {
    const ALL: [Tab; 5] = [Tab::Settings, Tab::Scopes, Tab::Claims, Tab::Policies, Tab::Keys];

    fn parse(text: &str) -> Self {
        Self::ALL.into_iter().find(|t| t.key() == text).unwrap_or(Tab::Settings)
    }

    fn key(self) -> &'static str {
        match self {
            Tab::Settings => "settings",
            Tab::Scopes => "scopes",
            Tab::Claims => "claims",
            Tab::Policies => "policies",
            Tab::Keys => "keys",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Settings => "Settings",
            Tab::Scopes => "Scopes",
            Tab::Claims => "Claims",
            Tab::Policies => "Access Policies",
            Tab::Keys => "Keys",
        }
    }
}

pub(super) fn server_url(id: &str, tab: Tab) -> String {
    format!("{BASE}/{}?tab={}", urlencoding::encode(id), tab.key())
}

#[derive(Deserialize, Default)]
pub struct ServerQuery {
    #[serde(default)]
    tab: String,
    /// A short confirmation after a change.
    #[serde(default)]
    done: String,
}

/// What a form posted back wants shown: its errors and its values.
#[derive(Default)]
pub(super) struct Outcome<'a> {
    pub errors: FieldErrors,
    pub form: Option<&'a Fields>,
}

const SCOPE_LABELS: [(&str, &str); 5] =
    [("name", "Scope name"), ("description", "Description"), ("consent", "Consent"), ("default", "Default scope"), ("metadataPublish", "Metadata")];

const CLAIM_LABELS: [(&str, &str); 3] = [("group_filter_type", "Filter"), ("value", "Filter value"), ("valueType", "Claim")];

const GROUP_FILTERS: [(&str, &str); 4] =
    [("STARTS_WITH", "Starts with"), ("EQUALS", "Equals"), ("CONTAINS", "Contains"), ("REGEX", "Matches regex")];

fn tabs(s: &LoadedServer, current: Tab) -> Markup {
    html! {
        nav class="tabs" aria-label="Authorization server settings" {
            @for tab in Tab::ALL {
                a href=(server_url(&s.record.id, tab)) aria-current=[(tab == current).then_some("page")] { (tab.label()) }
            }
        }
    }
}

fn settings_tab(admin: &Admin, view: &View, s: &LoadedServer, outcome: &Outcome) -> Markup {
    let can = admin.can_configure();
    let stored = Fields(vec![
        ("name".into(), s.record.name.clone()),
        ("description".into(), s.record.description.clone()),
        ("audiences".into(), s.record.audiences.join("\n")),
    ]);
    let form = outcome.form.unwrap_or(&stored);
    let active = s.record.status == "ACTIVE";
    let id = &s.record.id;
    html! {
        h2 { "Settings" }
        (outcome.errors.summary(&SERVER_LABELS))
        form method="post" action=(format!("{BASE}/{id}/settings")) novalidate {
            (csrf_field(&view.csrf))
            (server_fields(form, &outcome.errors, !can))
            @if can {
                div class="actions" { button type="submit" { "Save" } }
            }
        }
        dl class="settings" {
            dt { "Issuer URI" } dd { code { (s.server.issuer) } }
            dt { "Metadata URI" }
            dd {
                a href=(s.server.well_known_url("openid-configuration")) { (s.server.well_known_url("openid-configuration")) }
                br;
                a href=(s.server.well_known_url("oauth-authorization-server")) { (s.server.well_known_url("oauth-authorization-server")) }
            }
            dt { "Keys (JWKS) URI" } dd { a href=(s.server.endpoint("keys")) { (s.server.endpoint("keys")) } }
            dt { "Id" } dd { code { (id) } }
        }
        section aria-labelledby="server-status" {
            h3 id="server-status" { "Status" }
            p {
                @if active { "Active: the server issues tokens and publishes its metadata." }
                @else { "Inactive: the server issues no tokens. Delete it, or activate it again." }
            }
            @if can {
                @let op = if active { "deactivate" } else { "activate" };
                form method="post" action=(format!("{BASE}/{id}/lifecycle/{op}")) class="inline" {
                    (csrf_field(&view.csrf))
                    button type="submit" class="small" { @if active { "Deactivate" } @else { "Activate" } }
                }
                @if !active {
                    " "
                    form method="post" action=(format!("{BASE}/{id}/delete")) class="inline" {
                        (csrf_field(&view.csrf))
                        button type="submit" class="small" aria-label=(format!("Delete authorization server {}", s.record.name)) { "Delete" }
                    }
                }
            }
        }
    }
}

fn yes_no(v: Option<&Value>) -> &'static str {
    if v.and_then(Value::as_bool).unwrap_or(false) { "Yes" } else { "No" }
}

fn consent_label(v: &str) -> &str {
    match v {
        "IMPLICIT" => "Implicit",
        "REQUIRED" => "Required",
        "FLEXIBLE" => "Flexible",
        other => other,
    }
}

fn scopes_tab(admin: &Admin, view: &View, s: &LoadedServer, scopes: &[Value], outcome: &Outcome) -> Markup {
    let can = admin.can_configure();
    let id = &s.record.id;
    let empty = Fields(vec![("consent".into(), "IMPLICIT".into())]);
    let form = outcome.form.unwrap_or(&empty);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    html! {
        h2 { "Scopes" }
        p { "What a token request may ask for. The OpenID Connect scopes come with every server; add the scopes your API checks." }
        table {
            caption { "Scopes of " (s.record.name) }
            thead {
                tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Description" }
                    th scope="col" { "Consent" }
                    th scope="col" { "Default" }
                    th scope="col" { "In metadata" }
                    th scope="col" { span class="visually-hidden" { "Actions" } }
                }
            }
            tbody {
                @for scope in scopes {
                    @let system = scope.get("system").and_then(Value::as_bool).unwrap_or(false);
                    @let name = text(scope, "name");
                    tr {
                        th scope="row" { code { (name) } @if system { " " span class="muted" { "(system)" } } }
                        td { (text(scope, "description")) }
                        td { (consent_label(&text(scope, "consent"))) }
                        td { (yes_no(scope.get("default"))) }
                        td { (if text(scope, "metadataPublish") == "ALL_CLIENTS" { "Yes" } else { "No" }) }
                        td {
                            @if can && !system {
                                form method="post" action=(format!("{BASE}/{id}/scopes/{}/delete", urlencoding::encode(&text(scope, "id")))) class="inline" {
                                    (csrf_field(&view.csrf))
                                    button type="submit" class="small" aria-label=(format!("Delete scope {name}")) { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can {
            section aria-labelledby="add-scope" {
                h3 id="add-scope" { "Add scope" }
                (outcome.errors.summary(&SCOPE_LABELS))
                form method="post" action=(format!("{BASE}/{id}/scopes")) novalidate {
                    (csrf_field(&view.csrf))
                    (text_field("name", "Scope name", form.get("name"), Input::Hinted("One scope token, e.g. reports.read (okta.* names are Vestibule's own)."), true, false, &outcome.errors))
                    (text_field("description", "Description", form.get("description"), Input::Text, false, false, &outcome.errors))
                    fieldset id=(field_id("consent")) aria-describedby="consent-hint" {
                        legend { "Consent" }
                        p class="hint" id="consent-hint" { "Recorded in Okta's shape for API clients. Vestibule asks people to consent per app: the app's Consent setting." }
                        (group_error("consent", &outcome.errors))
                        label class="choice" {
                            input type="radio" name="consent" value="IMPLICIT" checked[form.get("consent") != "REQUIRED"];
                            " Implicit"
                        }
                        label class="choice" {
                            input type="radio" name="consent" value="REQUIRED" checked[form.get("consent") == "REQUIRED"];
                            " Required"
                        }
                    }
                    fieldset id=(field_id("default")) {
                        legend { "Options" }
                        (group_error("default", &outcome.errors))
                        (group_error("metadataPublish", &outcome.errors))
                        label class="choice" {
                            input type="checkbox" name="default" value="true" checked[form.checked("default")];
                            " Default scope (recorded in Okta's shape; token requests still name their scopes)"
                        }
                        label class="choice" {
                            input type="checkbox" name="metadataPublish" value="true" checked[form.checked("metadataPublish")];
                            " List in the server's public metadata"
                        }
                    }
                    div class="actions" { button type="submit" { "Add scope" } }
                }
            }
        }
    }
}

fn claim_filter(claim: &Value) -> String {
    let kind = claim.get("group_filter_type").and_then(Value::as_str).unwrap_or("REGEX");
    let value = claim.get("value").and_then(Value::as_str).unwrap_or_default();
    let label = GROUP_FILTERS.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l).unwrap_or(kind);
    if kind == "REGEX" && value == ".*" { "Every group".to_owned() } else { format!("{label} “{value}”") }
}

fn claims_tab(admin: &Admin, view: &View, s: &LoadedServer, claims: &[Value], outcome: &Outcome) -> Markup {
    let can = admin.can_configure();
    let id = &s.record.id;
    let empty = Fields(vec![("group_filter_type".into(), "STARTS_WITH".into())]);
    let form = outcome.form.unwrap_or(&empty);
    let filter_id = field_id("group_filter_type");
    let filter_error = outcome.errors.get("group_filter_type");
    html! {
        h2 { "Claims" }
        p { "The groups claim releases a person's groups in ID tokens and from userinfo when the token request asks for the groups scope, filtered by name." }
        @if claims.is_empty() {
            p class="empty" { "No claims: with the groups scope, this server releases no groups." }
        } @else {
            table {
                caption { "Claims of " (s.record.name) }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Value" }
                        th scope="col" { "Groups released" }
                        th scope="col" { "Status" }
                        th scope="col" { span class="visually-hidden" { "Actions" } }
                    }
                }
                tbody {
                    @for claim in claims {
                        @let name = claim.get("name").and_then(Value::as_str).unwrap_or_default();
                        tr {
                            th scope="row" { code { (name) } }
                            td { (claim.get("valueType").and_then(Value::as_str).unwrap_or_default()) }
                            td { (claim_filter(claim)) }
                            td { (status_badge(claim.get("status").and_then(Value::as_str).unwrap_or("ACTIVE"))) }
                            td {
                                @if can {
                                    form method="post" action=(format!("{BASE}/{id}/claims/{}/delete", urlencoding::encode(claim.get("id").and_then(Value::as_str).unwrap_or_default()))) class="inline" {
                                        (csrf_field(&view.csrf))
                                        button type="submit" class="small" aria-label=(format!("Delete claim {name}")) { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can {
            section aria-labelledby="add-claim" {
                h3 id="add-claim" { "Add groups claim" }
                p class="hint" { "A server has one groups claim: adding one replaces it." }
                (outcome.errors.summary(&CLAIM_LABELS))
                form method="post" action=(format!("{BASE}/{id}/claims")) novalidate {
                    (csrf_field(&view.csrf))
                    (group_error("valueType", &outcome.errors))
                    div class="field" {
                        label for=(filter_id) { "Filter" }
                        @if let Some(e) = filter_error { p class="field-error" id=(format!("{filter_id}-error")) { (e) } }
                        select id=(filter_id) name="group_filter_type" aria-invalid=[filter_error.map(|_| "true")]
                            aria-describedby=[filter_error.map(|_| format!("{filter_id}-error"))] {
                            @for (value, label) in GROUP_FILTERS {
                                option value=(value) selected[form.get("group_filter_type") == value] { (label) }
                            }
                        }
                    }
                    (text_field("value", "Filter value", form.get("value"), Input::Hinted("Compared with group names, e.g. app- with “Starts with”, or a regular expression with “Matches regex” (.* releases every group)."), true, false, &outcome.errors))
                    div class="actions" { button type="submit" { "Add claim" } }
                }
            }
        }
    }
}

fn key_status(status: &str) -> (&'static str, &'static str) {
    match status {
        "ACTIVE" => ("Current", "signs tokens now"),
        "NEXT" => ("Next", "published; signs after the next rotation"),
        _ => ("Previous", "published so that tokens it signed still verify"),
    }
}

fn keys_tab(admin: &Admin, view: &View, s: &LoadedServer, keys: &[Value], outcome: &Outcome) -> Markup {
    let can = admin.can_configure();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    html! {
        h2 { "Keys" }
        p {
            "Each algorithm has a current key that signs, a next key published ahead of time, and the previous key while tokens it signed may still be in use. "
            "Rotating makes the next key current; it is allowed once the next key has been published for "
            (ROTATION_OVERLAP.whole_hours()) " hours, so that relying parties have it cached. Keys also rotate every "
            (ROTATION_PERIOD.whole_days()) " days."
        }
        (outcome.errors.summary(&[("use", "Rotate keys"), ("alg", "Rotate keys")]))
        table {
            caption { "Signing keys of " (s.record.name) }
            thead { tr { th scope="col" { "Key ID (kid)" } th scope="col" { "Algorithm" } th scope="col" { "Status" } } }
            tbody {
                @for key in keys {
                    @let (label, meaning) = key_status(&text(key, "status"));
                    tr {
                        td { code { (text(key, "kid")) } }
                        td { (text(key, "alg")) }
                        td { strong { (label) } " " span class="muted" { "(" (meaning) ")" } }
                    }
                }
            }
        }
        @if can {
            form method="post" action=(format!("{BASE}/{}/keys/rotate", s.record.id)) {
                (csrf_field(&view.csrf))
                div class="actions" { button type="submit" id=(field_id("use")) { "Rotate keys" } }
            }
        }
    }
}

pub(super) async fn render(state: &AppState, admin: &Admin, view: &View, s: &LoadedServer, tab: Tab, done: &str, outcome: &Outcome<'_>) -> Result<Markup, ApiError> {
    let principal = admin.principal();
    let id = &s.record.id;
    let content = match tab {
        Tab::Settings => settings_tab(admin, view, s, outcome),
        Tab::Scopes => scopes_tab(admin, view, s, &management::server_scopes(state, &principal, id).await?, outcome),
        Tab::Claims => claims_tab(admin, view, s, &management::server_claims(state, &principal, id).await?, outcome),
        Tab::Policies => super::policies::tab(state, admin, view, s, outcome.form, &outcome.errors).await?,
        Tab::Keys => keys_tab(admin, view, s, &management::signing_keys(state, &principal, id).await?, outcome),
    };
    let body = html! {
        p class="crumbs" { a href=(BASE) { "Authorization Servers" } " › " (s.record.name) }
        div class="entry-head" {
            h1 { (s.record.name) }
            (status_badge(&s.record.status))
        }
        @if !done.is_empty() {
            p class="notice" role="status" {
                (match done {
                    "created" => "Authorization server added. Next, add the scopes your API checks.",
                    "saved" => "Saved.",
                    "activated" => "Activated.",
                    "deactivated" => "Deactivated.",
                    "added" => "Added.",
                    "deleted" => "Deleted.",
                    "rotated" => "Keys rotated: the next keys sign now.",
                    _ => "Done.",
                })
            }
        }
        @if !s.record.description.is_empty() { p class="muted" { (s.record.description) } }
        (tabs(s, tab))
        div class="tab-panel" { (content) }
    };
    Ok(shell(state, admin, &view.csrf, &s.record.name, Section::AuthorizationServers, body))
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<ServerQuery>) -> Response {
    let tab = Tab::parse(&query.tab);
    let admin = match admin(&state, &headers, &server_url(&id, tab)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let s = match management::read_server(&state, &admin.principal(), &id).await {
        Ok(s) => s,
        Err(e) => return api_error_page(&state, &e),
    };
    let view = View::new(&state, &headers);
    match render(&state, &admin, &view, &s, tab, &query.done, &Outcome::default()).await {
        Ok(markup) => view.respond(StatusCode::OK, markup),
        Err(e) => api_error_page(&state, &e),
    }
}

/// The administrator and server for a form posted to a server's page.
async fn guarded(state: &AppState, headers: &HeaderMap, id: &str, form: &Fields) -> Result<(Admin, std::sync::Arc<LoadedServer>), Response> {
    let admin = configurer(state, headers, &server_url(id, Tab::Settings), form.get("csrf")).await?;
    let s = management::read_server(state, &admin.principal(), id).await.map_err(|e| api_error_page(state, &e))?;
    Ok((admin, s))
}

/// After a change: back to the tab with a confirmation; after a refusal:
/// the tab again, with the API's causes by their fields and the values sent.
async fn answer(state: &AppState, headers: &HeaderMap, admin: &Admin, id: &str, tab: Tab, done: &str, result: Result<(), ApiError>, form: &Fields) -> Response {
    let error = match result {
        Ok(()) => return see_other(&format!("{}&done={done}", server_url(id, tab))),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => return api_error_page(state, &e),
        Err(e) => e,
    };
    // Reload: the server may have changed before the refusal.
    let s = match management::read_server(state, &admin.principal(), id).await {
        Ok(s) => s,
        Err(e) => return api_error_page(state, &e),
    };
    let view = View::new(state, headers);
    let outcome = Outcome { errors: FieldErrors::from_api(&error), form: Some(form) };
    let status = if error.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
    match render(state, admin, &view, &s, tab, "", &outcome).await {
        Ok(markup) => view.respond(status, markup),
        Err(e) => api_error_page(state, &e),
    }
}

pub async fn save_settings(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let result = management::change_server(&state, &admin.principal(), &s.record.id, &server_body(&form)).await.map(|_| ());
    answer(&state, &headers, &admin, &id, Tab::Settings, "saved", result, &form).await
}

pub async fn lifecycle(State(state): State<AppState>, headers: HeaderMap, Path((id, op)): Path<(String, String)>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let done = if op == "activate" { "activated" } else { "deactivated" };
    let result = management::set_server_lifecycle(&state, &admin.principal(), &s.record.id, &op).await;
    answer(&state, &headers, &admin, &id, Tab::Settings, done, result, &form).await
}

pub async fn delete(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match management::remove_server(&state, &admin.principal(), &s.record.id).await {
        Ok(()) => see_other(BASE),
        Err(e) => answer(&state, &headers, &admin, &id, Tab::Settings, "", Err(e), &form).await,
    }
}

pub async fn add_scope(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let body = json!({
        "name": form.get("name"),
        "description": form.get("description"),
        "consent": form.get("consent"),
        "default": form.checked("default"),
        "metadataPublish": if form.checked("metadataPublish") { "ALL_CLIENTS" } else { "NO_CLIENTS" },
    });
    let body: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
    let result = management::add_scope(&state, &admin.principal(), &s.record.id, &body).await.map(|_| ());
    answer(&state, &headers, &admin, &id, Tab::Scopes, "added", result, &form).await
}

pub async fn delete_scope(State(state): State<AppState>, headers: HeaderMap, Path((id, scope_id)): Path<(String, String)>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let result = management::remove_scope(&state, &admin.principal(), &s.record.id, &scope_id).await;
    answer(&state, &headers, &admin, &id, Tab::Scopes, "deleted", result, &Fields(Vec::new())).await
}

pub async fn add_claim(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let body = json!({
        "name": "groups",
        "valueType": "GROUPS",
        "claimType": "IDENTITY",
        "group_filter_type": form.get("group_filter_type"),
        "value": form.get("value"),
        "conditions": { "scopes": ["groups"] },
    });
    let body: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
    let result = management::add_claim(&state, &admin.principal(), &s.record.id, &body).await.map(|_| ());
    answer(&state, &headers, &admin, &id, Tab::Claims, "added", result, &form).await
}

pub async fn delete_claim(State(state): State<AppState>, headers: HeaderMap, Path((id, claim_id)): Path<(String, String)>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let result = management::remove_claim(&state, &admin.principal(), &s.record.id, &claim_id).await;
    answer(&state, &headers, &admin, &id, Tab::Claims, "deleted", result, &Fields(Vec::new())).await
}

pub async fn rotate_keys(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, s) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    let result = management::rotate_server_keys(&state, &admin.principal(), &client, &s.record.id, None).await.map(|_| ());
    answer(&state, &headers, &admin, &id, Tab::Keys, "rotated", result, &form).await
}
