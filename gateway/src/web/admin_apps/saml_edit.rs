//! A SAML app's own pages in the Admin Console: "Edit SAML settings" (the
//! wizard's SAML form, `forms::saml`, filled from the app and saved through
//! `api::update_app`), and the Sign On tab's "Signing certificates" section
//! with its actions, which call the same functions as the keys API
//! (`api::generate_app_key`, `api::update_app` with `credentials.signing.kid`,
//! `api::delete_app_key`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::forms::saml as form;
use super::{admin, fields, manager, see_other, shell, Admin, FieldErrors, Fields, FormFields, Section, View};
use crate::apps::keys::{self, KeyRole};
use crate::apps::{AppInstance, SignOnMode};
use crate::state::AppState;
use crate::web::{csrf_field, error_page};

async fn load(state: &AppState, id: &str) -> Result<AppInstance, Response> {
    match state.store.app(id).await {
        Ok(Some(app)) if app.sign_on_mode == SignOnMode::Saml2 => Ok(app),
        Ok(_) => Err(error_page(state, StatusCode::NOT_FOUND, "No such SAML application", "That SAML application does not exist.")),
        Err(_) => Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The application could not be loaded.")),
    }
}

fn sign_on_tab(app: &AppInstance) -> String {
    format!("/admin/apps/{}?tab=signon", app.id)
}

fn edit_page(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, values: &Fields, errors: &FieldErrors) -> Markup {
    let can = admin.can_manage();
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › " a href=(sign_on_tab(app)) { (app.label) } " › SAML settings" }
        h1 { "SAML settings: " (app.label) }
        (errors.summary(&form::labels()))
        @if can {
            form method="post" action=(format!("/admin/apps/{}/saml", app.id)) novalidate {
                (csrf_field(&view.csrf))
                (form::fields(values, errors))
                div class="actions" {
                    button type="submit" { "Save" }
                    " " a href=(sign_on_tab(app)) { "Cancel" }
                }
            }
        } @else {
            p { "Changing these settings needs the Application Administrator or Super Administrator role." }
            fieldset disabled { (form::fields(values, errors)) }
        }
    };
    shell(state, admin, &view.csrf, &format!("SAML settings · {}", app.label), Section::Applications, body)
}

/// GET /admin/apps/{id}/saml
pub async fn show(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let admin = match admin(&state, &headers, &format!("/admin/apps/{}/saml", urlencoding::encode(&id))).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let values = Fields(form::from_sign_on(&app.sign_on()));
    view.respond_with_script(StatusCode::OK, edit_page(&state, &admin, &view, &app, &values, &FieldErrors::default()))
}

/// POST /admin/apps/{id}/saml: imports SP metadata for review, or saves.
pub async fn save(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, submitted: FormFields) -> Response {
    let submitted = fields(submitted);
    let admin = match manager(&state, &headers, &format!("/admin/apps/{}/saml", urlencoding::encode(&id)), submitted.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    if let Some((values, errors)) = form::import_metadata(&submitted) {
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        return view.respond_with_script(status, edit_page(&state, &admin, &view, &app, &values, &errors));
    }
    // Settings the form does not show (catalog-rendered values, Okta's
    // extras) stay as they are.
    let mut sign_on = app.sign_on();
    sign_on.extend(form::sign_on(&submitted));
    let mut settings = app.settings.clone();
    settings.insert("signOn".into(), Value::Object(sign_on));
    let mut body = Map::new();
    body.insert("settings".into(), Value::Object(settings));
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::update_app(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}&done=saved", sign_on_tab(&app))),
        Err(e) => {
            let status = if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
            view.respond_with_script(status, edit_page(&state, &admin, &view, &app, &submitted, &FieldErrors::from_api(&e)))
        }
    }
}

