//! Browse App Catalog (search with suggestions as you type, results as
//! tiles, filters, pages) and an entry's details page.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use maud::{html, Markup};
use serde_json::json;

use super::{admin, functionality_label, industry_label, shell, use_case_label, Section, View};
use crate::api::Params;
use crate::apps::SignOnMode;
use crate::state::AppState;

/// Tiles per page.
const PAGE: usize = 24;
/// Suggestions shown while typing.
const SUGGESTIONS: usize = 8;

/// The first sentence of a description, for a tile.
fn summary(description: &str) -> &str {
    match description.find(". ") {
        Some(end) if end < 140 => &description[..=end],
        _ => description,
    }
}

fn tile(entry: &::catalog::AppEntry) -> Markup {
    html! {
        li class="tile catalog-tile" {
            a class="tile-link" href=(format!("/admin/apps/catalog/{}", urlencoding::encode(entry.name()))) {
                (crate::web::home::monogram(entry.label()))
                span class="tile-label" { (entry.label()) }
            }
            p class="tile-summary" { (summary(entry.description())) }
            ul class="badges" aria-label="Protocols" {
                @for f in entry.functionality() { li class="badge" { (f.as_str()) } }
            }
        }
    }
}

/// A filter `select`; `selected` is the submitted value.
fn filter<T: Copy>(id: &str, name: &str, label: &str, all: &[T], value: fn(T) -> &'static str, text: fn(T) -> &'static str, selected: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                option value="" selected[selected.is_empty()] { "Any" }
                @for v in all {
                    option value=(value(*v)) selected[selected == value(*v)] { (text(*v)) }
                }
            }
        }
    }
}

pub async fn browse(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let admin = match admin(&state, &headers, &uri.to_string()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let mut params = Params::from_uri(&uri);
    params.0.insert("limit".into(), PAGE.to_string());
    let text = |name: &str| params.get(name).unwrap_or("").to_owned();
    let (q, use_case, functionality, industry, after) = (text("q"), text("useCase"), text("functionality"), text("industry"), text("after"));
    let catalog = state.catalog.snapshot();
    let mut problem = None;
    let page = match crate::api::catalog_query(&params) {
        Ok(query) => match catalog.search(&query) {
            Ok(page) => Some(page),
            Err(::catalog::Error::UnknownCursor { .. }) => {
                problem = Some("The catalog changed since this page was shown. Start again from the first page.".to_owned());
                None
            }
            Err(e) => {
                problem = Some(e.to_string());
                None
            }
        },
        Err(e) => {
            problem = Some(e.causes.join("; "));
            None
        }
    };
    let filtered = !use_case.is_empty() || !functionality.is_empty() || !industry.is_empty();
    let link = |after: Option<&str>| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("q", &q), ("useCase", &use_case), ("functionality", &functionality), ("industry", &industry)] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if let Some(a) = after {
            s.append_pair("after", a);
        }
        let query = s.finish();
        if query.is_empty() { "/admin/apps/catalog".to_owned() } else { format!("/admin/apps/catalog?{query}") }
    };
    let body = html! {
        h1 { "Browse App Catalog" }
        p { (catalog.len()) " prebuilt integrations. Pick one to see what it supports and to add it, or "
            a href="/admin/apps/new" { "create your own app integration" } "." }
        form method="get" action="/admin/apps/catalog" role="search" class="catalog-search" {
            div class="field suggest" {
                label for="catalog-q" { "Search the catalog" }
                p class="hint" id="catalog-q-hint" { "Suggestions appear as you type. Press the Down arrow to move into them." }
                input id="catalog-q" name="q" type="search" value=(q) autocomplete="off"
                    role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="catalog-suggestions"
                    aria-describedby="catalog-q-hint catalog-suggestions-status";
                div id="catalog-suggestions" class="suggestions" hidden {}
                p id="catalog-suggestions-status" class="visually-hidden" role="status" aria-live="polite" {}
            }
            div class="filters" {
                (filter("f-useCase", "useCase", "Use case", ::catalog::UseCase::ALL, |v| v.as_str(), use_case_label, &use_case))
                (filter("f-functionality", "functionality", "Functionality", ::catalog::Functionality::ALL, |v| v.as_str(), functionality_label, &functionality))
                (filter("f-industry", "industry", "Industry", ::catalog::Industry::ALL, |v| v.as_str(), industry_label, &industry))
            }
            button type="submit" { "See all results" }
            @if !q.is_empty() || filtered {
                " " a href="/admin/apps/catalog" { "Clear search and filters" }
            }
        }
        @if let Some(p) = &problem {
            p class="error" role="alert" { (p) }
        }
        @if let Some(page) = &page {
            section aria-labelledby="results" {
                h2 id="results" {
                    @if q.is_empty() && !filtered { "All integrations" }
                    @else if q.is_empty() { "Integrations matching the filters" }
                    @else { "Results for “" (q) "”" }
                }
                @if page.apps.is_empty() {
                    p class="empty" role="status" { "Nothing in the catalog matches. Try fewer words or other filters, or "
                        a href="/admin/apps/new" { "create your own app integration" } "." }
                } @else {
                    ul class="tiles catalog-tiles" {
                        @for entry in &page.apps { (tile(entry)) }
                    }
                }
                @if page.next_after.is_some() || !after.is_empty() {
                    nav aria-label="Pages" class="pager" {
                        @if !after.is_empty() { a href=(link(None)) { "First page" } }
                        @if let Some(next) = page.next_after { a href=(link(Some(next))) rel="next" { "Next page" } }
                    }
                }
            }
        }
        script src="/assets/admin-apps.js" defer {}
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    view.respond_with_script(status, shell(&state, &admin, &view.csrf, "Browse App Catalog", Section::Catalog, body))
}

