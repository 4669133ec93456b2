//! The Admin Console's application pages: the Applications list, Browse App
//! Catalog, an entry's details, Add Integration, Create App Integration, and
//! an app's page with its General, Sign On and Assignments tabs.
//!
//! Every change goes through the same functions as the Apps API
//! (`api::create_app`, `api::update_app`, the assignment service in
//! `apps::cache`), so a page can never accept what the API would refuse, and
//! the API's `errorCauses` ("settings.app.subdomain: …") are shown next to
//! the field they name. Form fields are named by their API path for that
//! reason.
//!
//! Pages read with the `Read` permission and change with `ManageApps`. Forms
//! are CSRF-protected like the rest of the Admin Console. The catalog page is
//! the one page with a script (suggestions as you type); it is served from
//! /assets/ and the page sets its own Content-Security-Policy allowing it.

mod add;
// The authorization-server pages draw with this module's toolkit, as a child.
#[path = "../admin_authz/mod.rs"]
mod admin_authz;
mod app;
mod catalog;
mod create;
mod forms;
mod list;
mod oidc_edit;
mod saml_edit;

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page, require_person};
use crate::apps::{username, AppInstance};
use crate::auth::{Credential, Principal};
use crate::directory::Permission;
use crate::error::ApiError;
use crate::state::{AppState, CachedPrincipal};
use crate::store::SessionRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/apps", get(list::show))
        .route("/admin/apps/catalog", get(catalog::browse))
        .route("/admin/apps/catalog/suggest", get(catalog::suggest))
        .route("/admin/apps/catalog/{name}", get(catalog::details))
        .route("/admin/apps/catalog/{name}/add", get(add::show).post(add::submit))
        .route("/admin/apps/new", get(create::show).post(create::submit))
        .route("/admin/apps/{id}", get(app::show))
        .route("/admin/apps/{id}/lifecycle/{op}", post(list::lifecycle))
        .route("/admin/apps/{id}/general", post(app::save_general))
        .route("/admin/apps/{id}/signon", post(app::save_sign_on))
        .route("/admin/apps/{id}/users", post(app::assign_user))
        .route("/admin/apps/{id}/users/{user_id}", post(app::update_user))
        .route("/admin/apps/{id}/users/{user_id}/remove", post(app::unassign_user))
        .route("/admin/apps/{id}/groups", post(app::assign_group))
        .route("/admin/apps/{id}/groups/{group_id}/remove", post(app::unassign_group))
        .route("/admin/apps/{id}/oidc", get(oidc_edit::show).post(oidc_edit::save))
        .route("/admin/apps/{id}/oidc/secret", post(oidc_edit::new_secret))
        .route("/admin/apps/{id}/oidc/grants", post(oidc_edit::grant))
        .route("/admin/apps/{id}/oidc/grants/{grant_id}/revoke", post(oidc_edit::revoke))
        .route("/admin/apps/{id}/saml", get(saml_edit::show).post(saml_edit::save))
        .route("/admin/apps/{id}/saml/keys/generate", post(saml_edit::generate))
        .route("/admin/apps/{id}/saml/keys/{kid}/activate", post(saml_edit::activate))
        .route("/admin/apps/{id}/saml/keys/{kid}/remove", post(saml_edit::remove))
        .route("/assets/admin-apps.js", get(script))
        .merge(admin_authz::router())
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("admin-apps.js"),
    )
}

/// The policy of pages that load our one script: the default policy plus
/// same-origin scripts and same-origin fetches for the suggestions.
const SCRIPT_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The signed-in administrator behind a page.
pub(crate) struct Admin {
    person: Arc<CachedPrincipal>,
    session: Arc<SessionRecord>,
}

impl Admin {
    fn can_manage(&self) -> bool {
        self.person.roles.iter().any(|r| r.grants(Permission::ManageApps))
    }

    /// The principal the API functions act as: this person, through their session.
    fn principal(&self) -> Principal {
        Principal { user: self.person.user.clone(), roles: self.person.roles.clone(), credential: Credential::Session(self.session.clone()) }
    }
}

/// The administrator for a page that reads: a person whose roles grant `Read`.
async fn admin(state: &AppState, headers: &HeaderMap, here: &str) -> Result<Admin, Response> {
    let (person, session) = require_person(state, headers, here).await?;
    if !person.roles.iter().any(|r| r.grants(Permission::Read)) {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Not an administrator", "The Admin Console is for administrators."));
    }
    Ok(Admin { person, session })
}

