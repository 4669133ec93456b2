//! The list of authorization servers, and Add Authorization Server.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{admin, fields, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, View};
use super::{api_error_page, configurer, lines, BASE};
use crate::oauth::management;
use crate::oauth::runtime::ORG;
use crate::state::AppState;
use crate::web::{csrf_field, error_page};

/// The fields of a server's settings, as (API path, label).
pub(super) const SERVER_LABELS: [(&str, &str); 3] = [("name", "Name"), ("audiences", "Audience"), ("description", "Description")];

/// The server body in the API's shape, from a settings form.
pub(super) fn server_body(form: &Fields) -> Map<String, Value> {
    let body = json!({
        "name": form.get("name"),
        "description": form.get("description"),
        "audiences": lines(form.get("audiences")),
    });
    body.as_object().cloned().unwrap_or_default()
}

/// Name, audience and description, as on Add Authorization Server and the
/// Settings tab.
pub(super) fn server_fields(form: &Fields, errors: &FieldErrors, disabled: bool) -> Markup {
    let id = super::super::field_id("audiences");
    let error = errors.get("audiences");
    let described = if error.is_some() { format!("{id}-hint {id}-error") } else { format!("{id}-hint") };
    html! {
        (text_field("name", "Name", form.get("name"), Input::Text, true, disabled, errors))
        div class="field" {
            label for=(id) { "Audience" span class="required" { " (required)" } }
            p class="hint" id=(format!("{id}-hint")) {
                "The aud value of the access tokens this server issues: the API that accepts them, e.g. api://reports. One per line."
            }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            textarea id=(id) name="audiences" rows="2" required disabled[disabled] aria-invalid=[error.map(|_| "true")] aria-describedby=(described) {
                (form.get("audiences"))
            }
        }
        (text_field("description", "Description", form.get("description"), Input::Text, false, disabled, errors))
    }
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let admin = match admin(&state, &headers, BASE).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let servers = match management::custom_servers(&state, &admin.principal()).await {
        Ok(s) => s,
        Err(e) => return api_error_page(&state, &e),
    };
    let org = match crate::oauth::runtime::runtime(&state).await {
        Ok(rt) => rt.server(ORG),
        Err(e) => return api_error_page(&state, &e),
    };
    let view = View::new(&state, &headers);
    let body = html! {
        h1 { "Authorization Servers" }
        p {
            "A custom authorization server issues access tokens for your own APIs: each has its audience, scopes, claims and signing keys. "
            "Apps that only sign people in can use the org authorization server."
        }
        @if admin.can_configure() {
            p class="actions" { a class="button" href=(format!("{BASE}/new")) { "Add Authorization Server" } }
        }
        @if servers.is_empty() {
            p class="empty" { "No custom authorization servers." }
        } @else {
            table {
                caption { "Custom authorization servers" }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Audience" }
                        th scope="col" { "Issuer URI" }
                        th scope="col" { "Status" }
                    }
                }
                tbody {
                    @for s in &servers {
                        tr {
                            th scope="row" { a href=(format!("{BASE}/{}", s.record.id)) { (s.record.name) } }
                            td { (s.record.audiences.join(", ")) }
                            td { code { (s.server.issuer) } }
                            td { (status_badge(&s.record.status)) }
                        }
                    }
                }
            }
        }
        @if let Some(org) = org {
            section aria-labelledby="org-server" {
                h2 id="org-server" { "Org authorization server" }
                p { "Issues ID tokens for sign-in and access tokens for Vestibule's own API (the okta.* scopes granted to service apps). It has no settings to change." }
                dl class="settings" {
                    dt { "Issuer URI" } dd { code { (org.server.issuer) } }
                    dt { "Metadata URI" } dd { a href=(org.server.well_known_url("openid-configuration")) { (org.server.well_known_url("openid-configuration")) } }
                }
            }
        }
    };
    view.respond(StatusCode::OK, shell(&state, &admin, &view.csrf, "Authorization Servers", Section::AuthorizationServers, body))
}

/// A server's status as a badge.
pub(super) fn status_badge(status: &str) -> Markup {
    let active = status == "ACTIVE";
    html! { span class=(if active { "badge active" } else { "badge inactive" }) { (if active { "Active" } else { "Inactive" }) } }
}

fn form_page(state: &AppState, admin: &Admin, view: &View, form: &Fields, errors: &FieldErrors) -> Markup {
    let body = html! {
        p class="crumbs" { a href=(BASE) { "Authorization Servers" } " › Add Authorization Server" }
        h1 { "Add Authorization Server" }
        (errors.summary(&SERVER_LABELS))
        form method="post" action=(format!("{BASE}/new")) novalidate {
            (csrf_field(&view.csrf))
            (server_fields(form, errors, false))
            div class="actions" {
                button type="submit" { "Save" }
                " " a href=(BASE) { "Cancel" }
            }
        }
    };
    shell(state, admin, &view.csrf, "Add Authorization Server", Section::AuthorizationServers, body)
}

pub async fn new(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let here = format!("{BASE}/new");
    let admin = match admin(&state, &headers, &here).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.can_configure() {
        return error_page(&state, StatusCode::FORBIDDEN, "Not allowed", "Adding authorization servers needs the Super Administrator role.");
    }
    let view = View::new(&state, &headers);
    view.respond(StatusCode::OK, form_page(&state, &admin, &view, &Fields(Vec::new()), &FieldErrors::default()))
}

pub async fn create(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, form: FormFields) -> Response {
    let form = fields(form);
    let admin = match configurer(&state, &headers, &format!("{BASE}/new"), form.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    match management::add_server(&state, &admin.principal(), &client, &server_body(&form)).await {
        Ok(s) => see_other(&format!("{BASE}/{}?done=created", s.record.id)),
        Err(e) => {
            let view = View::new(&state, &headers);
            let status = if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
            view.respond(status, form_page(&state, &admin, &view, &form, &FieldErrors::from_api(&e)))
        }
    }
}
