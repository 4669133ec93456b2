//! SP-initiated single sign-on: GET and POST /app/{name}/{id}/sso/saml.
//!
//! | step | on failure |
//! |---|---|
//! | the app exists, is SAML, active, and the name matches | 404 page |
//! | the message decodes within bounds | 400 page, logged |
//! | the app allows SP-initiated sign-in (`allowSpInitiated`) | 403 page, logged |
//! | `saml::check_authn_request` (its table: version, issuer, signature, time, destination, ACS, binding, NameID policy, replay) | 400 page, logged |
//! | the request ID is used once (atomic, `replay`) | 400 page, logged |
//! | RequestedAuthnContext can be met | `NoAuthnContext` Response to the ACS |
//! | a session: else sign in first (IsPassive: `NoPassive`) | redirect to /login, back here |
//! | ForceAuthn (when honoured): a session from after the request | sign in again |
//! | the person is assigned the app | 403 page, logged |
//! | signed Response posted to the registered ACS, with InResponseTo and RelayState | |
//!
//! A person without a session signs in and comes back: the accepted request
//! travels in a sealed, path-scoped, short-lived cookie (so it works on any
//! node and nothing is stored), and is single-use through the replay cache.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use saml::{check_authn_request, choose_authn_context, InboundMessage, MessageKind, ParseLimits, RequestPolicy, SamlError, SigningKey};
use serde::{Deserialize, Serialize};

use super::replay::{self, Deferred};
use super::{form, keys, misconfigured, saml_app, SamlApp, Subject};
use crate::apps::{AppInstance, AppStatus};
use crate::auth;
use crate::state::{AppState, CachedPrincipal, EventBuilder};
use crate::store::SessionRecord;
use crate::syslog::{Actor, ClientInfo, Outcome, Target};
use crate::web::error_page;

const PENDING_COOKIE: &str = "vestibule_saml_pending";
/// The query that resumes a pending request after sign-in.
const RESUME: &str = "resume";
/// How long a person has to sign in before the SP's request is dropped.
const PENDING_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// The longest RelayState carried (bytes).
const MAX_RELAY_STATE: usize = 1024;

#[derive(Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// An accepted AuthnRequest waiting for the person to sign in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    app_id: String,
    request_id: String,
    acs_url: String,
    relay_state: Option<String>,
    force_authn: bool,
    is_passive: bool,
    class_ref: Option<String>,
    /// Milliseconds since the epoch, by our clock.
    accepted_at: i64,
    /// Makes the sealed cookie single-use.
    nonce: String,
}

fn millis(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let client = auth::client_info(&headers, Some(peer));
    let query = query.unwrap_or_default();
    if query == RESUME {
        return resume(&state, &headers, &client, &name, &id).await;
    }
    let decoded = InboundMessage::from_redirect_query(&query, &ParseLimits::default());
    receive(&state, &headers, &client, &name, &id, decoded).await
}

pub async fn post_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<PostForm>,
) -> Response {
    let client = auth::client_info(&headers, Some(peer));
    let decoded = match form.saml_request.as_deref() {
        Some(request) => {
            InboundMessage::from_post(MessageKind::Request, request, form.relay_state.as_deref(), &ParseLimits::default())
        }
        None => Err(SamlError::Missing("SAMLRequest")),
    };
    receive(&state, &headers, &client, &name, &id, decoded).await
}

/// The active SAML app at this path, or the page to answer with.
async fn active_app(state: &AppState, name: &str, id: &str) -> Result<Arc<AppInstance>, Response> {
    match saml_app(state, id).await? {
        Some(app) if app.name == name && app.status == AppStatus::Active => Ok(app),
        _ => Err(error_page(state, StatusCode::NOT_FOUND, "App not available", "There is no active SAML app at this address.")),
    }
}