/// GET /admin/apps/catalog/suggest?q=: a few entries for the search box, as
/// JSON the page's script draws with `textContent` (never as HTML).
pub async fn suggest(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(session) = crate::auth::session(&state, &headers).await else {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "sign in again" }))).into_response();
    };
    let allowed = match crate::auth::load_principal(&state, &session.user_id).await {
        Ok(Some(p)) => p.user.status.may_sign_in() && p.roles.iter().any(|r| r.grants(crate::directory::Permission::Read)),
        _ => false,
    };
    if !allowed {
        return (StatusCode::FORBIDDEN, Json(json!({ "error": "administrators only" }))).into_response();
    }
    let params = Params::from_uri(&uri);
    let q: String = params.get("q").unwrap_or("").chars().take(200).collect();
    let catalog = state.catalog.snapshot();
    let query = ::catalog::Query { text: &q, limit: Some(SUGGESTIONS), ..Default::default() };
    let items: Vec<_> = match catalog.search(&query) {
        Ok(page) if !q.trim().is_empty() => page
            .apps
            .iter()
            .map(|e| json!({ "name": e.name(), "label": e.label(), "href": format!("/admin/apps/catalog/{}", urlencoding::encode(e.name())) }))
            .collect(),
        _ => Vec::new(),
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(json!({ "q": q, "apps": items, "all": format!("/admin/apps/catalog?q={}", urlencoding::encode(&q)) })))
        .into_response()
}

/// The sign-on modes a catalog entry offers, in Okta's order.
pub(super) fn modes_of(entry: &::catalog::AppEntry) -> Vec<SignOnMode> {
    SignOnMode::ALL.into_iter().filter(|m| entry.functionality().contains(&m.functionality())).collect()
}

pub async fn details(State(state): State<AppState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    let here = format!("/admin/apps/catalog/{}", urlencoding::encode(&name));
    let admin = match admin(&state, &headers, &here).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let catalog = state.catalog.snapshot();
    let Some(entry) = catalog.get(&name) else {
        return crate::web::error_page(&state, StatusCode::NOT_FOUND, "Not in the catalog", "The catalog has no integration by that name.");
    };
    let modes = modes_of(entry);
    let body = html! {
        p class="crumbs" { a href="/admin/apps/catalog" { "Browse App Catalog" } " › " (entry.label()) }
        div class="entry-head" {
            (crate::web::home::monogram(entry.label()))
            h1 { (entry.label()) }
        }
        p { (entry.description()) }
        @if admin.can_manage() {
            @if modes.is_empty() {
                p class="empty" { "This entry offers no sign-on mode Vestibule can configure yet." }
            } @else {
                p class="actions" { a class="button" href=(format!("{here}/add")) { "Add integration" } }
            }
        }
        section aria-labelledby="capabilities" {
            h2 id="capabilities" { "Capabilities" }
            ul {
                @for u in entry.use_cases() { li { (use_case_label(*u)) } }
            }
            @if !entry.industries().is_empty() {
                p { "Built for: " (entry.industries().iter().map(|i| industry_label(*i)).collect::<Vec<_>>().join(", ")) }
            }
        }
        section aria-labelledby="protocols" {
            h2 id="protocols" { "Supported protocols" }
            ul {
                @for f in entry.functionality() { li { (functionality_label(*f)) } }
            }
            @if let Some(saml) = entry.saml() {
                dl class="settings" {
                    @if let Some(acs) = &saml.acs_url { dt { "Assertion Consumer Service URL" } dd { code { (acs.as_str()) } } }
                    @if let Some(aud) = &saml.audience { dt { "Audience (SP entity ID)" } dd { code { (aud.as_str()) } } }
                    dt { "NameID format" } dd { code { (saml.name_id_format) } }
                    dt { "Sign-in starts from" }
                    dd {
                        (match (saml.sp_initiated, saml.idp_initiated) {
                            (true, true) => "the app or the dashboard (SP- and IdP-initiated)",
                            (true, false) => "the app (SP-initiated)",
                            (false, true) => "the dashboard (IdP-initiated)",
                            (false, false) => "not stated",
                        })
                    }
                }
            }
        }
        section aria-labelledby="variables" {
            h2 id="variables" { "Tenant settings" }
            @if entry.variables().is_empty() {
                p class="empty" { "None: this integration needs no settings of your own." }
            } @else {
                p { "Adding the integration asks for these values from your account with the vendor." }
                table {
                    thead { tr { th scope="col" { "Setting" } th scope="col" { "Example" } th scope="col" { "Rule" } } }
                    tbody {
                        @for v in entry.variables() {
                            tr { th scope="row" { (v.label()) } td { code { (v.sample()) } } td { code class="pattern" { (v.pattern()) } } }
                        }
                    }
                }
            }
        }
        @if entry.source().is_some() {
            p class="muted attribution" { "Integration facts derived from Microsoft Entra documentation (CC BY 4.0); see catalog-data/NOTICE." }
        }
    };
    view.respond(StatusCode::OK, shell(&state, &admin, &view.csrf, entry.label(), Section::Catalog, body))
}
