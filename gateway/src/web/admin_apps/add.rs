//! Add Integration: a catalog entry becomes an app in two steps, General
//! Settings (the label and the entry's tenant variables) and Sign-On Options
//! (sign-on mode, application username, update-on, password reveal), then
//! Done, which lands on the new app's page.
//!
//! The steps keep no state on the server: the second step carries the first
//! step's values in hidden fields, and the app is created, through
//! `api::create_app`, only when the admin presses Done.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::catalog::modes_of;
use super::{admin, fields, group_error, manager, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, UsernameOptions, View};
use crate::apps::SignOnMode;
use crate::state::AppState;
use crate::web::csrf_field;

const VARIABLE_PREFIX: &str = "settings.app.";

/// What the admin entered so far.
struct Draft {
    label: String,
    variables: Vec<(String, String)>,
    mode: String,
    options: UsernameOptions,
}

impl Draft {
    fn fresh(entry: &::catalog::AppEntry) -> Self {
        Self {
            label: entry.label().to_owned(),
            variables: entry.variables().iter().map(|v| (v.name().to_owned(), String::new())).collect(),
            mode: modes_of(entry).first().map(|m| m.as_str().to_owned()).unwrap_or_default(),
            options: UsernameOptions::of(&crate::apps::default_credentials()),
        }
    }

    fn from_form(entry: &::catalog::AppEntry, form: &Fields) -> Self {
        let mut draft = Self::fresh(entry);
        draft.label = form.get("label").to_owned();
        for (name, value) in &mut draft.variables {
            *value = form.get(&format!("{VARIABLE_PREFIX}{name}")).to_owned();
        }
        if !form.get("signOnMode").is_empty() {
            draft.mode = form.get("signOnMode").to_owned();
        }
        if !form.get("usernameFormat").is_empty() {
            draft.options = UsernameOptions::from_form(form);
        }
        draft
    }

