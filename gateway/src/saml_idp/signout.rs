//! Dashboard sign-out ending the person's sessions at SAML apps
//! (IdP-initiated single logout, front channel).
//!
//! [`front_channel_logout`] builds, for every assigned SAML app with
//! `participateSlo` enabled, a signed LogoutRequest by HTTP-Redirect, and a
//! page that loads each in a frame while the browser still holds the SP's
//! cookies. Each request ID is remembered (in the replay cache) so the SP's
//! LogoutResponse, arriving at our SLO endpoint, is accepted once.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::html;
use saml::{build_logout_request, LogoutRequestSpec, ReceivedNameId};

use super::{entity_id, keys, session_index, SamlApp};
use crate::directory::User;
use crate::state::AppState;
use crate::store::SessionRecord;

/// The replay-cache key under which an outgoing LogoutRequest ID waits for its response.
pub fn pending_key(app_id: &str, request_id: &str) -> String {
    format!("slo-out\u{1f}{app_id}\u{1f}{request_id}")
}

/// The signed LogoutRequest URLs for the person's SAML apps that take part
/// in single logout, with the apps' labels.
pub async fn logout_requests(state: &AppState, user: &User, session: &SessionRecord) -> Vec<(String, String)> {
    let Ok(assigned) = crate::apps::cache::assigned_apps(state, &user.id).await else { return Vec::new() };
    let mut out = Vec::new();
    for assignment in assigned.iter() {
        let Ok(Some(app)) = crate::apps::cache::app(state, &assignment.app_id).await else { continue };
        if app.sign_on_mode != crate::apps::SignOnMode::Saml2 || app.status != crate::apps::AppStatus::Active {
            continue;
        }
        let Ok(saml) = SamlApp::from_app(&app) else { continue };
        let Some(participate) = saml.participate_slo.as_ref().filter(|p| p.redirect) else { continue };
        let Ok(key) = keys::signing_key(state, &app).await else { continue };
        let spec = LogoutRequestSpec {
            issuer: entity_id(state, &app),
            destination: participate.logout_request_url.clone(),
            name_id: ReceivedNameId {
                value: assignment.username.as_deref().unwrap_or_else(|| user.login()).to_owned(),
                format: Some(saml.name_id_format.uri().to_owned()),
            },
            session_indexes: vec![session_index(&app, session)],
        };
        let request = build_logout_request(&spec, state.clock.as_ref(), &mut rand::thread_rng());
        let Ok(url) = request.to_redirect_url(None, Some((key.as_ref(), saml.signing.algorithm))) else { continue };
        super::replay::first_use(state, &pending_key(&app.id, &request.id)).await;
        out.push((app.label.clone(), url));
    }
    out
}

/// The page a sign-out answers with when SAML apps take part in single
/// logout: each app's LogoutRequest in a frame, then on to `next` (a path
/// on this site). `None` when no app takes part.
pub async fn front_channel_logout(state: &AppState, user: &User, session: &SessionRecord, next: &str) -> Option<Response> {
    let requests = logout_requests(state, user, session).await;
    if requests.is_empty() {
        return None;
    }
    let origins: Vec<String> = requests
        .iter()
        .filter_map(|(_, url)| url::Url::parse(url).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    let markup = crate::web::page(
        state,
        "Signing out",
        html! {
            meta http-equiv="refresh" content=(format!("4;url={next}"));
            main class="card" {
                h1 { "Signing you out" }
                p { "Signing you out of these apps too:" }
                ul { @for (label, _) in &requests { li { (label) } } }
                @for (_, url) in &requests {
                    iframe src=(url) title="Sign-out" width="0" height="0" hidden {}
                }
                p { a href=(next) { "Continue" } }
            }
        },
    );
    let mut response = crate::web::html_response(StatusCode::OK, markup, &[]);
    let csp = format!(
        "default-src 'none'; frame-src {}; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        origins.join(" ")
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Some(response)
}