/// The Sign On tab's SAML part: a warning when the app signs with SHA-1,
/// the link to edit the settings, and the signing certificates.
pub(super) async fn sign_on_section(state: &AppState, admin: &Admin, view: &View, app: &AppInstance) -> Markup {
    let can = admin.can_manage();
    let sign_on = app.sign_on();
    let sha1 = sign_on.get("signatureAlgorithm").and_then(Value::as_str) == Some("RSA_SHA1");
    let stored = state.store.app_keys(&app.id).await;
    let now = state.now();
    let date = |t: time::OffsetDateTime| t.date().to_string();
    html! {
        @if sha1 {
            div class="warning" role="alert" {
                p { strong { "This app signs with RSA-SHA1, which is weak. " } "SHA-1 signatures can in principle be forged. Switch the signature algorithm to RSA-SHA256 as soon as the app accepts it." }
            }
        }
        p {
            a href=(format!("/admin/apps/{}/saml", app.id)) { @if can { "Edit SAML settings" } @else { "SAML settings" } }
            " · " a href=(format!("/app/{}/sso/saml/certificate", app.id)) { "Download the signing certificate" }
        }
        h3 { "Signing certificates" }
        p class="hint" { "Metadata publishes every certificate listed here. To rotate: generate a new certificate, let the app read the metadata (or give it the new certificate), then use the new certificate; remove the previous one once the app no longer needs it." }
        @match &stored {
            Err(_) => p class="error" role="alert" { "The certificates could not be loaded. Try again." },
            Ok(list) => {
                table {
                    thead { tr { th scope="col" { "Key ID" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Status" } @if can { th scope="col" { "Actions" } } } }
                    tbody {
                        @for (key, role) in keys::roles(list, app.signing_kid()) {
                            tr {
                                td { code { (key.kid) } " " a href=(format!("/app/{}/sso/saml/certificate?kid={}", app.id, key.kid)) aria-label=(format!("Download certificate {}", key.kid)) { "Download" } }
                                td { (date(key.created)) }
                                td { (date(key.expires_at)) @if key.expires_at <= now { " " strong { "(expired)" } } }
                                td { (role.label()) }
                                @if can {
                                    td {
                                        @if role != KeyRole::InUse {
                                            form method="post" action=(format!("/admin/apps/{}/saml/keys/{}/activate", app.id, key.kid)) class="inline" {
                                                (csrf_field(&view.csrf))
                                                button type="submit" class="small" disabled[key.expires_at <= now] { "Use this certificate" }
                                            }
                                            " "
                                            form method="post" action=(format!("/admin/apps/{}/saml/keys/{}/remove", app.id, key.kid)) class="inline" {
                                                (csrf_field(&view.csrf))
                                                button type="submit" class="small danger" { "Remove" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can {
            form method="post" action=(format!("/admin/apps/{}/saml/keys/generate", app.id)) {
                (csrf_field(&view.csrf))
                div class="field" {
                    label for="f-validityYears" { "Validity of a new certificate" }
                    select id="f-validityYears" name="validityYears" {
                        @for years in keys::VALIDITY_YEARS {
                            option value=(years) selected[years == 10] { (years) " years" }
                        }
                    }
                }
                div class="actions" { button type="submit" { "Generate new certificate" } }
            }
        }
    }
}

/// A key action's refusal, as a page that says why and leads back.
fn refused(state: &AppState, app: &AppInstance, error: &crate::error::ApiError) -> Response {
    let detail = error.causes.first().and_then(|c| c.split_once(": ").map(|(_, p)| p.to_owned())).unwrap_or_else(|| error.summary.clone());
    let status = if error.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { error.status };
    error_page(state, status, "Certificate not changed", &format!("{detail}. Go back to {} and try again.", app.label))
}

/// POST /admin/apps/{id}/saml/keys/generate
pub async fn generate(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, submitted: FormFields) -> Response {
    let submitted = fields(submitted);
    let admin = match manager(&state, &headers, &sign_on_path(&id), submitted.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let years = submitted.get("validityYears").parse::<u32>().unwrap_or(0);
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::generate_app_key(&state, &admin.principal().user, &client, &app, years).await {
        Ok(_) => see_other(&format!("{}&done=key-generated", sign_on_tab(&app))),
        Err(e) => refused(&state, &app, &e),
    }
}

/// POST /admin/apps/{id}/saml/keys/{kid}/activate: Okta's switch, `credentials.signing.kid`.
pub async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, kid)): Path<(String, String)>,
    submitted: FormFields,
) -> Response {
    let submitted = fields(submitted);
    let admin = match manager(&state, &headers, &sign_on_path(&id), submitted.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut body = Map::new();
    body.insert("credentials".into(), json!({ "signing": { "kid": kid } }));
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::update_app(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}&done=key-activated", sign_on_tab(&app))),
        Err(e) => refused(&state, &app, &e),
    }
}

/// POST /admin/apps/{id}/saml/keys/{kid}/remove
pub async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, kid)): Path<(String, String)>,
    submitted: FormFields,
) -> Response {
    let submitted = fields(submitted);
    let admin = match manager(&state, &headers, &sign_on_path(&id), submitted.get("csrf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::delete_app_key(&state, &admin.principal().user, &client, &app, &kid).await {
        Ok(()) => see_other(&format!("{}&done=key-removed", sign_on_tab(&app))),
        Err(e) => refused(&state, &app, &e),
    }
}

fn sign_on_path(id: &str) -> String {
    format!("/admin/apps/{}?tab=signon", urlencoding::encode(id))
}