/// The administrator for a form that changes apps: a valid CSRF field and `ManageApps`.
async fn manager(state: &AppState, headers: &HeaderMap, here: &str, csrf: &str) -> Result<Admin, Response> {
    let admin = admin(state, headers, here).await?;
    if !csrf_ok(state, headers, csrf) {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Form expired", "The form expired or came from another site. Go back, reload the page and try again."));
    }
    if !admin.can_manage() {
        return Err(error_page(state, StatusCode::FORBIDDEN, "Not allowed", "Changing applications needs the Application Administrator or Super Administrator role."));
    }
    Ok(admin)
}

/// The CSRF token for the forms of one response, and the cookie to set if it is new.
struct View {
    csrf: String,
    set_cookie: Option<String>,
}

impl View {
    fn new(state: &AppState, headers: &HeaderMap) -> Self {
        let (csrf, set_cookie) = csrf_token(state, headers);
        Self { csrf, set_cookie }
    }

    fn respond(&self, status: StatusCode, markup: Markup) -> Response {
        html_response(status, markup, &self.set_cookie.iter().cloned().collect::<Vec<_>>())
    }

    /// A response for a page that runs /assets/admin-apps.js.
    fn respond_with_script(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = self.respond(status, markup);
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SCRIPT_CSP));
        response
    }
}

/// Which entry of our navigation a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Applications,
    Catalog,
    AuthorizationServers,
}

/// The Admin Console layout for the application pages, with their navigation.
fn shell(state: &AppState, admin: &Admin, csrf: &str, title: &str, section: Section, body: Markup) -> Markup {
    let current = |s: Section| if s == section { Some("page") } else { None };
    page(
        state,
        title,
        html! {
            a class="skip" href="#content" { "Skip to content" }
            header class="bar" {
                span class="org" { (state.config.org_name) " Admin Console" }
                nav aria-label="Admin" {
                    a href="/admin" { "Overview" }
                    a href="/admin/apps" aria-current=[current(Section::Applications)] { "Applications" }
                    a href="/admin/apps/catalog" aria-current=[current(Section::Catalog)] { "Browse App Catalog" }
                    a href="/admin/authorization-servers" aria-current=[current(Section::AuthorizationServers)] { "Authorization Servers" }
                    a href="/admin/tokens" { "API Tokens" }
                    a href="/app/UserHome" { "My Apps" }
                    span { "Signed in as " strong { (admin.person.user.display_name()) } }
                    form method="post" action="/login/signout" class="inline" {
                        (csrf_field(csrf))
                        button type="submit" class="link" { "Sign out" }
                    }
                }
            }
            main id="content" { (body) }
        },
    )
}

/// The submitted fields of a form, in order; a name may repeat (checkboxes).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; empty when absent.
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }

    fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == "true")
    }
}

/// Problems with a submitted form: per field (by API path), and the rest.
#[derive(Default)]
pub(crate) struct FieldErrors {
    by_field: Vec<(String, String)>,
    general: Vec<String>,
}

impl FieldErrors {
    /// Reads an API error's causes, each "path: problem". A path with an
    /// index (`redirect_uris[1]`) belongs to the field without it.
    fn from_api(error: &ApiError) -> Self {
        let mut errors = Self::default();
        for cause in &error.causes {
            match cause.split_once(": ") {
                Some((path, problem)) if !path.contains(' ') => {
                    let field = path.split('[').next().unwrap_or(path);
                    errors.add(field, problem);
                }
                _ => errors.general.push(cause.clone()),
            }
        }
        if errors.is_empty() {
            errors.general.push(if error.status.is_server_error() {
                "Something went wrong on our side. Try again in a moment.".to_owned()
            } else {
                error.summary.clone()
            });
        }
        errors
    }

    fn add(&mut self, field: &str, problem: impl Into<String>) {
        self.by_field.push((field.to_owned(), problem.into()));
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.by_field.iter().find(|(f, _)| f == field).map(|(_, p)| p.as_str())
    }

    fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    fn any_under(&self, prefix: &str) -> bool {
        self.by_field.iter().any(|(f, _)| f == prefix || f.starts_with(&format!("{prefix}.")))
    }

    /// The summary at the top of a form: a link to each field with a problem
    /// (`fields` lists the form's fields with their labels), and the problems
    /// no field on the form shows.
    fn summary(&self, fields: &[(&str, &str)]) -> Markup {
        if self.is_empty() {
            return html! {};
        }
        html! {
            div class="error" role="alert" id="form-errors" tabindex="-1" {
                p { strong { "Fix the following and try again:" } }
                ul {
                    @for (field, problem) in &self.by_field {
                        @if let Some((_, label)) = fields.iter().find(|(f, _)| f == field) {
                            li { a href=(format!("#{}", field_id(field))) { (label) } ": " (problem) }
                        } @else {
                            li { code { (field) } ": " (problem) }
                        }
                    }
                    @for problem in &self.general {
                        li { (problem) }
                    }
                }
            }
        }
    }
}