async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientInfo,
    name: &str,
    id: &str,
    decoded: Result<InboundMessage, SamlError>,
) -> Response {
    let app = match active_app(state, name, id).await {
        Ok(app) => app,
        Err(page) => return page,
    };
    let saml = match super::settings_of(state, &app).await {
        Ok(s) => s,
        Err(problem) => return misconfigured(state, &app, &problem),
    };
    let message = match decoded {
        Ok(m) => m,
        Err(e) => return refuse(state, &app, client, None, &e).await,
    };
    let issuer = message.issuer();
    if !saml.allow_sp_initiated {
        let error = SamlError::Invalid { field: "AuthnRequest", value: "SP-initiated sign-in is turned off for this app (allowSpInitiated)".into() };
        log_refusal(state, &app, client, issuer.as_deref(), &error).await;
        return error_page(
            state,
            StatusCode::FORBIDDEN,
            "Start from your dashboard",
            "This app does not accept sign-in requests from itself. Open it from your dashboard instead.",
        );
    }
    let sp = match saml.service_provider() {
        Ok(sp) => sp,
        Err(e) => return misconfigured(state, &app, &e.to_string()),
    };
    let policy = RequestPolicy { endpoints: vec![super::sso_url(state, &app)], clock_skew: super::clock_skew(state), ..RequestPolicy::default() };
    let replay = Deferred::default();
    let accepted = match check_authn_request(&message, &sp, &policy, state.clock.as_ref(), &replay) {
        Ok(a) => a,
        Err(e) => return refuse(state, &app, client, issuer.as_deref(), &e).await,
    };
    if !replay.commit(state, &app.id).await {
        return refuse(state, &app, client, issuer.as_deref(), &SamlError::Replay).await;
    }
    // Bindings §3.4.3 allows 80 bytes; SPs that carry a return URL send more,
    // so allow what fits the sealed sign-in cookie, and no more.
    if accepted.relay_state.as_ref().is_some_and(|r| r.len() > MAX_RELAY_STATE) {
        let error = SamlError::Invalid { field: "RelayState", value: format!("{} bytes", accepted.relay_state.as_ref().map_or(0, String::len)) };
        return refuse(state, &app, client, issuer.as_deref(), &error).await;
    }
    let key = match keys::signing_key(state, &app).await {
        Ok(k) => k,
        Err(e) => return misconfigured(state, &app, &e.to_string()),
    };
    let relay_state = accepted.relay_state.clone();
    let class_ref = match choose_authn_context(&accepted.request, &[&saml.authn_context_class_ref]) {
        Ok(c) => c,
        Err(e) => {
            log_refusal(state, &app, client, issuer.as_deref(), &e).await;
            return error_response(state, &app, &saml, &key, &accepted.acs_url, &accepted.request.id, relay_state.as_deref(), &e);
        }
    };
    let pending = Pending {
        app_id: app.id.clone(),
        request_id: accepted.request.id.clone(),
        acs_url: accepted.acs_url.clone(),
        relay_state,
        force_authn: accepted.request.force_authn && saml.honor_force_authn,
        is_passive: accepted.request.is_passive,
        class_ref,
        accepted_at: millis(state.now()),
        nonce: crate::crypto::random_secret(),
    };
    continue_with(state, headers, client, &app, &saml, &key, pending, false).await
}

/// After sign-in: the accepted request from the sealed cookie.
async fn resume(state: &AppState, headers: &HeaderMap, client: &ClientInfo, name: &str, id: &str) -> Response {
    let app = match active_app(state, name, id).await {
        Ok(app) => app,
        Err(page) => return page,
    };
    let expired = || {
        error_page(
            state,
            StatusCode::BAD_REQUEST,
            "Sign-in request expired",
            "This sign-in request is no longer valid. Go back to the app and sign in again.",
        )
    };
    let Some(sealed) = auth::cookie(headers, PENDING_COOKIE).filter(|c| !c.is_empty() && c.len() < 4096) else {
        return expired();
    };
    let pending: Pending = match state
        .vault
        .open(&pending_context(&app), sealed)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    {
        Some(p) => p,
        None => return expired(),
    };
    if pending.app_id != app.id || millis(state.now()) > pending.accepted_at.saturating_add(PENDING_LIFETIME_MS) {
        return expired();
    }
    let saml = match super::settings_of(state, &app).await {
        Ok(s) => s,
        Err(problem) => return misconfigured(state, &app, &problem),
    };
    // The ACS was registered when the request was accepted; it must still be.
    if !saml.acs_endpoints.iter().any(|a| a.url == pending.acs_url) {
        return refuse(state, &app, client, None, &SamlError::UnknownAcs(pending.acs_url.clone())).await;
    }
    let key = match keys::signing_key(state, &app).await {
        Ok(k) => k,
        Err(e) => return misconfigured(state, &app, &e.to_string()),
    };
    continue_with(state, headers, client, &app, &saml, &key, pending, true).await
}