    fn variable(&self, name: &str) -> &str {
        self.variables.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The General Settings checks, run before the second step so that a
    /// mistake is shown where it was made: the label, and each variable
    /// against its rule, with the entry's example in the message.
    fn check_general(&self, entry: &::catalog::AppEntry) -> FieldErrors {
        let mut errors = FieldErrors::default();
        if self.label.is_empty() {
            errors.add("label", "Enter a name for the app.");
        } else if self.label.chars().count() > 100 {
            errors.add("label", "Use at most 100 characters.");
        }
        for v in entry.variables() {
            let value = self.variable(v.name());
            let path = format!("{VARIABLE_PREFIX}{}", v.name());
            if value.is_empty() {
                errors.add(&path, format!("Enter your {}.", v.label()));
            } else if v.check(value).is_err() {
                errors.add(&path, format!("This is not a valid {}. It should look like “{}”.", v.label(), v.sample()));
            }
        }
        errors
    }

    /// The body for `api::create_app`, in the Apps API's shape.
    fn body(&self, entry: &::catalog::AppEntry) -> Map<String, Value> {
        let app: Map<String, Value> = self.variables.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let mut settings = Map::new();
        settings.insert("app".into(), Value::Object(app));
        let values: ::catalog::TenantValues = self.variables.iter().cloned().collect();
        // SAML settings come from the entry's templates (create_app renders
        // them); the other modes' launch URLs are rendered here.
        match SignOnMode::parse(&self.mode) {
            Some(SignOnMode::AutoLogin) => {
                if let Some(swa) = entry.swa() {
                    if let Ok(url) = entry.render_url(&swa.login_url, &values) {
                        settings.insert("signOn".into(), json!({ "loginUrl": url }));
                    }
                }
            }
            Some(SignOnMode::OpenIdConnect) => {
                let uris: Vec<String> =
                    entry.oidc().map(|o| o.redirect_uris.iter().filter_map(|t| entry.render_url(t, &values).ok()).collect()).unwrap_or_default();
                settings.insert(
                    "oauthClient".into(),
                    json!({ "application_type": "web", "redirect_uris": uris, "grant_types": ["authorization_code"], "response_types": ["code"] }),
                );
            }
            _ => {}
        }
        let mut credentials = Map::new();
        self.options.apply(&mut credentials);
        let mut body = Map::new();
        body.insert("name".into(), Value::String(entry.name().to_owned()));
        body.insert("label".into(), Value::String(self.label.clone()));
        body.insert("signOnMode".into(), Value::String(self.mode.clone()));
        body.insert("settings".into(), Value::Object(settings));
        body.insert("credentials".into(), Value::Object(credentials));
        body
    }
}

fn steps(current: usize) -> Markup {
    let names = ["General Settings", "Sign-On Options", "Done"];
    html! {
        ol class="steps" aria-label="Steps" {
            @for (i, name) in names.iter().enumerate() {
                li aria-current=[(i == current).then_some("step")] class=(if i < current { "done" } else { "" }) { (name) }
            }
        }
    }
}

fn general_fields(entry: &::catalog::AppEntry) -> Vec<(String, String)> {
    let mut f = vec![("label".to_owned(), "Application label".to_owned())];
    f.extend(entry.variables().iter().map(|v| (format!("{VARIABLE_PREFIX}{}", v.name()), v.label().to_owned())));
    f
}

fn summary_for(entry: &::catalog::AppEntry, errors: &FieldErrors) -> Markup {
    let mut labels = general_fields(entry);
    labels.push(("signOnMode".into(), "Sign-on method".into()));
    labels.push(("credentials.userNameTemplate.type".into(), "Application username format".into()));
    labels.push(("credentials.userNameTemplate.template".into(), "Custom expression".into()));
    labels.push(("credentials.userNameTemplate.pushStatus".into(), "Update application username on".into()));
    labels.push(("credentials.revealPassword".into(), "Password reveal".into()));
    let refs: Vec<(&str, &str)> = labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    errors.summary(&refs)
}

fn general_page(state: &AppState, admin: &Admin, view: &View, entry: &::catalog::AppEntry, draft: &Draft, errors: &FieldErrors) -> Markup {
    let action = format!("/admin/apps/catalog/{}/add", urlencoding::encode(entry.name()));
    let body = html! {
        p class="crumbs" { a href="/admin/apps/catalog" { "Browse App Catalog" } " › "
            a href=(format!("/admin/apps/catalog/{}", urlencoding::encode(entry.name()))) { (entry.label()) } " › Add integration" }
        h1 { "Add " (entry.label()) }
        (steps(0))
        (summary_for(entry, errors))
        form method="post" action=(action) novalidate {
            (csrf_field(&view.csrf))
            input type="hidden" name="step" value="general";
            h2 { "General Settings" }
            (text_field("label", "Application label", &draft.label, Input::Hinted("The name people see on their dashboard tile."), true, false, errors))
            @for v in entry.variables() {
                (text_field(&format!("{VARIABLE_PREFIX}{}", v.name()), v.label(), draft.variable(v.name()), Input::Hinted(&format!("For example: {}", v.sample())), true, false, errors))
            }
            div class="actions" {
                button type="submit" { "Next" }
                " " a href=(format!("/admin/apps/catalog/{}", urlencoding::encode(entry.name()))) { "Cancel" }
            }
        }
    };
    shell(state, admin, &view.csrf, &format!("Add {}", entry.label()), Section::Catalog, body)
}

fn sign_on_page(state: &AppState, admin: &Admin, view: &View, entry: &::catalog::AppEntry, draft: &Draft, errors: &FieldErrors) -> Markup {
    let action = format!("/admin/apps/catalog/{}/add", urlencoding::encode(entry.name()));
    let modes = modes_of(entry);
    let body = html! {
        p class="crumbs" { a href="/admin/apps/catalog" { "Browse App Catalog" } " › "
            a href=(format!("/admin/apps/catalog/{}", urlencoding::encode(entry.name()))) { (entry.label()) } " › Add integration" }
        h1 { "Add " (entry.label()) }
        (steps(1))
        (summary_for(entry, errors))
        form method="post" action=(action) novalidate {
            (csrf_field(&view.csrf))
            input type="hidden" name="step" value="signon";
            input type="hidden" name="label" value=(draft.label);
            @for (name, value) in &draft.variables {
                input type="hidden" name=(format!("{VARIABLE_PREFIX}{name}")) value=(value);
            }
            h2 { "Sign-On Options" }
            fieldset id=(super::field_id("signOnMode")) {
                legend { "Sign-on method" }
                (group_error("signOnMode", errors))
                @for m in &modes {
                    label class="choice" {
                        input type="radio" name="signOnMode" value=(m.as_str()) checked[draft.mode == m.as_str()];
                        " " (m.label())
                    }
                }
            }
            (draft.options.form(errors, false))
            div class="actions" {
                button type="submit" name="go" value="done" { "Done" }
                " "
                button type="submit" name="go" value="back" class="secondary" { "Back" }
            }
        }
    };
    shell(state, admin, &view.csrf, &format!("Add {}", entry.label()), Section::Catalog, body)
}

async fn entry_and_admin(state: &AppState, headers: &HeaderMap, name: &str) -> Result<(Admin, std::sync::Arc<::catalog::Catalog>), Response> {
    let here = format!("/admin/apps/catalog/{}/add", urlencoding::encode(name));
    let admin = admin(state, headers, &here).await?;
    if !admin.can_manage() {
        return Err(crate::web::error_page(state, StatusCode::FORBIDDEN, "Not allowed", "Adding applications needs the Application Administrator or Super Administrator role."));
    }
    let catalog = state.catalog.snapshot();
    if catalog.get(name).is_none() {
        return Err(crate::web::error_page(state, StatusCode::NOT_FOUND, "Not in the catalog", "The catalog has no integration by that name."));
    }
    Ok((admin, catalog))
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    let (admin, catalog) = match entry_and_admin(&state, &headers, &name).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let entry = catalog.get(&name).expect("checked above");
    let view = View::new(&state, &headers);
    view.respond(StatusCode::OK, general_page(&state, &admin, &view, entry, &Draft::fresh(entry), &FieldErrors::default()))
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    form: FormFields,
) -> Response {
    let form = fields(form);
    let here = format!("/admin/apps/catalog/{}/add", urlencoding::encode(&name));
    let admin = match manager(&state, &headers, &here, form.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let catalog = state.catalog.snapshot();
    let Some(entry) = catalog.get(&name) else {
        return crate::web::error_page(&state, StatusCode::NOT_FOUND, "Not in the catalog", "The catalog has no integration by that name.");
    };
    let view = View::new(&state, &headers);
    let draft = Draft::from_form(entry, &form);
    let errors = draft.check_general(entry);
    if !errors.is_empty() {
        return view.respond(StatusCode::BAD_REQUEST, general_page(&state, &admin, &view, entry, &draft, &errors));
    }
    match (form.get("step"), form.get("go")) {
        ("general", _) => view.respond(StatusCode::OK, sign_on_page(&state, &admin, &view, entry, &draft, &FieldErrors::default())),
        ("signon", "back") => view.respond(StatusCode::OK, general_page(&state, &admin, &view, entry, &draft, &FieldErrors::default())),
        ("signon", _) => {
            let client = crate::auth::client_info(&headers, Some(peer));
            match crate::api::create_app(&state, &admin.principal(), &client, &draft.body(entry), true).await {
                Ok(app) => see_other(&format!("/admin/apps/{}?added=1", app.id)),
                Err(e) => {
                    let errors = FieldErrors::from_api(&e);
                    let status = if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
                    if errors.any_under("label") || errors.any_under("settings.app") {
                        view.respond(status, general_page(&state, &admin, &view, entry, &draft, &errors))
                    } else {
                        view.respond(status, sign_on_page(&state, &admin, &view, entry, &draft, &errors))
                    }
                }
            }
        }
        _ => view.respond(StatusCode::OK, general_page(&state, &admin, &view, entry, &draft, &FieldErrors::default())),
    }
}
