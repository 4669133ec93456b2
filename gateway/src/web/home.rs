//! The End-User Dashboard at /app/UserHome: a tile per assigned, visible,
//! active app, searchable (a plain GET form, no script), in an order the
//! person can change with Move up / Move down buttons.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page, require_person};
use crate::state::{AppState, Invalidation};

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    q: Option<String>,
}

/// Two letters standing in for a logo (no vendor logos are shipped).
pub fn monogram(label: &str) -> Markup {
    let mut letters: String = label.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).collect();
    if letters.is_empty() {
        letters.push('?');
    }
    html! { span class="monogram" aria-hidden="true" { (letters.to_uppercase()) } }
}

pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<HomeQuery>) -> Response {
    let (person, _session) = match require_person(&state, &headers, "/app/UserHome").await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let links = match crate::api::launchable_links(&state, &person.user.id).await {
        Ok(l) => l,
        Err(_) => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your apps could not be loaded."),
    };
    let visible: Vec<_> = links.iter().filter(|(app, _)| !app.hidden()).collect();
    let q = query.q.unwrap_or_default().trim().to_lowercase();
    let shown: Vec<_> = visible.iter().filter(|(app, _)| q.is_empty() || app.label.to_lowercase().contains(&q)).collect();
    let (csrf, set) = csrf_token(&state, &headers);
    let is_admin = !person.roles.is_empty();
    let markup = page(
        &state,
        "My Apps",
        html! {
            header class="bar" {
                span class="org" { (state.config.org_name) }
                nav aria-label="Account" {
                    span { "Signed in as " strong { (person.user.display_name()) } }
                    a href="/app/UserHome/credentials" { "Your app sign-ins" }
                    @if is_admin {
                        a href="/admin" { "Admin Console" }
                    }
                    form method="post" action="/login/signout" class="inline" {
                        (csrf_field(&csrf))
                        button type="submit" class="link" { "Sign out" }
                    }
                }
            }
            main {
                h1 { "My Apps" }
                form method="get" action="/app/UserHome" class="row" role="search" {
                    label for="app-search" { "Search your apps" }
                    input id="app-search" name="q" type="search" value=(q);
                    button type="submit" { "Search" }
                }
                section aria-labelledby="managed" {
                    h2 id="managed" { "Apps managed by " (state.config.org_name) }
                    @if visible.is_empty() {
                        p class="empty" { "No apps are assigned to you yet. Your administrator assigns apps here." }
                    } @else if shown.is_empty() {
                        p class="empty" role="status" { "No apps match “" (q) "”." }
                    } @else {
                        ul class="tiles" {
                            @for (i, (app, _)) in shown.iter().enumerate() {
                                li class="tile" {
                                    a href=(app.link_path()) class="tile-link" {
                                        (monogram(&app.label))
                                        span class="tile-label" { (app.label) }
                                    }
                                    @if q.is_empty() && shown.len() > 1 {
                                        form method="post" action="/app/UserHome/order" class="tile-order" {
                                            (csrf_field(&csrf))
                                            input type="hidden" name="app" value=(app.id);
                                            @if i > 0 {
                                                button type="submit" name="move" value="up" class="small" aria-label=(format!("Move {} up", app.label)) { "↑" }
                                            }
                                            @if i + 1 < shown.len() {
                                                button type="submit" name="move" value="down" class="small" aria-label=(format!("Move {} down", app.label)) { "↓" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    );
    html_response(StatusCode::OK, markup, &set.into_iter().collect::<Vec<_>>())
}

#[derive(Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    app: String,
    #[serde(default, rename = "move")]
    direction: String,
}

/// Moves one tile up or down; the whole order is written so it stays stable.
pub async fn reorder(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<OrderForm>) -> Response {
    let (person, _) = match require_person(&state, &headers, "/app/UserHome").await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    if !csrf_ok(&state, &headers, &form.csrf) {
        return error_page(&state, StatusCode::FORBIDDEN, "Form expired", "Please try again.");
    }
    let Ok(links) = crate::api::launchable_links(&state, &person.user.id).await else {
        return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your apps could not be loaded.");
    };
    let mut order: Vec<String> = links.iter().filter(|(app, _)| !app.hidden()).map(|(app, _)| app.id.clone()).collect();
    let Some(i) = order.iter().position(|id| *id == form.app) else {
        return error_page(&state, StatusCode::NOT_FOUND, "No such app", "That app is not on your dashboard.");
    };
    match form.direction.as_str() {
        "up" if i > 0 => order.swap(i, i - 1),
        "down" if i + 1 < order.len() => order.swap(i, i + 1),
        _ => {}
    }
    for (position, app_id) in order.iter().enumerate() {
        if state.store.set_sort_order(&person.user.id, app_id, position as i64).await.is_err() {
            return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The new order could not be saved.");
        }
    }
    state.invalidate(Invalidation::Assignments { user_id: person.user.id.clone() }).await;
    Redirect::to("/app/UserHome").into_response()
}
