//! GET /app/{name}/{id}/sso/wsfed/passive: the passive requestor endpoint
//! (WS-Federation 1.2 §13.2).
//!
//! | step | on failure |
//! |---|---|
//! | the app exists, is WS_FEDERATION, active, and the name matches | 404 page |
//! | parameters are single and bounded | 400 page |
//! | `wa` is wsignin1.0, wsignout1.0 or wsignoutcleanup1.0 (§13.2.1) | 400 page, logged |
//! | sign-in: `wtrealm` is the app's realm (§13.2.3) | 400 page, logged |
//! | `wreply`, when given, is a registered reply URL (§13.2.3) | 400 page, logged |
//! | sign-in: a session, else sign in first and come back (the request is its own URL) | redirect to /login |
//! | sign-in: the person is assigned the app | 403 page, logged |
//! | sign-in: the token posted to the reply URL with `wctx` as given (§13.2.4) | |
//! | sign-out: the session ends; the other apps it reached are sent wsignoutcleanup1.0 | |
//!
//! No token and no post leave on any failure: an error is a page here.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{issue, misconfigured, post_token, remember, session_index, wsfed_app, WsFedApp};
use crate::apps::{AppInstance, AppStatus};
use crate::auth;
use crate::state::{AppState, EventBuilder};
use crate::syslog::{Actor, ClientInfo, Outcome, Target};
use crate::web::{error_page, CLEAR_SESSION_COOKIE};

/// Longest query accepted: the whole request must fit in the sign-in
/// redirect's `fromURI` when the person signs in first.
const MAX_QUERY: usize = 1800;

/// The request's parameters.
#[derive(Debug, Default)]
struct Request {
    wa: Option<String>,
    wtrealm: Option<String>,
    wreply: Option<String>,
    wctx: Option<String>,
}

/// Parameters are read once each; a repeated one is refused rather than guessed at.
fn parse(query: &str) -> Result<Request, &'static str> {
    if query.len() > MAX_QUERY {
        return Err("The sign-in request is too long.");
    }
    let mut request = Request::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "wa" => &mut request.wa,
            "wtrealm" => &mut request.wtrealm,
            "wreply" => &mut request.wreply,
            "wctx" => &mut request.wctx,
            _ => continue,
        };
        if slot.is_some() {
            return Err("The sign-in request repeats a parameter.");
        }
        *slot = Some(value.into_owned());
    }
    Ok(request)
}