/// The HTML id of the input for an API path.
fn field_id(path: &str) -> String {
    let mut id = String::from("f-");
    id.extend(path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }));
    id
}

/// How a form field is drawn.
#[derive(Clone, Copy)]
enum Input<'a> {
    Text,
    Url,
    /// A text field with a hint under its label.
    Hinted(&'a str),
}

/// A labelled text field, with its error (if any) under it and tied to it.
fn text_field(path: &str, label: &str, value: &str, input: Input, required: bool, disabled: bool, errors: &FieldErrors) -> Markup {
    let id = field_id(path);
    let error = errors.get(path);
    let hint = match input {
        Input::Hinted(h) => Some(h),
        _ => None,
    };
    let described: Vec<String> =
        [hint.map(|_| format!("{id}-hint")), error.map(|_| format!("{id}-error"))].into_iter().flatten().collect();
    let kind = if matches!(input, Input::Url) { "url" } else { "text" };
    html! {
        div class="field" {
            label for=(id) { (label) @if required { span class="required" { " (required)" } } }
            @if let Some(h) = hint {
                p class="hint" id=(format!("{id}-hint")) { (h) }
            }
            @if let Some(e) = error {
                p class="field-error" id=(format!("{id}-error")) { (e) }
            }
            input id=(id) name=(path) type=(kind) value=(value) required[required] disabled[disabled]
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
        }
    }
}

/// An error for a group of controls (radio buttons, checkboxes), inside its fieldset.
fn group_error(path: &str, errors: &FieldErrors) -> Markup {
    html! {
        @if let Some(e) = errors.get(path) {
            p class="field-error" id=(format!("{}-error", field_id(path))) { (e) }
        }
    }
}

/// The application username formats offered, as (form value, label, template).
const USERNAME_FORMATS: [(&str, &str, &str); 4] = [
    ("OKTA_USERNAME", "Okta username", username::OKTA_USERNAME),
    ("OKTA_USERNAME_PREFIX", "Okta username prefix", username::OKTA_USERNAME_PREFIX),
    ("EMAIL", "Email", username::EMAIL),
    ("EMAIL_PREFIX", "Email prefix", username::EMAIL_PREFIX),
];

/// The Sign-On Options an admin sets on every app: username format, when it
/// is updated, and password reveal. Read from an app's credentials.
struct UsernameOptions {
    format: String,
    custom: String,
    push: bool,
    reveal_password: bool,
}

impl UsernameOptions {
    fn of(credentials: &Map<String, Value>) -> Self {
        let template = credentials.get("userNameTemplate");
        let text = template.and_then(|t| t.get("template")).and_then(Value::as_str).unwrap_or(username::OKTA_USERNAME);
        let kind = template.and_then(|t| t.get("type")).and_then(Value::as_str).unwrap_or("BUILT_IN");
        let format = if kind == "NONE" {
            "NONE".to_owned()
        } else {
            USERNAME_FORMATS.iter().find(|(_, _, t)| *t == text).map(|(v, _, _)| (*v).to_owned()).unwrap_or_else(|| "CUSTOM".to_owned())
        };
        Self {
            custom: if format == "CUSTOM" { text.to_owned() } else { String::new() },
            format,
            push: template.and_then(|t| t.get("pushStatus")).and_then(Value::as_str) != Some("DONT_PUSH"),
            reveal_password: credentials.get("revealPassword").and_then(Value::as_bool).unwrap_or(false),
        }
    }

    fn from_form(form: &Fields) -> Self {
        Self {
            format: form.get("usernameFormat").to_owned(),
            custom: form.get("credentials.userNameTemplate.template").to_owned(),
            push: form.get("credentials.userNameTemplate.pushStatus") != "DONT_PUSH",
            reveal_password: form.checked("credentials.revealPassword"),
        }
    }

    /// Writes `userNameTemplate` and `revealPassword` into `credentials`.
    /// An unknown format is left to the API to refuse, by type.
    fn apply(&self, credentials: &mut Map<String, Value>) {
        let push = if self.push { "PUSH" } else { "DONT_PUSH" };
        let template = match self.format.as_str() {
            "NONE" => json!({ "template": "", "type": "NONE", "pushStatus": push }),
            "CUSTOM" => json!({ "template": self.custom, "type": "CUSTOM", "pushStatus": push }),
            other => match USERNAME_FORMATS.iter().find(|(v, _, _)| *v == other) {
                Some((_, _, t)) => json!({ "template": t, "type": "BUILT_IN", "pushStatus": push }),
                None => json!({ "template": "", "type": other, "pushStatus": push }),
            },
        };
        credentials.insert("userNameTemplate".into(), template);
        credentials.insert("revealPassword".into(), Value::Bool(self.reveal_password));
    }

