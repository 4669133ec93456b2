//! Create App Integration: a custom app. The admin chooses the sign-on
//! method, then fills that protocol's minimal settings; the app is created
//! through `api::create_app`, and the API's causes are shown by their fields.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{admin, field_id, fields, group_error, manager, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, View};
use crate::apps::{SignOnMode, NAME_ID_FORMATS};
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

const OIDC_APP_TYPES: [(&str, &str); 4] = [
    ("web", "Web application (a server keeps the client secret)"),
    ("browser", "Single-page application (runs in the browser, no secret)"),
    ("native", "Native application (desktop or mobile, no secret)"),
    ("service", "Service (machine to machine, no people)"),
];

const GRANT_TYPES: [(&str, &str); 4] = [
    ("authorization_code", "Authorization code"),
    ("refresh_token", "Refresh token"),
    ("client_credentials", "Client credentials"),
    ("implicit", "Implicit (hybrid)"),
];

/// Each protocol's fields, as (API path, label), for the error summary.
fn labels(mode: SignOnMode) -> Vec<(&'static str, &'static str)> {
    let mut l = vec![("label", "App name")];
    l.extend(match mode {
        SignOnMode::Saml2 => vec![
            ("settings.signOn.ssoAcsUrl", "Single sign-on URL (ACS URL)"),
            ("settings.signOn.audience", "Audience URI (SP entity ID)"),
            ("settings.signOn.subjectNameIdFormat", "Name ID format"),
            ("settings.signOn.defaultRelayState", "Default relay state"),
            ("settings.signOn.responseSigned", "Signatures"),
            ("settings.signOn.assertionSigned", "Signatures"),
        ],
        SignOnMode::OpenIdConnect => vec![
            ("settings.oauthClient.application_type", "Application type"),
            ("settings.oauthClient.redirect_uris", "Sign-in redirect URIs"),
            ("settings.oauthClient.grant_types", "Grant types"),
        ],
        SignOnMode::AutoLogin => vec![
            ("settings.signOn.loginUrl", "Login page URL"),
            ("settings.app.usernameField", "Username field name"),
            ("settings.app.passwordField", "Password field name"),
            ("settings.app.buttonField", "Sign-in button name"),
        ],
        SignOnMode::WsFederation => vec![("settings.app.realm", "Realm"), ("settings.app.wReplyURL", "Reply URL")],
        SignOnMode::Bookmark => vec![("settings.app.url", "URL")],
    });
    l
}

