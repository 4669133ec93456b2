//! The Applications list, and activating or deactivating an app.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{admin, back_to, fields, manager, see_other, shell, status_badge, FormFields, Section, View};
use crate::apps::AppStatus;
use crate::filter::Sql;
use crate::state::AppState;
use crate::web::csrf_field;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<ListQuery>) -> Response {
    let admin = match admin(&state, &headers, "/admin/apps").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let q = query.q.trim();
    let mut sql = Sql::default();
    if !q.is_empty() {
        let pattern = format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let p = sql.bind(pattern);
        sql.text.push_str(&format!("(label_lower LIKE {p} ESCAPE '\\' OR name LIKE {p} ESCAPE '\\')"));
    }
    let after = Some(query.after.as_str()).filter(|a| !a.is_empty());
    let rows = match state.store.list_apps((!q.is_empty()).then_some(&sql), after, PAGE + 1).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "could not list apps");
            return crate::web::error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The applications could not be loaded.");
        }
    };
    let next = (rows.len() as i64 > PAGE).then(|| rows[PAGE as usize - 1].id.clone());
    let here = if q.is_empty() { "/admin/apps".to_owned() } else { format!("/admin/apps?q={}", urlencoding::encode(q)) };
    let body = html! {
        h1 { "Applications" }
        @if admin.can_manage() {
            p class="actions" {
                a class="button" href="/admin/apps/catalog" { "Browse App Catalog" }
                a class="button secondary" href="/admin/apps/new" { "Create App Integration" }
            }
        }
        form method="get" action="/admin/apps" class="row" role="search" {
            div {
                label for="apps-q" { "Search applications" }
                input id="apps-q" name="q" type="search" value=(q);
            }
            button type="submit" { "Search" }
        }
        @if rows.is_empty() {
            p class="empty" {
                @if q.is_empty() { "No applications yet. Add one from the catalog or create your own." }
                @else { "No applications match “" (q) "”." }
            }
        } @else {
            table {
                caption { "Applications" @if !q.is_empty() { " matching “" (q) "”" } }
                thead {
                    tr {
                        th scope="col" { "Application" }
                        th scope="col" { "Status" }
                        th scope="col" { "Sign-on mode" }
                        th scope="col" { span class="visually-hidden" { "Actions" } }
                    }
                }
                tbody {
                    @for app in rows.iter().take(PAGE as usize) {
                        tr {
                            th scope="row" {
                                a href=(format!("/admin/apps/{}", app.id)) { (app.label) }
                                @if let Some(entry) = &app.catalog_name { " " span class="muted" { "(" (entry) ")" } }
                            }
                            td { (status_badge(app)) }
                            td { (app.sign_on_mode.label()) }
                            td {
                                @if admin.can_manage() {
                                    @let op = if app.status == AppStatus::Active { "deactivate" } else { "activate" };
                                    form method="post" action=(format!("/admin/apps/{}/lifecycle/{op}", app.id)) class="inline" {
                                        (csrf_field(&view.csrf))
                                        input type="hidden" name="back" value=(here);
                                        button type="submit" class="small" aria-label=(format!("{} {}", if op == "activate" { "Activate" } else { "Deactivate" }, app.label)) {
                                            @if op == "activate" { "Activate" } @else { "Deactivate" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                nav aria-label="Pages" class="pager" {
                    @if after.is_some() { a href=(if q.is_empty() { "/admin/apps".to_owned() } else { here.clone() }) { "First page" } }
                    a href=(format!("/admin/apps?q={}&after={}", urlencoding::encode(q), urlencoding::encode(&next))) rel="next" { "Next page" }
                }
            } @else if after.is_some() {
                nav aria-label="Pages" class="pager" { a href=(here) { "First page" } }
            }
        }
    };
    view.respond(StatusCode::OK, shell(&state, &admin, &view.csrf, "Applications", Section::Applications, body))
}

/// POST /admin/apps/{id}/lifecycle/{activate|deactivate}: as the API's
/// lifecycle operation, then back to the page the form was on.
pub async fn lifecycle(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, op)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let form = fields(form);
    let admin = match manager(&state, &headers, &format!("/admin/apps/{id}"), form.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let status = match op.as_str() {
        "activate" => AppStatus::Active,
        "deactivate" => AppStatus::Inactive,
        _ => return crate::web::error_page(&state, StatusCode::NOT_FOUND, "No such action", "Applications can be activated or deactivated."),
    };
    let app = match state.store.app(&id).await {
        Ok(Some(app)) => app,
        Ok(None) => return crate::web::error_page(&state, StatusCode::NOT_FOUND, "No such application", "That application does not exist."),
        Err(_) => return crate::web::error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The application could not be loaded."),
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    if crate::api::set_app_status(&state, &admin.person.user, &client, app, status).await.is_err() {
        return crate::web::error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The application could not be changed.");
    }
    let back = form.get("back");
    see_other(&back_to(if back.is_empty() { "/admin/apps" } else { back }))
}
