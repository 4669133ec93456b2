//! What the Admin Console's SAML app page links to: the signing certificate
//! as a download, and a preview of the assertion a chosen person would get.
//!
//! The preview is never signed or encrypted: a signed preview would be a
//! working login to the SP as that person, and reading app settings
//! (the Read permission) must not grant that.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::{keys, misconfigured, saml_app, SamlApp, Subject};
use crate::directory::Permission;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::web::{error_page, html_response, page, require_person};

#[derive(Deserialize)]
pub struct CertificateQuery {
    kid: Option<String>,
}

/// GET /app/{id}/sso/saml/certificate[?kid=…]: the signing certificate in
/// use (or the published key `kid`), PEM. Certificates are public, as in metadata.
pub async fn certificate(State(state): State<AppState>, Path(id): Path<String>, Query(query): Query<CertificateQuery>) -> Response {
    let app = match saml_app(&state, &id).await {
        Ok(Some(app)) => app,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "Not found", "There is no SAML app with this id."),
        Err(response) => return response,
    };
    let keys = match state.store.app_keys(&app.id).await {
        Ok(k) => k,
        Err(e) => return misconfigured(&state, &app, &e.to_string()),
    };
    let key = match query.kid.as_deref() {
        Some(kid) => match keys.iter().find(|k| k.kid == kid) {
            Some(key) => key,
            None => return error_page(&state, StatusCode::NOT_FOUND, "Not found", "This app has no key with that id."),
        },
        None => match crate::apps::keys::kid_in_use(&keys, app.signing_kid()) {
            Some(key) => key,
            None => return misconfigured(&state, &app, "no signing key"),
        },
    };
    let safe = |text: &str| text.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-', "_");
    let name = match query.kid.as_deref() {
        Some(kid) => format!("{}-{}", safe(&app.name), safe(kid)),
        None => safe(&app.name),
    };
    let disposition = format!("attachment; filename=\"{name}.cert\"");
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"))],
        key.certificate_pem.clone(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    #[serde(rename = "userId")]
    user_id: Option<String>,
    login: Option<String>,
}

/// GET /app/{name}/{id}/sso/saml/preview?userId=…|login=…: for admins, the
/// Response (unsigned) this person would receive from a dashboard launch.
pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    let here = format!("/app/{name}/{id}/sso/saml/preview");
    let (admin, _) = match require_person(&state, &headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    if !admin.roles.iter().any(|r| r.grants(Permission::Read)) {
        return error_page(&state, StatusCode::FORBIDDEN, "Not an administrator", "Previews are for administrators.");
    }
    let app = match saml_app(&state, &id).await {
        Ok(Some(app)) if app.name == name => app,
        Ok(_) => return error_page(&state, StatusCode::NOT_FOUND, "Not found", "There is no SAML app at this address."),
        Err(response) => return response,
    };
    let saml = match SamlApp::from_app(&app) {
        Ok(s) => s,
        Err(problem) => {
            return html_response(
                StatusCode::OK,
                page(&state, "Assertion preview", html! { main class="card" { h1 { "Assertion preview" } p role="alert" { "The SAML settings are incomplete: " (problem) } } }),
                &[],
            )
        }
    };
    let found = match (query.user_id.as_deref(), query.login.as_deref()) {
        (Some(uid), _) if uid.len() <= 64 => state.store.user(uid).await,
        (None, Some(login)) if login.len() <= 256 => state.store.user_by_login(login).await,
        _ => Ok(None),
    };
    let body = match found {
        Err(e) => return misconfigured(&state, &app, &e.to_string()),
        Ok(None) => html! { p { "Choose a person by " code { "userId" } " or " code { "login" } "." } },
        Ok(Some(record)) => match crate::apps::cache::launchable(&state, &record.user.id, &app.id).await {
            Ok(Some((_, assignment))) => {
                let key = match keys::signing_key(&state, &app).await {
                    Ok(k) => k,
                    Err(e) => return misconfigured(&state, &app, &e.to_string()),
                };
                let mut unsigned = saml;
                unsigned.signing.sign_assertion = false;
                unsigned.signing.sign_response = false;
                unsigned.encryption = None;
                let now = state.now();
                let session = SessionRecord {
                    id: "preview".into(),
                    cookie_digest: String::new(),
                    user_id: record.user.id.clone(),
                    created: now,
                    last_active: now,
                    expires_at: now,
                    ip: String::new(),
                    user_agent: String::new(),
                };
                let subject = Subject { app: &app, saml: &unsigned, user: &record.user, assignment: &assignment, session: &session };
                match super::issue(&state, &subject, &key, &unsigned.acs_url, None, None).await {
                    Ok(issued) => html! {
                        p { "What " strong { (record.user.display_name()) } " would send to " code { (unsigned.acs_url) } ", shown unsigned and unencrypted." }
                        pre class="xml" { (issued.response.xml) }
                    },
                    Err(e) => return misconfigured(&state, &app, &e.to_string()),
                }
            }
            Ok(None) => html! { p { (record.user.display_name()) " is not assigned this app." } },
            Err(e) => return misconfigured(&state, &app, &e.to_string()),
        },
    };
    html_response(
        StatusCode::OK,
        page(&state, "Assertion preview", html! {
            main class="card" {
                h1 { "Assertion preview: " (app.label) }
                (body)
                p {
                    a href=(format!("/app/{}/sso/saml/metadata", app.id)) { "IdP metadata" } " · "
                    a href=(format!("/app/{}/sso/saml/certificate", app.id)) { "Signing certificate" }
                }
            }
        }),
        &[],
    )
}
