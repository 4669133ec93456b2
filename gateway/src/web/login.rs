//! The sign-in page, the session-cookie exchange and sign-out.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use vestibule_core::Secret;

use super::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page, same_origin_target, session_cookie, CLEAR_SESSION_COOKIE};
use crate::auth;
use crate::crypto::digest_token;
use crate::signin::{self, SignInError};
use crate::state::{AppState, EventBuilder};
use crate::syslog::{Actor, Target};

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(rename = "fromURI")]
    from_uri: Option<String>,
    /// OIDC Core §3.1.2.1 `login_hint`, passed on from an authorization
    /// request: the username field starts with it.
    login_hint: Option<String>,
}

const HOME: &str = "/app/UserHome";

fn login_form(state: &AppState, csrf: &str, from: &str, username: &str, error: Option<&str>) -> maud::Markup {
    page(
        state,
        "Sign in",
        html! {
            main class="card" aria-labelledby="title" {
                p class="org" { (state.config.org_name) }
                h1 id="title" { "Sign in" }
                @if let Some(message) = error {
                    p class="error" role="alert" id="login-error" { (message) }
                }
                form method="post" action="/login" {
                    (csrf_field(csrf))
                    input type="hidden" name="fromURI" value=(from);
                    label for="username" { "Username" }
                    input id="username" name="username" type="text" autocomplete="username" required
                        autofocus[username.is_empty()] value=(username) aria-describedby=[error.map(|_| "login-error")];
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required
                        autofocus[!username.is_empty()];
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// While an OpenID Connect authorization request waits for this sign-in,
/// the page's form may lead on to the client (browsers apply CSP
/// `form-action` to the redirects after a post).
async fn with_answer_csp(state: &AppState, from: &str, mut response: Response) -> Response {
    if let Some(source) = crate::oauth::answer_form_action(state, from).await {
        if let Ok(v) = crate::oauth::page_csp(Some(&source)).parse() {
            response.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    response
}

fn target_or_home(state: &AppState, from: Option<&str>) -> String {
    from.and_then(|f| same_origin_target(state, f)).unwrap_or_else(|| HOME.to_owned())
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let from = target_or_home(&state, query.from_uri.as_deref());
    if auth::session(&state, &headers).await.is_some() {
        return Redirect::to(&from).into_response();
    }
    let (csrf, set) = csrf_token(&state, &headers);
    let hint: String = query.login_hint.as_deref().unwrap_or_default().chars().filter(|c| !c.is_control()).take(256).collect();
    let response = html_response(StatusCode::OK, login_form(&state, &csrf, &from, &hint, None), &set.into_iter().collect::<Vec<_>>());
    with_answer_csp(&state, &from, response).await
}

pub async fn okta_alias(Query(query): Query<LoginQuery>) -> Redirect {
    match query.from_uri {
        Some(from) => Redirect::to(&format!("/login?fromURI={}", urlencoding::encode(&from))),
        None => Redirect::to("/login"),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(rename = "fromURI", default)]
    from_uri: String,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::ConnectInfo(peer_addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(form): Form<LoginForm>,
) -> Response {
    let from = target_or_home(&state, Some(&form.from_uri));
    let (csrf, _) = csrf_token(&state, &headers);
    if !csrf_ok(&state, &headers, &form.csrf) {
        let (fresh, set) = csrf_token(&state, &HeaderMap::new());
        let markup = login_form(&state, &fresh, &from, &form.username, Some("Your sign-in form expired. Please try again."));
        return with_answer_csp(&state, &from, html_response(StatusCode::FORBIDDEN, markup, &set.into_iter().collect::<Vec<_>>())).await;
    }
    let client = auth::client_info(&headers, Some(peer_addr));
    let username = form.username.trim();
    if username.is_empty() || form.password.is_empty() || username.len() > 256 || form.password.len() > 1024 {
        let markup = login_form(&state, &csrf, &from, username, Some("Enter your username and password."));
        return with_answer_csp(&state, &from, html_response(StatusCode::BAD_REQUEST, markup, &[])).await;
    }
    match signin::authenticate(&state, username, &Secret::new(form.password), &client).await {
        Ok(user) => match signin::start_session(&state, &user, &client).await {
            Ok((cookie, _)) => {
                let mut response = Redirect::to(&from).into_response();
                if let Ok(v) = session_cookie(&state, &cookie).parse() {
                    response.headers_mut().append(axum::http::header::SET_COOKIE, v);
                }
                response
            }
            Err(e) => {
                tracing::error!(error = %e, "could not start a session");
                error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", "Please try again in a moment.")
            }
        },
        Err(SignInError::Busy) => {
            let markup = login_form(&state, &csrf, &from, username, Some("Many people are signing in right now. Please try again in a moment."));
            with_answer_csp(&state, &from, html_response(StatusCode::TOO_MANY_REQUESTS, markup, &[])).await
        }
        Err(SignInError::Store(e)) => {
            tracing::error!(error = %e, "store error during sign-in");
            error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", "Please try again in a moment.")
        }
        Err(_) => {
            let markup = login_form(&state, &csrf, &from, username, Some("Unable to sign in. Check your username and password."));
            with_answer_csp(&state, &from, html_response(StatusCode::UNAUTHORIZED, markup, &[])).await
        }
    }
}

#[derive(Deserialize)]
pub struct CookieRedirectQuery {
    token: Option<String>,
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
}

/// Exchanges a one-time session token for the session cookie, then
/// redirects — only to a URL on this site, checked before the token is spent.
pub async fn session_cookie_redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::ConnectInfo(peer_addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Query(query): Query<CookieRedirectQuery>,
) -> Response {
    let Some(target) = query.redirect_url.as_deref().and_then(|u| same_origin_target(&state, u)) else {
        return error_page(&state, StatusCode::BAD_REQUEST, "Invalid redirect", "The redirectUrl must be a page on this site.");
    };
    let Some(token) = query.token.filter(|t| !t.is_empty() && t.len() <= 256) else {
        return error_page(&state, StatusCode::BAD_REQUEST, "Missing token", "A session token is required.");
    };
    let user_id = match state.store.take_one_time_token(&digest_token(&token), "session", state.now()).await {
        Ok(Some(id)) => id,
        Ok(None) => return error_page(&state, StatusCode::UNAUTHORIZED, "Sign-in link expired", "This sign-in token is invalid, used or expired. Please sign in again."),
        Err(e) => {
            tracing::error!(error = %e, "store error");
            return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", "Please try again in a moment.");
        }
    };
    let client = auth::client_info(&headers, Some(peer_addr));
    let principal = match auth::load_principal(&state, &user_id).await {
        Ok(Some(p)) if p.user.status.may_sign_in() => p,
        _ => return error_page(&state, StatusCode::UNAUTHORIZED, "Unable to sign in", "This account cannot sign in."),
    };
    match signin::start_session(&state, &principal.user, &client).await {
        Ok((cookie, _)) => {
            let mut response = Redirect::to(&target).into_response();
            if let Ok(v) = session_cookie(&state, &cookie).parse() {
                response.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "could not start a session");
            error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", "Please try again in a moment.")
        }
    }
}

pub async fn signout_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, set) = csrf_token(&state, &headers);
    let markup = page(
        &state,
        "Sign out",
        html! {
            main class="card" {
                h1 { "Sign out of " (state.config.org_name) "?" }
                form method="post" action="/login/signout" {
                    (csrf_field(&csrf))
                    button type="submit" { "Sign out" }
                }
                p { a href=(HOME) { "Back to your dashboard" } }
            }
        },
    );
    html_response(StatusCode::OK, markup, &set.into_iter().collect::<Vec<_>>())
}

#[derive(Deserialize)]
pub struct SignoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::ConnectInfo(peer_addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(form): Form<SignoutForm>,
) -> Response {
    if !csrf_ok(&state, &headers, &form.csrf) {
        return error_page(&state, StatusCode::FORBIDDEN, "Sign-out form expired", "Please use the Sign out button again.");
    }
    let mut next_page = None;
    if let Some(session) = auth::session(&state, &headers).await {
        // Sessions at apps end too: SAML apps with single logout get signed
        // LogoutRequests, WS-Federation apps a wsignoutcleanup1.0, from a page
        // the browser loads before it goes on to the sign-in page.
        if let Ok(Some(principal)) = auth::load_principal(&state, &session.user_id).await {
            next_page = crate::saml_idp::front_channel_logout(&state, &principal.user, &session, "/login").await;
        }
        if next_page.is_none() {
            let wsfed = crate::wsfed::sign_ins(&state, &session.id).await;
            if !wsfed.is_empty() {
                next_page = Some(crate::wsfed::cleanup_page(&state, &wsfed, "/login"));
            }
        }
        auth::end_session(&state, &session).await;
        let client = auth::client_info(&headers, Some(peer_addr));
        let actor = match auth::load_principal(&state, &session.user_id).await {
            Ok(Some(p)) => Actor::user(&p.user),
            _ => Actor::unknown(&session.user_id),
        };
        state
            .log(
                EventBuilder::new("user.session.end", "User logout from Vestibule", actor, &client)
                    .target(Target::other(&session.id, "Session", "Vestibule session")),
            )
            .await;
    }
    let mut response = next_page.unwrap_or_else(|| Redirect::to("/login").into_response());
    response.headers_mut().append(axum::http::header::SET_COOKIE, CLEAR_SESSION_COOKIE.parse().expect("static cookie"));
    response
}
