//! SP-initiated single logout: GET and POST /app/{name}/{id}/slo/saml.
//!
//! | step | on failure |
//! |---|---|
//! | the app exists, is SAML, and has SLO configured | 404 page |
//! | the message decodes within bounds, and is a LogoutRequest | 400 page, logged |
//! | `saml::check_logout_request` with signatures required (version, issuer, signature, time, NotOnOrAfter, destination, replay) | 400 page, logged |
//! | the browser's session belongs to the NameID: end it | `UnknownPrincipal`, session kept |
//! | a signed LogoutResponse to the SP's SLO URL, in the binding the request came by | |
//!
//! A request without a session in this browser is answered with Success:
//! the person is already signed out here.
//!
//! A LogoutResponse is accepted only as the signed answer to a LogoutRequest
//! we sent at dashboard sign-out (`signout`), once.

use axum::extract::{ConnectInfo, Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use saml::{
    build_logout_response, check_logout_request, check_logout_response, Binding, InboundMessage, LogoutResponse,
    LogoutResponseSpec, MessageKind, ParseLimits,
    RequestPolicy, SamlError, StatusCode as SamlStatus,
};
use serde::Deserialize;

use super::replay::Deferred;
use super::{form, keys, misconfigured, saml_app, SamlApp};
use crate::auth;
use crate::state::{AppState, EventBuilder};
use crate::syslog::{Actor, ClientInfo, Outcome, Target};
use crate::web::error_page;

#[derive(Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

pub async fn redirect_binding(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let client = auth::client_info(&headers, Some(peer));
    let decoded = InboundMessage::from_redirect_query(&query.unwrap_or_default(), &ParseLimits::default());
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
    let limits = ParseLimits::default();
    let relay = form.relay_state.as_deref();
    let decoded = match (form.saml_request.as_deref(), form.saml_response.as_deref()) {
        (Some(request), None) => InboundMessage::from_post(MessageKind::Request, request, relay, &limits),
        (None, Some(response)) => InboundMessage::from_post(MessageKind::Response, response, relay, &limits),
        _ => Err(SamlError::Missing("SAMLRequest")),
    };
    receive(&state, &headers, &client, &name, &id, decoded).await
}

async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientInfo,
    name: &str,
    id: &str,
    decoded: Result<InboundMessage, SamlError>,
) -> Response {
    let app = match saml_app(state, id).await {
        Ok(Some(app)) if app.name == name => app,
        Ok(_) => return error_page(state, StatusCode::NOT_FOUND, "Not found", "There is no SAML app at this address."),
        Err(page) => return page,
    };
    let app: &crate::apps::AppInstance = &app;
    let saml = match SamlApp::from_app(app) {
        Ok(s) => s,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    if saml.slo.is_none() && saml.participate_slo.is_none() {
        return error_page(state, StatusCode::NOT_FOUND, "Single logout not enabled", "This app does not use single logout.");
    }
    let refuse = |error: SamlError| async move {
        state
            .log(
                EventBuilder::new("user.session.end", "SAML logout request refused", Actor::unknown("unknown"), client)
                    .target(Target::other(&app.id, "AppInstance", &app.label))
                    .outcome(Outcome::deny("INVALID_LOGOUT_REQUEST"))
                    .debug("problem", error.to_string()),
            )
            .await;
        error_page(state, StatusCode::BAD_REQUEST, "Sign-out request refused", "The sign-out request from the app could not be verified.")
    };
    let message = match decoded {
        Ok(m) => m,
        Err(e) => return refuse(e).await,
    };
    let sp = match saml.logout_peer() {
        Ok(sp) => sp,
        Err(e) => return misconfigured(state, app, &e.to_string()),
    };
    let policy = RequestPolicy { endpoints: vec![super::slo_url(state, app)], clock_skew: super::clock_skew(state), ..RequestPolicy::default() };
    if message.kind == MessageKind::Response {
        // The SP's answer to a LogoutRequest we sent at dashboard sign-out.
        let in_response_to = LogoutResponse::from_message(&message).ok().and_then(|r| r.in_response_to).unwrap_or_default();
        let key = super::signout::pending_key(&app.id, &in_response_to);
        if in_response_to.is_empty() || !state.caches.saml_replay.contains_key(&key) {
            return refuse(SamlError::Invalid { field: "InResponseTo", value: in_response_to }).await;
        }
        return match check_logout_response(&message, &sp, &policy, state.clock.as_ref(), &in_response_to) {
            Ok(response) => {
                state.caches.saml_replay.invalidate(&key).await;
                let done = response.status == SamlStatus::Success;
                crate::web::html_response(
                    StatusCode::OK,
                    crate::web::page(state, "Signed out", maud::html! {
                        main class="card" {
                            h1 { @if done { "Signed out of " (app.label) } @else { "Sign-out of " (app.label) " did not complete" } }
                        }
                    }),
                    &[],
                )
            }
            Err(e) => refuse(e).await,
        };
    }
    let Some(slo) = saml.slo.clone() else {
        return refuse(SamlError::UnexpectedMessage { expected: "LogoutResponse", found: "LogoutRequest".into() }).await;
    };
    let replay = Deferred::default();
    let accepted = match check_logout_request(&message, &sp, &policy, state.clock.as_ref(), &replay) {
        Ok(a) => a,
        Err(e) => return refuse(e).await,
    };
    if !replay.commit(state, &app.id).await {
        return refuse(SamlError::Replay).await;
    }
    let key = match keys::signing_key(state, app).await {
        Ok(k) => k,
        Err(e) => return misconfigured(state, app, &e.to_string()),
    };

    // End this browser's session if it is the person the SP names.
    let mut status = SamlStatus::Success;
    let mut ended = false;
    if let Some(session) = auth::session(state, headers).await {
        let username = match crate::apps::cache::assigned_apps(state, &session.user_id).await {
            Ok(assigned) => assigned.iter().find(|a| *a.app_id == *app.id).map(|a| a.username.clone()),
            Err(_) => None,
        };
        let principal = auth::load_principal(state, &session.user_id).await.ok().flatten();
        let expected = match (&username, &principal) {
            (Some(Some(name)), _) => Some(name.to_string()),
            (Some(None), Some(p)) => Some(p.user.login().to_owned()),
            _ => None,
        };
        if expected.as_deref() == Some(accepted.request.name_id.value.as_str()) {
            auth::end_session(state, &session).await;
            ended = true;
            let actor = principal.as_ref().map(|p| Actor::user(&p.user)).unwrap_or_else(|| Actor::unknown(&session.user_id));
            state
                .log(
                    EventBuilder::new("user.session.end", "User logout from Vestibule", actor, client)
                        .target(Target::other(&session.id, "Session", "Vestibule session"))
                        .target(Target::other(&app.id, "AppInstance", &app.label))
                        .debug("initiatedBy", "SP")
                        .debug("protocol", "SAML_2_0"),
                )
                .await;
        } else {
            status = SamlStatus::UnknownPrincipal;
        }
    }

    let response = build_logout_response(
        &LogoutResponseSpec {
            issuer: super::entity_id(state, app),
            destination: slo.logout_url.clone(),
            in_response_to: Some(accepted.request.id.clone()),
            status,
        },
        state.clock.as_ref(),
        &mut rand::thread_rng(),
    );
    let signer: Option<(&dyn saml::XmlSigner, saml::SignatureAlgorithm)> = Some((key.as_ref(), saml.signing.algorithm));
    let mut page = match message.binding {
        Binding::HttpRedirect => match response.to_redirect_url(accepted.relay_state.as_deref(), signer) {
            Ok(url) => Redirect::to(&url).into_response(),
            Err(e) => return misconfigured(state, app, &e.to_string()),
        },
        _ => match response.to_post(signer) {
            Ok(value) => form::auto_post(&state.config.org_name, &slo.logout_url, "SAMLResponse", &value, accepted.relay_state.as_deref()),
            Err(e) => return misconfigured(state, app, &e.to_string()),
        },
    };
    if ended {
        page.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(crate::web::CLEAR_SESSION_COOKIE));
    }
    page
}