fn pending_context(app: &AppInstance) -> String {
    format!("saml_idp/pending/{}", app.id)
}

/// The signed-in person, if the session is live and they may sign in.
async fn person(state: &AppState, headers: &HeaderMap) -> Option<(Arc<CachedPrincipal>, Arc<SessionRecord>)> {
    let session = auth::session(state, headers).await?;
    match auth::load_principal(state, &session.user_id).await {
        Ok(Some(p)) if p.user.status.may_sign_in() => Some((p, session)),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn continue_with(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientInfo,
    app: &AppInstance,
    saml: &SamlApp,
    key: &SigningKey,
    pending: Pending,
    from_cookie: bool,
) -> Response {
    let no_passive = |pending: &Pending| {
        error_response(state, app, saml, key, &pending.acs_url, &pending.request_id, pending.relay_state.as_deref(), &SamlError::NoPassive)
    };
    match person(state, headers).await {
        None if pending.is_passive => no_passive(&pending),
        None => to_sign_in(state, app, &pending, false),
        Some((_, session)) if pending.force_authn && millis(session.created) < pending.accepted_at => {
            if pending.is_passive {
                return no_passive(&pending);
            }
            // ForceAuthn: this session authenticated before the request, so
            // the person proves who they are again, in a new session.
            auth::end_session(state, &session).await;
            to_sign_in(state, app, &pending, true)
        }
        Some((principal, session)) => complete(state, client, app, saml, key, &pending, &principal, &session, from_cookie).await,
    }
}

/// Sends the person to sign in, keeping the accepted request in a sealed cookie.
fn to_sign_in(state: &AppState, app: &AppInstance, pending: &Pending, clear_session: bool) -> Response {
    let path = format!("/app/{}/{}/sso/saml", app.name, app.id);
    let here = format!("{path}?{RESUME}");
    let mut response = Redirect::to(&format!("/login?fromURI={}", urlencoding::encode(&here))).into_response();
    let sealed = state.vault.seal(&pending_context(app), &serde_json::to_vec(pending).unwrap_or_default());
    let secure = if crate::web::secure_cookies(state) { "; Secure" } else { "" };
    let cookie = format!("{PENDING_COOKIE}={sealed}; Path={path}; HttpOnly; SameSite=Lax; Max-Age=900{secure}");
    if cookie.len() > 4000 {
        // Browsers drop cookies past 4 KB; say so rather than fail after sign-in.
        return error_page(
            state,
            StatusCode::BAD_REQUEST,
            "Sign in first",
            "This app's sign-in request is too large to keep while you sign in. Sign in to Vestibule, then go back to the app.",
        );
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    if clear_session {
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(crate::web::CLEAR_SESSION_COOKIE));
    }
    response
}

#[allow(clippy::too_many_arguments)]
async fn complete(
    state: &AppState,
    client: &ClientInfo,
    app: &AppInstance,
    saml: &SamlApp,
    key: &SigningKey,
    pending: &Pending,
    principal: &CachedPrincipal,
    session: &SessionRecord,
    from_cookie: bool,
) -> Response {
    let user = &principal.user;
    let assignment = match crate::web::assignment_or_refusal(state, user, app, client).await {
        Ok(assignment) => assignment,
        Err(refusal) => return refusal,
    };
    if from_cookie && !replay::first_use(state, &format!("pending\u{1f}{}", pending.nonce)).await {
        return refuse(state, app, client, None, &SamlError::Replay).await;
    }
    let subject = Subject { app, saml, user, assignment: &assignment, session };
    let issued = match super::issue(state, &subject, key, &pending.acs_url, Some(pending.request_id.clone()), pending.class_ref.clone()).await {
        Ok(issued) => issued,
        Err(e) => return misconfigured(state, app, &e.to_string()),
    };
    state.metrics.launches.with_label_values(&["saml"]).inc();
    state
        .log(
            EventBuilder::new("user.authentication.sso", "User single sign on to app", Actor::user(user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("signOnMode", app.sign_on_mode.as_str())
                .debug("initiatedBy", "SP")
                .debug("audience", saml.audience.as_str())
                .debug("nameIdFormat", saml.name_id_format.uri())
                .debug("attributes", issued.attribute_names.join(","))
                .debug("assertionId", issued.response.assertion_id.as_str()),
        )
        .await;
    let mut response = form::auto_post(
        &state.config.org_name,
        &pending.acs_url,
        "SAMLResponse",
        &issued.response.to_base64(),
        pending.relay_state.as_deref(),
    );
    if from_cookie {
        let clear = format!("{PENDING_COOKIE}=; Path=/app/{}/{}/sso/saml; HttpOnly; SameSite=Lax; Max-Age=0", app.name, app.id);
        if let Ok(v) = HeaderValue::from_str(&clear) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// A Response carrying only an error status, posted to the registered ACS of
/// an accepted request (SAML core §3.2.2.2).
#[allow(clippy::too_many_arguments)]
fn error_response(
    state: &AppState,
    app: &AppInstance,
    saml: &SamlApp,
    key: &SigningKey,
    acs_url: &str,
    in_response_to: &str,
    relay_state: Option<&str>,
    error: &SamlError,
) -> Response {
    let built = saml::build_error_response(
        &super::entity_id(state, app),
        acs_url,
        Some(in_response_to),
        error.status_code(),
        Some((key, saml.signing.algorithm)),
        state.clock.as_ref(),
        &mut rand::thread_rng(),
    );
    match built {
        Ok(response) => form::auto_post(&state.config.org_name, acs_url, "SAMLResponse", &response.to_base64(), relay_state),
        Err(e) => misconfigured(state, app, &e.to_string()),
    }
}

async fn log_refusal(state: &AppState, app: &AppInstance, client: &ClientInfo, issuer: Option<&str>, error: &SamlError) {
    let (top, second) = error.status_code().levels();
    let reason = second.unwrap_or(top).uri().rsplit(':').next().unwrap_or("Requester");
    state
        .log(
            EventBuilder::new("user.authentication.sso", "SAML request refused", Actor::unknown(issuer.unwrap_or("unknown")), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .outcome(Outcome::deny(reason))
                .debug("signOnMode", app.sign_on_mode.as_str())
                .debug("initiatedBy", "SP")
                .debug("problem", error.to_string()),
        )
        .await;
}

/// A request that failed its checks: logged, and answered with a page (its
/// ACS is not trusted, so nothing is posted anywhere).
async fn refuse(state: &AppState, app: &AppInstance, client: &ClientInfo, issuer: Option<&str>, error: &SamlError) -> Response {
    log_refusal(state, app, client, issuer, error).await;
    let message = match error {
        SamlError::Replay => "This sign-in request was already used. Go back to the app and sign in again.",
        SamlError::IssueInstantOutOfRange => "This sign-in request has expired, or the app's clock is wrong. Go back to the app and sign in again.",
        SamlError::UnknownAcs(_) => "The app asked for your sign-in to be sent to an address it has not registered.",
        SamlError::SignatureMissing
        | SamlError::SignatureInvalid
        | SamlError::SignatureStructure(_)
        | SamlError::DigestMismatch
        | SamlError::AlgorithmNotAllowed(_) => "The sign-in request's signature could not be verified.",
        SamlError::IssuerMismatch(_) | SamlError::Missing("Issuer") => "The sign-in request did not come from this app.",
        SamlError::DestinationMismatch(_) => "The sign-in request was meant for a different address.",
        _ => "The sign-in request from the app could not be read.",
    };
    error_page(state, StatusCode::BAD_REQUEST, "Sign-in request refused", message)
}
