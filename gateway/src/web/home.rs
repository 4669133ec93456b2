//! The End-User Dashboard at /app/UserHome.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;

use super::{csrf_field, csrf_token, html_response, page, require_person};
use crate::state::AppState;

pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (person, _session) = match require_person(&state, &headers, "/app/UserHome").await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
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
                section aria-labelledby="managed" {
                    h2 id="managed" { "Apps managed by " (state.config.org_name) }
                    p class="empty" { "No apps are assigned to you yet. Your administrator assigns apps here." }
                }
            }
        },
    );
    html_response(StatusCode::OK, markup, &set.into_iter().collect::<Vec<_>>())
}