async fn refuse(state: &AppState, app: &AppInstance, client: &ClientInfo, reason: &str, problem: &str, message: &str) -> Response {
    state
        .log(
            EventBuilder::new("user.authentication.sso", "WS-Federation request refused", Actor::unknown("unknown"), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .outcome(Outcome::deny(reason))
                .debug("signOnMode", app.sign_on_mode.as_str())
                .debug("initiatedBy", "SP")
                .debug("problem", problem),
        )
        .await;
    error_page(state, StatusCode::BAD_REQUEST, "Sign-in request refused", message)
}

pub async fn passive(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((name, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let client = auth::client_info(&headers, Some(peer));
    let app = match wsfed_app(&state, &id).await {
        Ok(Some(app)) if app.name == name && app.status == AppStatus::Active => app,
        Ok(_) => return error_page(&state, StatusCode::NOT_FOUND, "App not available", "There is no active WS-Federation app at this address."),
        Err(page) => return page,
    };
    let wsfed = match WsFedApp::from_app(&app) {
        Ok(w) => w,
        Err(problem) => return misconfigured(&state, &app, &problem),
    };
    let query = query.unwrap_or_default();
    let request = match parse(&query) {
        Ok(r) => r,
        Err(message) => return refuse(&state, &app, &client, "INVALID_REQUEST", message, message).await,
    };
    if let Some(wreply) = request.wreply.as_deref() {
        if !wsfed.reply_registered(wreply) {
            return refuse(&state, &app, &client, "UNREGISTERED_WREPLY", &format!("wreply {wreply} is not registered"), "The app asked for your sign-in to be sent to an address it has not registered.").await;
        }
    }
    match request.wa.as_deref() {
        Some("wsignin1.0") => sign_in(&state, &headers, &client, &app, &wsfed, &request, &query).await,
        Some("wsignout1.0") => sign_out(&state, &headers, &client, &app, &wsfed, &request, true).await,
        Some("wsignoutcleanup1.0") => sign_out(&state, &headers, &client, &app, &wsfed, &request, false).await,
        other => {
            let problem = format!("wa {:?} is not wsignin1.0, wsignout1.0 or wsignoutcleanup1.0", other.unwrap_or(""));
            refuse(&state, &app, &client, "UNSUPPORTED_ACTION", &problem, "The app sent a WS-Federation request this service does not support.").await
        }
    }
}

async fn sign_in(state: &AppState, headers: &HeaderMap, client: &ClientInfo, app: &Arc<AppInstance>, wsfed: &WsFedApp, request: &Request, query: &str) -> Response {
    if request.wtrealm.as_deref() != Some(wsfed.realm.as_str()) {
        let problem = format!("wtrealm {:?} is not this app's realm", request.wtrealm.as_deref().unwrap_or(""));
        return refuse(state, app, client, "UNKNOWN_REALM", &problem, "The sign-in request names a realm this app does not have.").await;
    }
    let here = format!("/app/{}/{}/sso/wsfed/passive?{query}", app.name, app.id);
    let (person, session) = match crate::web::require_person(state, headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let user = &person.user;
    let assignment = match crate::web::assignment_or_refusal(state, user, app, client).await {
        Ok(assignment) => assignment,
        Err(refusal) => return refusal,
    };
    let reply_url = request.wreply.clone().unwrap_or_else(|| wsfed.reply_url.clone());
    let issued = match issue(state, app, wsfed, user, &assignment, session.created, &session_index(app, &session.id), &reply_url).await {
        Ok(issued) => issued,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    state.metrics.launches.with_label_values(&["wsfed"]).inc();
    state
        .log(
            EventBuilder::new("user.authentication.sso", "User single sign on to app", Actor::user(user), client)
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("signOnMode", app.sign_on_mode.as_str())
                .debug("initiatedBy", "SP")
                .debug("realm", wsfed.realm.as_str())
                .debug("tokenType", wsfed.token_type.uri())
                .debug("claims", issued.claim_types.join(","))
                .debug("assertionId", issued.assertion_id.as_str()),
        )
        .await;
    remember(state, app, &session.id, &reply_url).await;
    post_token(state, &reply_url, &issued, request.wctx.as_deref())
}

/// wsignout1.0 (the app asks us to sign the person out everywhere) and
/// wsignoutcleanup1.0 (the app asks us to forget the session): the session
/// ends either way. Sign-out also sends cleanup to the other apps the session
/// reached, then returns to the registered `wreply`.
async fn sign_out(state: &AppState, headers: &HeaderMap, client: &ClientInfo, app: &AppInstance, wsfed: &WsFedApp, request: &Request, everywhere: bool) -> Response {
    let next = request.wreply.clone();
    let mut others = Vec::new();
    if let Some(session) = auth::session(state, headers).await {
        if everywhere {
            others = super::sign_ins(state, &session.id).await.into_iter().filter(|s| s.app_id != app.id).collect();
        }
        auth::end_session(state, &session).await;
        let actor = match auth::load_principal(state, &session.user_id).await {
            Ok(Some(p)) => Actor::user(&p.user),
            _ => Actor::unknown(&session.user_id),
        };
        state
            .log(
                EventBuilder::new("user.session.end", "User logout from Vestibule", actor, client)
                    .target(Target::other(&session.id, "Session", "Vestibule session"))
                    .target(Target::other(&app.id, "AppInstance", &app.label))
                    .debug("wa", if everywhere { "wsignout1.0" } else { "wsignoutcleanup1.0" })
                    .debug("realm", wsfed.realm.as_str()),
            )
            .await;
    }
    let mut response = if !others.is_empty() {
        super::cleanup_page(state, &others, next.as_deref().unwrap_or("/login"))
    } else {
        match next {
            Some(reply) => Redirect::to(&reply).into_response(),
            None => {
                let markup = crate::web::page(
                    state,
                    "Signed out",
                    maud::html! { main class="card" { h1 { "You are signed out" } p { a href="/login" { "Sign in again" } } } },
                );
                crate::web::html_response(StatusCode::OK, markup, &[])
            }
        }
    };
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_SESSION_COOKIE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_single_and_bounded() {
        let r = parse("wa=wsignin1.0&wtrealm=urn%3Arp&wctx=rm%3D0%26id%3Dpassive&x=1").unwrap();
        assert_eq!((r.wa.as_deref(), r.wtrealm.as_deref(), r.wctx.as_deref()), (Some("wsignin1.0"), Some("urn:rp"), Some("rm=0&id=passive")));
        assert!(parse("wa=wsignin1.0&wa=wsignout1.0").is_err());
        assert!(parse(&"x".repeat(MAX_QUERY + 1)).is_err());
    }
}