/// The app body for `api::create_app`, in the Apps API's shape, from the form.
fn body(mode: SignOnMode, form: &Fields) -> Map<String, Value> {
    let text = |path: &str| Value::String(form.get(path).to_owned());
    let optional = |map: &mut Map<String, Value>, key: &str, path: &str| {
        if !form.get(path).is_empty() {
            map.insert(key.to_owned(), text(path));
        }
    };
    let mut body = Map::new();
    body.insert("label".into(), text("label"));
    body.insert("signOnMode".into(), Value::String(mode.as_str().to_owned()));
    if let Some(name) = mode.template_name() {
        body.insert("name".into(), Value::String(name.to_owned()));
    }
    let settings = match mode {
        SignOnMode::Saml2 => {
            let mut sign_on = Map::new();
            sign_on.insert("ssoAcsUrl".into(), text("settings.signOn.ssoAcsUrl"));
            sign_on.insert("audience".into(), text("settings.signOn.audience"));
            sign_on.insert("subjectNameIdFormat".into(), text("settings.signOn.subjectNameIdFormat"));
            optional(&mut sign_on, "defaultRelayState", "settings.signOn.defaultRelayState");
            sign_on.insert("responseSigned".into(), Value::Bool(form.checked("settings.signOn.responseSigned")));
            sign_on.insert("assertionSigned".into(), Value::Bool(form.checked("settings.signOn.assertionSigned")));
            for key in ["honorForceAuthn", "allowMultipleAcsEndpoints", "requestCompressed"] {
                sign_on.insert(key.into(), Value::Bool(false));
            }
            json!({ "signOn": sign_on })
        }
        SignOnMode::OpenIdConnect => {
            let uris: Vec<&str> = form.get("settings.oauthClient.redirect_uris").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let grants = form.all("settings.oauthClient.grant_types");
            let mut responses = Vec::new();
            if grants.contains(&"authorization_code") {
                responses.push("code");
            }
            if grants.contains(&"implicit") {
                responses.extend(["id_token", "token"]);
            }
            let app_type = form.get("settings.oauthClient.application_type");
            let auth_method = if matches!(app_type, "browser" | "native") { "none" } else { "client_secret_basic" };
            body.insert("credentials".into(), json!({ "oauthClient": { "token_endpoint_auth_method": auth_method } }));
            json!({ "oauthClient": {
                "application_type": app_type,
                "redirect_uris": uris,
                "grant_types": grants,
                "response_types": responses,
            } })
        }
        SignOnMode::AutoLogin => {
            let mut app = Map::new();
            for key in ["usernameField", "passwordField", "buttonField"] {
                optional(&mut app, key, &format!("settings.app.{key}"));
            }
            json!({ "signOn": { "loginUrl": form.get("settings.signOn.loginUrl") }, "app": app })
        }
        SignOnMode::WsFederation => json!({ "app": { "realm": form.get("settings.app.realm"), "wReplyURL": form.get("settings.app.wReplyURL") } }),
        SignOnMode::Bookmark => json!({ "app": { "url": form.get("settings.app.url"), "requestIntegration": false } }),
    };
    body.insert("settings".into(), settings);
    body
}

/// Starting values for a new form.
fn defaults(mode: SignOnMode) -> Fields {
    let mut f = vec![];
    match mode {
        SignOnMode::Saml2 => {
            f.push(("settings.signOn.subjectNameIdFormat".to_owned(), NAME_ID_FORMATS[0].to_owned()));
            f.push(("settings.signOn.responseSigned".to_owned(), "true".to_owned()));
            f.push(("settings.signOn.assertionSigned".to_owned(), "true".to_owned()));
        }
        SignOnMode::OpenIdConnect => {
            f.push(("settings.oauthClient.application_type".to_owned(), "web".to_owned()));
            f.push(("settings.oauthClient.grant_types".to_owned(), "authorization_code".to_owned()));
        }
        SignOnMode::AutoLogin => {
            f.push(("settings.app.usernameField".to_owned(), "username".to_owned()));
            f.push(("settings.app.passwordField".to_owned(), "password".to_owned()));
        }
        _ => {}
    }
    Fields(f)
}

