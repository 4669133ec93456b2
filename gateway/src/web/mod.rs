//! Server-rendered pages for people: sign-in, the dashboard, the Admin
//! Console. HTML is built with maud, which escapes every interpolated value.
//! Forms carry a CSRF token (double-submit: a SameSite=Strict cookie and a
//! hidden field that must match) and are checked against the Origin header.

mod admin;
pub mod admin_apps;
mod home;
mod launch;
mod login;
mod password;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

use crate::auth::{self, cookie};
use crate::state::AppState;

pub const CLEAR_SESSION_COOKIE: &str = "sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";
const CSRF_COOKIE: &str = "vestibule_csrf";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app/UserHome") }))
        .route("/login", get(login::show).post(login::submit))
        .route("/login/login.htm", get(login::okta_alias))
        .route("/login/sessionCookieRedirect", get(login::session_cookie_redirect))
        .route("/login/signout", get(login::signout_page).post(login::signout))
        .route("/app/UserHome", get(home::dashboard))
        .route("/app/UserHome/order", axum::routing::post(home::reorder))
        .route("/home/{name}/{id}/launch", get(launch::launch))
        .route("/welcome/{token}", get(password::activation_page).post(password::activation_submit))
        .route("/signin/reset-password/{token}", get(password::reset_page).post(password::reset_submit))
        .route("/admin", get(admin::home))
        .route("/admin/tokens", get(admin::tokens).post(admin::create_token))
        .route("/admin/tokens/{id}/revoke", axum::routing::post(admin::revoke_token))
        .route("/assets/vestibule.css", get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("vestibule.css"),
    )
}

/// Security headers: nosniff everywhere; on HTML, a strict Content-Security-Policy
/// (no scripts unless a page declares its own policy), no framing, and no
/// referrer; HSTS when we serve TLS ourselves.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // same-origin, not no-referrer: under no-referrer browsers send
        // `Origin: null` with form posts, which the origin check must refuse.
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    if state.config.tls != crate::config::TlsMode::Off {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Whether cookies we set should be `Secure` (the public URL is https).
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.public_url.scheme() == "https"
}

pub fn session_cookie(state: &AppState, value: &str) -> String {
    let secure = if secure_cookies(state) { "; Secure" } else { "" };
    let max_age = state.config.session.lifetime.as_secs();
    format!("sid={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The CSRF token for a form: the request's CSRF cookie, or a new one that
/// the response must set (returned as the second value).
pub fn csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(existing) = cookie(headers, CSRF_COOKIE).filter(|v| v.len() >= 32 && v.len() <= 64) {
        return (existing.to_owned(), None);
    }
    let token = crate::crypto::random_secret();
    let secure = if secure_cookies(state) { "; Secure" } else { "" };
    let set = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    (token, Some(set))
}

/// Checks a submitted form's CSRF field against the cookie, and the Origin
/// header (when sent) against our public origin.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // `null` is what a browser sends when it withholds the origin (privacy
        // settings, some redirects); the token below still decides.
        if origin != "null" && origin != state.config.public_origin() {
            return false;
        }
    }
    match cookie(headers, CSRF_COOKIE) {
        Some(expected) if !expected.is_empty() => vestibule_core::secret::ct_eq_bytes(expected.as_bytes(), submitted.as_bytes()),
        _ => false,
    }
}

/// A whole HTML page in Vestibule's layout.
pub fn page(state: &AppState, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (state.config.org_name) }
                link rel="stylesheet" href="/assets/vestibule.css";
            }
            body {
                (body)
            }
        }
    }
}

/// An HTML response, optionally setting cookies.
pub fn html_response(status: StatusCode, markup: Markup, cookies: &[String]) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string()).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// A page that explains what went wrong, with a way back.
pub fn error_page(state: &AppState, status: StatusCode, title: &str, message: &str) -> Response {
    let markup = page(
        state,
        title,
        html! {
            main class="card" {
                h1 { (title) }
                p role="alert" { (message) }
                p { a href="/app/UserHome" { "Go to your dashboard" } }
            }
        },
    );
    html_response(status, markup, &[])
}

/// A relative path on this site that is safe to send a person to after
/// sign-in, or `None`. Accepts `/path?query` and absolute URLs of our own
/// origin; refuses other hosts, scheme-relative `//host` and backslashes.
pub fn same_origin_target(state: &AppState, target: &str) -> Option<String> {
    if target.is_empty() || target.len() > 2048 || target.contains('\\') || target.chars().any(char::is_control) {
        return None;
    }
    if target.starts_with('/') && !target.starts_with("//") {
        return Some(target.to_owned());
    }
    let url = url::Url::parse(target).ok()?;
    if url.origin().ascii_serialization() != state.config.public_origin() {
        return None;
    }
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(path)
}

/// The signed-in person for a page, or a redirect to the sign-in page that
/// brings them back to `here`.
pub async fn require_person(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<(std::sync::Arc<crate::state::CachedPrincipal>, std::sync::Arc<crate::store::SessionRecord>), Response> {
    let to_login = || {
        let target = format!("/login?fromURI={}", urlencoding::encode(here));
        Redirect::to(&target).into_response()
    };
    let Some(session) = auth::session(state, headers).await else { return Err(to_login()) };
    match auth::load_principal(state, &session.user_id).await {
        Ok(Some(p)) if p.user.status.may_sign_in() => Ok((p, session)),
        _ => Err(to_login()),
    }
}

/// The person's assignment of an active app, for a protocol endpoint that
/// answers an app's own sign-in request; otherwise the refusal page, with
/// the attempt in the System Log.
pub async fn assignment_or_refusal(
    state: &AppState,
    user: &crate::directory::User,
    app: &crate::apps::AppInstance,
    client: &crate::syslog::ClientInfo,
) -> Result<crate::apps::cache::AssignedApp, Response> {
    use crate::state::EventBuilder;
    use crate::syslog::{Actor, Outcome, Target};
    match crate::apps::cache::launchable(state, &user.id, &app.id).await {
        Ok(Some((_, assignment))) => Ok(assignment),
        Ok(None) => {
            state
                .log(
                    EventBuilder::new("app.generic.unauth_app_access_attempt", "Attempt to access an app not assigned", Actor::user(user), client)
                        .target(Target::other(&app.id, "AppInstance", &app.label))
                        .outcome(Outcome::deny("NOT_ASSIGNED")),
                )
                .await;
            Err(error_page(state, StatusCode::FORBIDDEN, "App not available", "This app is not assigned to you. Ask your administrator for access."))
        }
        Err(_) => Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be opened.")),
    }
}

/// The hidden CSRF field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}
