//! Dashboard sign-out ending the person's sessions at SAML apps
//! (IdP-initiated single logout, front channel).
//!
//! [`front_channel_logout`] builds, for every assigned SAML app with
//! `participateSlo` enabled, a signed LogoutRequest in the app's binding, and
//! a page that delivers each in a hidden frame while the browser still holds
//! the SP's cookies: an HTTP-Redirect request is the frame's address; an
//! HTTP-POST request (enveloped signature) is a form that targets its frame
//! and is submitted by the page's one script (allowed by hash), with a
//! visible button per app when JavaScript is off. Each request ID is
//! remembered (in the replay cache) so the SP's LogoutResponse, arriving at
//! our SLO endpoint by either binding, is accepted once.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use maud::{html, PreEscaped};
use saml::{build_logout_request, LogoutRequestSpec, ReceivedNameId};
use sha2::Digest as _;

use super::{entity_id, keys, session_index, SamlApp};
use crate::directory::User;
use crate::state::AppState;
use crate::store::SessionRecord;

/// The replay-cache key under which an outgoing LogoutRequest ID waits for its response.
pub fn pending_key(app_id: &str, request_id: &str) -> String {
    format!("slo-out\u{1f}{app_id}\u{1f}{request_id}")
}

/// How one LogoutRequest reaches its SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// HTTP-Redirect: the URL, with the query-string signature.
    Redirect(String),
    /// HTTP-POST: the SP's URL and the base64 LogoutRequest (signed enveloped).
    Post { action: String, saml_request: String },
}

impl Delivery {
    fn url(&self) -> &str {
        match self {
            Delivery::Redirect(url) => url,
            Delivery::Post { action, .. } => action,
        }
    }
}

/// One app's LogoutRequest, with the app's label for the page.
#[derive(Debug, Clone)]
pub struct OutgoingLogout {
    pub label: String,
    pub delivery: Delivery,
}

const SUBMIT_SCRIPT: &str = "document.querySelectorAll('form.slo-post').forEach(function (f) { f.submit(); });";

static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SUBMIT_SCRIPT)))
});

/// The signed LogoutRequests for the person's SAML apps that take part in
/// single logout, in each app's binding.
pub async fn logout_requests(state: &AppState, user: &User, session: &SessionRecord) -> Vec<OutgoingLogout> {
    let Ok(assigned) = crate::apps::cache::assigned_apps(state, &user.id).await else { return Vec::new() };
    let mut out = Vec::new();
    for assignment in assigned.iter() {
        let Ok(Some(app)) = crate::apps::cache::app(state, &assignment.app_id).await else { continue };
        if app.sign_on_mode != crate::apps::SignOnMode::Saml2 || app.status != crate::apps::AppStatus::Active {
            continue;
        }
        let Ok(saml) = SamlApp::from_app(&app) else { continue };
        let Some(participate) = saml.participate_slo.as_ref() else { continue };
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
        let signer = Some((key.as_ref() as &dyn saml::XmlSigner, saml.signing.algorithm));
        let delivery = if participate.redirect {
            match request.to_redirect_url(None, signer) {
                Ok(url) => Delivery::Redirect(url),
                Err(e) => {
                    tracing::error!(app = %app.id, error = %e, "could not sign a LogoutRequest");
                    continue;
                }
            }
        } else {
            match request.to_post(signer) {
                Ok(saml_request) => Delivery::Post { action: participate.logout_request_url.clone(), saml_request },
                Err(e) => {
                    tracing::error!(app = %app.id, error = %e, "could not sign a LogoutRequest");
                    continue;
                }
            }
        };
        super::replay::first_use(state, &pending_key(&app.id, &request.id)).await;
        out.push(OutgoingLogout { label: app.label.clone(), delivery });
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
    let origin = |d: &Delivery| url::Url::parse(d.url()).ok().map(|u| u.origin().ascii_serialization());
    let mut frame_origins: Vec<String> = requests.iter().filter_map(|r| origin(&r.delivery)).collect();
    frame_origins.sort();
    frame_origins.dedup();
    let mut post_origins: Vec<String> =
        requests.iter().filter(|r| matches!(r.delivery, Delivery::Post { .. })).filter_map(|r| origin(&r.delivery)).collect();
    post_origins.sort();
    post_origins.dedup();
    let posts = !post_origins.is_empty();
    let markup = crate::web::page(
        state,
        "Signing out",
        html! {
            meta http-equiv="refresh" content=(format!("4;url={next}"));
            main class="card" {
                h1 { "Signing you out" }
                p { "Signing you out of these apps too:" }
                ul { @for r in &requests { li { (r.label) } } }
                @for (i, r) in requests.iter().enumerate() {
                    @match &r.delivery {
                        Delivery::Redirect(url) => {
                            iframe src=(url) title=(format!("Signing out of {}", r.label)) width="0" height="0" hidden {}
                        }
                        Delivery::Post { action, saml_request } => {
                            iframe name=(format!("slo-{i}")) title=(format!("Signing out of {}", r.label)) width="0" height="0" hidden {}
                            form class="slo-post inline" method="post" action=(action) target=(format!("slo-{i}")) {
                                input type="hidden" name="SAMLRequest" value=(saml_request);
                                noscript { button type="submit" { "Sign out of " (r.label) } }
                            }
                        }
                    }
                }
                p { a href=(next) { "Continue" } }
                @if posts {
                    script { (PreEscaped(SUBMIT_SCRIPT)) }
                }
            }
        },
    );
    let mut response = crate::web::html_response(StatusCode::OK, markup, &[]);
    let script = if posts { format!(" script-src {};", *SCRIPT_HASH) } else { String::new() };
    let csp = format!(
        "default-src 'none';{script} frame-src {}; style-src 'self'; img-src 'self' data:; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
        frame_origins.join(" "),
        post_origins.join(" ")
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Some(response)
}