fn protocol_fields(mode: SignOnMode, form: &Fields, errors: &FieldErrors) -> Markup {
    let text = |path: &str, label: &str, input: Input, required: bool| text_field(path, label, form.get(path), input, required, false, errors);
    match mode {
        SignOnMode::Saml2 => {
            let id = field_id("settings.signOn.subjectNameIdFormat");
            let error = errors.get("settings.signOn.subjectNameIdFormat");
            html! {
                (text("settings.signOn.ssoAcsUrl", "Single sign-on URL (ACS URL)", Input::Hinted("Where the app receives assertions, e.g. https://app.example.com/saml/acs"), true))
                (text("settings.signOn.audience", "Audience URI (SP entity ID)", Input::Hinted("The app's entity ID, e.g. https://app.example.com/saml/metadata"), true))
                div class="field" {
                    label for=(id) { "Name ID format" }
                    @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
                    select id=(id) name="settings.signOn.subjectNameIdFormat" aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))] {
                        @for f in NAME_ID_FORMATS {
                            option value=(f) selected[form.get("settings.signOn.subjectNameIdFormat") == f] { (f.rsplit(':').next().unwrap_or(f)) }
                        }
                    }
                }
                (text("settings.signOn.defaultRelayState", "Default relay state", Input::Hinted("Optional: where the app sends people after an IdP-initiated sign-in."), false))
                fieldset {
                    legend { "Signatures" }
                    (group_error("settings.signOn.responseSigned", errors))
                    (group_error("settings.signOn.assertionSigned", errors))
                    label class="choice" {
                        input type="checkbox" name="settings.signOn.responseSigned" value="true" checked[form.checked("settings.signOn.responseSigned")];
                        " Sign the response"
                    }
                    label class="choice" {
                        input type="checkbox" name="settings.signOn.assertionSigned" value="true" checked[form.checked("settings.signOn.assertionSigned")];
                        " Sign the assertion"
                    }
                }
            }
        }
        SignOnMode::OpenIdConnect => {
            let uris_id = field_id("settings.oauthClient.redirect_uris");
            let uris_error = errors.get("settings.oauthClient.redirect_uris");
            let grants = form.all("settings.oauthClient.grant_types");
            html! {
                fieldset id=(field_id("settings.oauthClient.application_type")) {
                    legend { "Application type" }
                    (group_error("settings.oauthClient.application_type", errors))
                    @for (value, label) in OIDC_APP_TYPES {
                        label class="choice" {
                            input type="radio" name="settings.oauthClient.application_type" value=(value) checked[form.get("settings.oauthClient.application_type") == value];
                            " " (label)
                        }
                    }
                }
                div class="field" {
                    label for=(uris_id) { "Sign-in redirect URIs" }
                    p class="hint" id=(format!("{uris_id}-hint")) { "One per line, e.g. https://app.example.com/callback" }
                    @if let Some(e) = uris_error { p class="field-error" id=(format!("{uris_id}-error")) { (e) } }
                    textarea id=(uris_id) name="settings.oauthClient.redirect_uris" rows="3" aria-invalid=[uris_error.map(|_| "true")]
                        aria-describedby=(if uris_error.is_some() { format!("{uris_id}-hint {uris_id}-error") } else { format!("{uris_id}-hint") }) {
                        (form.get("settings.oauthClient.redirect_uris"))
                    }
                }
                fieldset id=(field_id("settings.oauthClient.grant_types")) {
                    legend { "Grant types" }
                    (group_error("settings.oauthClient.grant_types", errors))
                    @for (value, label) in GRANT_TYPES {
                        label class="choice" {
                            input type="checkbox" name="settings.oauthClient.grant_types" value=(value) checked[grants.contains(&value)];
                            " " (label)
                        }
                    }
                }
            }
        }
        SignOnMode::AutoLogin => html! {
            (text("settings.signOn.loginUrl", "Login page URL", Input::Hinted("The page with the app's sign-in form, e.g. https://app.example.com/login"), true))
            (text("settings.app.usernameField", "Username field name", Input::Hinted("The name attribute of the form's username input."), false))
            (text("settings.app.passwordField", "Password field name", Input::Hinted("The name attribute of the form's password input."), false))
            (text("settings.app.buttonField", "Sign-in button name", Input::Hinted("Optional: the name of the button that submits the form."), false))
        },
        SignOnMode::WsFederation => html! {
            (text("settings.app.realm", "Realm", Input::Hinted("The relying party's identifier, e.g. urn:app:example"), true))
            (text("settings.app.wReplyURL", "Reply URL", Input::Hinted("Where the app receives the token, e.g. https://app.example.com/wsfed"), true))
        },
        SignOnMode::Bookmark => html! {
            (text("settings.app.url", "URL", Input::Url, true))
        },
    }
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
            (protocol_fields(mode, form, errors))
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
        return view.respond(StatusCode::OK, form_page(&state, &admin, &view, mode, &defaults(mode), &FieldErrors::default()));
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
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::create_app(&state, &admin.principal(), &client, &body(mode, &form), true).await {
        Ok(app) => see_other(&format!("/admin/apps/{}?added=1", app.id)),
        Err(e) => {
            let errors = FieldErrors::from_api(&e);
            let status = if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
            view.respond(status, form_page(&state, &admin, &view, mode, &form, &errors))
        }
    }
}
