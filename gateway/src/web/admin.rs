//! The Admin Console. Pages require a session whose person holds an admin
//! role; each action checks the permission it needs, as the API does.

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page, require_person};
use crate::auth;
use crate::directory::Permission;
use crate::state::{AppState, CachedPrincipal};
use crate::store::ts;
use crate::syslog::Actor;

fn shell(state: &AppState, person: &CachedPrincipal, csrf: &str, title: &str, body: Markup) -> Markup {
    page(
        state,
        title,
        html! {
            header class="bar" {
                span class="org" { (state.config.org_name) " Admin Console" }
                nav aria-label="Admin" {
                    a href="/admin" { "Overview" }
                    a href="/admin/apps" { "Applications" }
                    a href="/admin/apps/catalog" { "Browse App Catalog" }
                    a href="/admin/tokens" { "API Tokens" }
                    a href="/app/UserHome" { "My Apps" }
                    span { "Signed in as " strong { (person.user.display_name()) } }
                    form method="post" action="/login/signout" class="inline" {
                        (csrf_field(csrf))
                        button type="submit" class="link" { "Sign out" }
                    }
                }
            }
            main { (body) }
        },
    )
}

async fn admin(state: &AppState, headers: &HeaderMap, here: &str) -> Result<std::sync::Arc<CachedPrincipal>, Response> {
    let (person, _) = require_person(state, headers, here).await?;
    if person.roles.is_empty() {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Not an administrator", "The Admin Console is for administrators."));
    }
    Ok(person)
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let person = match admin(&state, &headers, "/admin").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&state, &headers);
    let users = state.store.count_users().await.unwrap_or(0);
    let body = html! {
        h1 { "Overview" }
        p { "People in the directory: " strong { (users) } }
        p { "Your roles: " (person.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
        p { "Manage people and groups with the Okta-compatible API at " code { "/api/v1/users" } " and " code { "/api/v1/groups" } ", using an API token." }
    };
    html_response(StatusCode::OK, shell(&state, &person, &csrf, "Admin Console", body), &set.into_iter().collect::<Vec<_>>())
}

async fn tokens_page(state: &AppState, person: &CachedPrincipal, csrf: &str, created: Option<(&str, &str)>, error: Option<&str>) -> Markup {
    let tokens = state.store.api_tokens().await.unwrap_or_default();
    let body = html! {
        h1 { "API Tokens" }
        p { "A token acts with the roles of the administrator who created it. Send it as " code { "Authorization: SSWS <token>" } "." }
        @if let Some((name, value)) = created {
            section class="notice" role="status" aria-labelledby="new-token" {
                h2 id="new-token" { "Token “" (name) "” created" }
                p { "Copy it now. It will not be shown again." }
                label for="token-value" { "Token value" }
                input id="token-value" type="text" readonly value=(value);
            }
        }
        @if let Some(message) = error {
            p class="error" role="alert" { (message) }
        }
        form method="post" action="/admin/tokens" class="row" {
            (csrf_field(csrf))
            label for="token-name" { "Token name" }
            input id="token-name" name="name" type="text" required maxlength="100";
            button type="submit" { "Create token" }
        }
        table {
            caption { "Existing tokens" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Owner" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
            tbody {
                @for t in &tokens {
                    tr {
                        td { (t.name) }
                        td { (t.user_id) }
                        td { (ts(t.created)) }
                        td { (t.last_used.map(ts).unwrap_or_else(|| "never".into())) }
                        td {
                            @if t.user_id == person.user.id || person.roles.iter().any(|r| r.grants(Permission::ManageOrg)) {
                                form method="post" action=(format!("/admin/tokens/{}/revoke", t.id)) class="inline" {
                                    (csrf_field(csrf))
                                    button type="submit" aria-label=(format!("Revoke token {}", t.name)) { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    shell(state, person, csrf, "API Tokens", body)
}

pub async fn tokens(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let person = match admin(&state, &headers, "/admin/tokens").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (csrf, set) = csrf_token(&state, &headers);
    html_response(StatusCode::OK, tokens_page(&state, &person, &csrf, None, None).await, &set.into_iter().collect::<Vec<_>>())
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn create_token(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, Form(form): Form<TokenForm>) -> Response {
    let person = match admin(&state, &headers, "/admin/tokens").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (csrf, _) = csrf_token(&state, &headers);
    if !csrf_ok(&state, &headers, &form.csrf) {
        return html_response(StatusCode::FORBIDDEN, tokens_page(&state, &person, &csrf, None, Some("The form expired. Please try again.")).await, &[]);
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return html_response(StatusCode::BAD_REQUEST, tokens_page(&state, &person, &csrf, None, Some("Give the token a name of 1 to 100 characters.")).await, &[]);
    }
    let client = auth::client_info(&headers, Some(peer));
    match crate::bootstrap::create_api_token(&state.store, state.now(), &person.user, name, None).await {
        Ok(value) => {
            state
                .log(crate::state::EventBuilder::new("system.api_token.create", "Create API token", Actor::user(&person.user), &client).debug("tokenName", name))
                .await;
            html_response(StatusCode::OK, tokens_page(&state, &person, &csrf, Some((name, &value)), None).await, &[])
        }
        Err(e) => {
            tracing::error!(error = %e, "could not create an API token");
            error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The token could not be created.")
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke_token(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, Path(id): Path<String>, Form(form): Form<CsrfOnly>) -> Response {
    let person = match admin(&state, &headers, "/admin/tokens").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !csrf_ok(&state, &headers, &form.csrf) {
        return error_page(&state, StatusCode::FORBIDDEN, "Form expired", "Please try again.");
    }
    let tokens = state.store.api_tokens().await.unwrap_or_default();
    let Some(token) = tokens.iter().find(|t| t.id == id) else {
        return error_page(&state, StatusCode::NOT_FOUND, "No such token", "That token does not exist.");
    };
    if token.user_id != person.user.id && !person.roles.iter().any(|r| r.grants(Permission::ManageOrg)) {
        return error_page(&state, StatusCode::FORBIDDEN, "Not allowed", "Only a super administrator can revoke other administrators' tokens.");
    }
    let client = auth::client_info(&headers, Some(peer));
    if crate::api::revoke_api_token(&state, Actor::user(&person.user), &client, &id).await.is_err() {
        return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The token could not be revoked.");
    }
    Redirect::to("/admin/tokens").into_response()
}