    /// The form controls, named so that the API's causes land on them.
    fn form(&self, errors: &FieldErrors, disabled: bool) -> Markup {
        let format_id = field_id("credentials.userNameTemplate.type");
        let format_error = errors.get("credentials.userNameTemplate.type");
        html! {
            div class="field" {
                label for=(format_id) { "Application username format" }
                @if let Some(e) = format_error {
                    p class="field-error" id=(format!("{format_id}-error")) { (e) }
                }
                select id=(format_id) name="usernameFormat" disabled[disabled] aria-invalid=[format_error.map(|_| "true")]
                    aria-describedby=[format_error.map(|_| format!("{format_id}-error"))] {
                    @for (value, label, _) in USERNAME_FORMATS {
                        option value=(value) selected[self.format == value] { (label) }
                    }
                    option value="CUSTOM" selected[self.format == "CUSTOM"] { "Custom expression" }
                    option value="NONE" selected[self.format == "NONE"] { "None" }
                }
            }
            (text_field(
                "credentials.userNameTemplate.template",
                "Custom expression",
                &self.custom,
                Input::Hinted("Used when the format is “Custom expression”, e.g. ${source.firstName}.${source.lastName}"),
                false,
                disabled,
                errors,
            ))
            fieldset {
                legend { "Update application username on" }
                (group_error("credentials.userNameTemplate.pushStatus", errors))
                label class="choice" {
                    input type="radio" name="credentials.userNameTemplate.pushStatus" value="PUSH" checked[self.push] disabled[disabled];
                    " Create and update"
                }
                label class="choice" {
                    input type="radio" name="credentials.userNameTemplate.pushStatus" value="DONT_PUSH" checked[!self.push] disabled[disabled];
                    " Create only"
                }
            }
            fieldset {
                legend { "Password reveal" }
                (group_error("credentials.revealPassword", errors))
                label class="choice" {
                    input type="checkbox" name="credentials.revealPassword" value="true" checked[self.reveal_password] disabled[disabled];
                    " Allow people to see their password for this app"
                }
            }
        }
    }
}

/// Labels for the catalog's vocabularies.
fn use_case_label(u: ::catalog::UseCase) -> &'static str {
    match u {
        ::catalog::UseCase::Sso => "Single sign-on",
        ::catalog::UseCase::Provisioning => "Provisioning",
        ::catalog::UseCase::JitProvisioning => "Just-in-time provisioning",
    }
}

fn functionality_label(f: ::catalog::Functionality) -> &'static str {
    match f {
        ::catalog::Functionality::Saml => "SAML 2.0",
        ::catalog::Functionality::Oidc => "OpenID Connect",
        ::catalog::Functionality::WsFederation => "WS-Federation",
        ::catalog::Functionality::Swa => "Secure Web Authentication (SWA)",
        ::catalog::Functionality::Scim => "SCIM provisioning",
        ::catalog::Functionality::Bookmark => "Bookmark",
    }
}

fn industry_label(i: ::catalog::Industry) -> &'static str {
    match i {
        ::catalog::Industry::Education => "Education",
        ::catalog::Industry::FinancialServices => "Financial services",
        ::catalog::Industry::Government => "Government",
        ::catalog::Industry::Healthcare => "Healthcare",
        ::catalog::Industry::Legal => "Legal",
        ::catalog::Industry::Retail => "Retail",
    }
}

/// The app's status as a badge.
fn status_badge(app: &AppInstance) -> Markup {
    let active = app.status == crate::apps::AppStatus::Active;
    html! { span class=(if active { "badge active" } else { "badge inactive" }) { (if active { "Active" } else { "Inactive" }) } }
}

/// A form's submitted fields. Forms post `application/x-www-form-urlencoded`.
type FormFields = axum::extract::Form<Vec<(String, String)>>;

fn fields(form: FormFields) -> Fields {
    Fields(form.0)
}

/// Where to go after an action: a path under /admin/apps, or the list.
fn back_to(target: &str) -> String {
    let ok = (target == "/admin/apps" || target.starts_with("/admin/apps/") || target.starts_with("/admin/apps?"))
        && !target.contains("//")
        && !target.contains('\\')
        && !target.chars().any(char::is_control);
    if ok { target.to_owned() } else { "/admin/apps".to_owned() }
}

/// Redirects with 303, so that a reload does not post again.
fn see_other(target: &str) -> Response {
    axum::response::Redirect::to(target).into_response()
}
