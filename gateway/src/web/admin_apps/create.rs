//! Create App Integration: a custom app. The admin chooses the sign-on
//! method, then fills that protocol's minimal settings; the app is created
//! through `api::create_app`, and the API's causes are shown by their fields.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{admin, fields, forms, manager, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, View};
use crate::apps::SignOnMode;
use crate::state::AppState;
use crate::web::csrf_field;

fn describe(mode: SignOnMode) -> &'static str {
    match mode {
        SignOnMode::Saml2 => "The app is a SAML service provider: Vestibule sends it a signed assertion.",
        SignOnMode::OpenIdConnect => "The app is an OpenID Connect client: it asks Vestibule for tokens.",
        SignOnMode::AutoLogin => "Vestibule fills in the app's own sign-in form with each person's stored username and password.",
        SignOnMode::WsFederation => "The app is a WS-Federation relying party (for example, older Microsoft software).",
        SignOnMode::Bookmark => "A link on the dashboard, with no sign-on: the app signs people in itself.",
    }
}

/// The form's fields, as (API path, label), for the error summary.
fn labels(mode: SignOnMode) -> Vec<(&'static str, &'static str)> {
    let mut l = vec![("label", "App name")];
    l.extend(forms::labels(mode));
    l
}

/// The app body for `api::create_app`, in the Apps API's shape, from the form.
fn body(mode: SignOnMode, form: &Fields) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("label".into(), Value::String(form.get("label").to_owned()));
    body.insert("signOnMode".into(), Value::String(mode.as_str().to_owned()));
    if let Some(name) = mode.template_name() {
        body.insert("name".into(), Value::String(name.to_owned()));
    }
    forms::body(mode, form, &mut body);
    body
}

fn form_page(state: &AppState, admin: &Admin, view: &View, mode: SignOnMode, form: &Fields, errors: &FieldErrors) -> Markup {
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › " a href="/admin/apps/new" { "Create App Integration" } " › " (mode.label()) }
        h1 { "New " (mode.label()) " integration" }
        (errors.summary(&labels(mode)))
        form method="post" action="/admin/apps/new" novalidate {
            (csrf_field(&view.csrf))
            input type="hidden" name="signOnMode" value=(mode.as_str());
            h2 { "General" }
            (text_field("label", "App name", form.get("label"), Input::Hinted("The name people see on their dashboard tile."), true, false, errors))
            h2 { (mode.label()) " settings" }
            (forms::fields(mode, form, errors))
            div class="actions" {
                button type="submit" { "Create" }
                " " a href="/admin/apps/new" { "Choose another method" }
            }
        }
    };
    shell(state, admin, &view.csrf, "Create App Integration", Section::Applications, body)
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    mode: String,
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<NewQuery>) -> Response {
    let admin = match admin(&state, &headers, "/admin/apps/new").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.can_manage() {
        return crate::web::error_page(&state, StatusCode::FORBIDDEN, "Not allowed", "Creating applications needs the Application Administrator or Super Administrator role.");
    }
    let view = View::new(&state, &headers);
    if let Some(mode) = SignOnMode::parse(&query.mode) {
        return view.respond_with_script(StatusCode::OK, form_page(&state, &admin, &view, mode, &Fields(forms::defaults(mode)), &FieldErrors::default()));
    }
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › Create App Integration" }
        h1 { "Create App Integration" }
        @if !query.mode.is_empty() {
            p class="error" role="alert" { "Choose one of the sign-on methods below." }
        }
        form method="get" action="/admin/apps/new" {
            fieldset {
                legend { "Sign-on method" }
                @for (i, mode) in SignOnMode::ALL.into_iter().enumerate() {
                    div class="choice-card" {
                        input type="radio" id=(format!("mode-{}", mode.as_str())) name="mode" value=(mode.as_str()) checked[i == 0]
                            aria-describedby=(format!("mode-{}-hint", mode.as_str()));
                        label for=(format!("mode-{}", mode.as_str())) { (mode.label()) }
                        p class="hint" id=(format!("mode-{}-hint", mode.as_str())) { (describe(mode)) }
                    }
                }
            }
            div class="actions" {
                button type="submit" { "Next" }
                " " a href="/admin/apps" { "Cancel" }
            }
        }
    };
    view.respond(StatusCode::OK, shell(&state, &admin, &view.csrf, "Create App Integration", Section::Applications, body))
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, form: FormFields) -> Response {
    let form = fields(form);
    let admin = match manager(&state, &headers, "/admin/apps/new", form.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let Some(mode) = SignOnMode::parse(form.get("signOnMode")) else {
        return see_other("/admin/apps/new");
    };
    if let Some((form, errors)) = forms::review(mode, &form) {
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        return view.respond_with_script(status, form_page(&state, &admin, &view, mode, &form, &errors));
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::create_app_full(&state, &admin.principal(), &client, &body(mode, &form), true).await {
        // An OIDC app's client secret is shown on the answer to this post, once.
        Ok((app, shown_once)) if mode == SignOnMode::OpenIdConnect => super::oidc_edit::created(&state, &admin, &view, &client, &form, &app, shown_once).await,
        Ok((app, _)) => see_other(&format!("/admin/apps/{}?added=1", app.id)),
        Err(e) => {
            let errors = FieldErrors::from_api(&e);
            let status = if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
            view.respond_with_script(status, form_page(&state, &admin, &view, mode, &form, &errors))
        }
    }
}
