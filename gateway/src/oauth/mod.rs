//! The OpenID Connect provider and OAuth 2.0 authorization servers, in Okta's
//! layout: the org server at `/oauth2/v1/*` (discovery at `/.well-known/*`)
//! and custom servers at `/oauth2/{authServerId}/v1/*` (discovery at
//! `/oauth2/{authServerId}/.well-known/*`), `default` among them. Protocol
//! decisions come from the `oidc` crate; this module turns HTTP into its
//! requests and its decisions into HTTP.
//!
//! An authorization request that needs the person to sign in (or to
//! consent) is kept as a transaction in the store; the sign-in page sends
//! the browser back to `/oauth2/v1/authorize/resume?tx=…`, where the
//! request is decided again with what the person has done since.

mod app_claims;
mod backing;
pub(crate) mod management;
pub(crate) mod policies;
pub(crate) mod runtime;
mod user_grants;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::html;
use oidc::authorize::{AuthorizationRequest, AuthorizationResponse, AuthorizeDecision, Interactions, LoginSession, ResponseMode, ValidatedAuthorization};
use oidc::logout::{AfterLogout, LogoutDecision, LogoutRequest};
use oidc::request::FormRequest;
use oidc::{ErrorCode, OAuthError};
use serde_json::{json, Value};

use crate::apps::AppInstance;
use crate::directory::User;
use crate::state::{AppState, EventBuilder};
use crate::syslog::{Actor, Target};

pub use backing::{Backing, ClientFacts};
pub use management::{bearer_principal, management_scope, on_app_created, validate};
pub use runtime::{runtime, LoadedServer, Runtime, DEFAULT, ORG};

/// How long an authorization request waits for the person to sign in.
const TRANSACTION_LIFETIME: time::Duration = time::Duration::minutes(30);

macro_rules! both_servers {
    ($router:expr, $endpoint:literal, $method:ident, $handler:ident) => {{
        $router
            .route(concat!("/oauth2/v1/", $endpoint), axum::routing::$method(|State(s): State<AppState>, r: Req| async move {
                $handler(s, ORG.to_owned(), r).await
            }))
            .route(
                concat!("/oauth2/{server}/v1/", $endpoint),
                axum::routing::$method(|State(s): State<AppState>, Path(server): Path<String>, r: Req| async move {
                    $handler(s, server, r).await
                }),
            )
    }};
}

pub fn router() -> Router<AppState> {
    let r = Router::new()
        .route("/.well-known/openid-configuration", get(|State(s): State<AppState>| async move { discovery(s, ORG.into(), true).await }))
        .route("/.well-known/oauth-authorization-server", get(|State(s): State<AppState>| async move { discovery(s, ORG.into(), false).await }))
        .route(
            "/oauth2/{server}/.well-known/openid-configuration",
            get(|State(s): State<AppState>, Path(id): Path<String>| async move { discovery(s, id, true).await }),
        )
        .route(
            "/oauth2/{server}/.well-known/oauth-authorization-server",
            get(|State(s): State<AppState>, Path(id): Path<String>| async move { discovery(s, id, false).await }),
        )
        .route("/oauth2/v1/authorize/resume", get(resume))
        .route("/oauth2/v1/authorize/consent", axum::routing::post(consent_submit));
    let r = both_servers!(r, "keys", get, keys);
    let r = both_servers!(r, "keys", options, preflight);
    let r = both_servers!(r, "token", options, preflight);
    let r = both_servers!(r, "userinfo", options, preflight);
    let r = both_servers!(r, "revoke", options, preflight);
    let r = both_servers!(r, "introspect", options, preflight);
    let r = both_servers!(r, "authorize", get, authorize);
    let r = both_servers!(r, "authorize", post, authorize);
    let r = both_servers!(r, "token", post, token);
    let r = both_servers!(r, "userinfo", get, userinfo);
    let r = both_servers!(r, "userinfo", post, userinfo);
    let r = both_servers!(r, "introspect", post, introspect);
    let r = both_servers!(r, "revoke", post, revoke);
    let r = both_servers!(r, "logout", get, logout);
    let r = both_servers!(r, "logout", post, logout);
    r.merge(management::router()).merge(policies::router()).merge(app_claims::router()).merge(user_grants::router())
}

/// What every endpoint reads from the request: headers, the peer, the
/// query and the body, as raw pairs (repeats kept, for the checks that
/// refuse them).
pub struct Req {
    headers: HeaderMap,
    peer: Option<std::net::SocketAddr>,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    form_content_type: bool,
}

impl axum::extract::FromRequest<AppState> for Req {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let peer = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
        let RawQuery(query) = RawQuery::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let form_content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs = |raw: &[u8]| url::form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())).collect::<Vec<_>>();
        Ok(Self {
            query: pairs(query.unwrap_or_default().as_bytes()),
            form: if form_content_type { pairs(&bytes) } else { Vec::new() },
            form_content_type,
            headers,
            peer,
        })
    }
}

use axum::extract::FromRequestParts;

impl Req {
    fn authorization(&self) -> Option<&str> {
        self.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
    }

    fn form_request(&self) -> FormRequest {
        FormRequest::new(self.form.iter().cloned(), self.authorization())
    }
}

fn json_response(status: StatusCode, body: &Value, no_store: bool) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if no_store {
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

/// An OAuth error as JSON (RFC 6749 §5.2), with `WWW-Authenticate` on 401/403.
fn oauth_error(e: &OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json_response(status, &e.body(), true);
    if let Some(v) = e.www_authenticate().and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn unknown_server(id: &str) -> Response {
    let e = OAuthError::new(ErrorCode::InvalidRequest, format!("There is no authorization server {}.", id.chars().take(64).collect::<String>()));
    let mut r = oauth_error(&e);
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

fn server_error(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "authorization server failure");
    oauth_error(&OAuthError::server_error())
}

/// The server named by the path, or the response to send instead.
async fn loaded(state: &AppState, id: &str) -> Result<std::sync::Arc<LoadedServer>, Response> {
    let rt = runtime(state).await.map_err(|e| e.into_response())?;
    let server = match rt.server(id) {
        Some(s) if s.record.status == "ACTIVE" => s,
        _ => return Err(unknown_server(id)),
    };
    match runtime::rotate_if_due(state, &rt, &server).await {
        Ok(false) => Ok(server),
        Ok(true) => rt.server(id).ok_or_else(|| unknown_server(id)),
        Err(e) => Err(e.into_response()),
    }
}

// ---------------------------------------------------------------------------
// discovery and keys

async fn discovery(state: AppState, id: String, openid: bool) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let doc = if openid {
        oidc::discovery::openid_configuration(&server.server, &server.keys)
    } else {
        oidc::discovery::oauth_authorization_server(&server.server, &server.keys)
    };
    let mut response = json_response(StatusCode::OK, &doc, false);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300, must-revalidate"));
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

async fn keys(state: AppState, id: String, _req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut response = json_response(StatusCode::OK, &server.keys.jwks(), false);
    // Shorter than the rotation overlap, so every cache has seen a new key
    // before it signs.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600, must-revalidate"));
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

// ---------------------------------------------------------------------------
// CORS, for single-page apps that call the token and userinfo endpoints

/// A preflight reveals nothing, so any origin gets one; whether the actual
/// response may be read is decided per client in [`allow_client_origin`].
async fn preflight(_state: AppState, _id: String, req: Req) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = req.headers.get(header::ORIGIN).cloned() {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

/// Lets a browser at `Origin` read the response when that origin is the
/// origin of one of the client's registered redirect URIs (the page that
/// received the code is the page that redeems it).
async fn allow_client_origin(state: &AppState, req: &Req, client_id: Option<&str>, response: &mut Response) {
    let (Some(origin), Some(client_id)) = (req.headers.get(header::ORIGIN).cloned(), client_id) else { return };
    let Ok(origin_text) = origin.to_str() else { return };
    let Ok(Some(app)) = crate::apps::cache::app(state, client_id).await else { return };
    let registered = app
        .settings
        .get("oauthClient")
        .and_then(|o| o.get("redirect_uris"))
        .and_then(Value::as_array)
        .is_some_and(|uris| {
            uris.iter().filter_map(Value::as_str).filter_map(|u| url::Url::parse(u).ok()).any(|u| u.origin().ascii_serialization() == origin_text)
        });
    if registered {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The client a request names: the body's client_id, or Basic credentials' user.
fn named_client(req: &Req) -> Option<String> {
    if let Some((_, id)) = req.form.iter().find(|(k, _)| k == "client_id") {
        return Some(id.clone());
    }
    let basic = req.authorization()?.strip_prefix("Basic ")?;
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(basic.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let id = text.split_once(':')?.0;
    url::form_urlencoded::parse(format!("x={id}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

/// The `cid` of a bearer access token, read without verification: only to
/// decide CORS for a response the token itself already guards.
fn bearer_client(req: &Req) -> Option<String> {
    let token = req.authorization()?.strip_prefix("Bearer ")?.trim();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    serde_json::from_slice::<Value>(&payload).ok()?["cid"].as_str().map(str::to_owned)
}

// ---------------------------------------------------------------------------
// authorize

async fn authorize(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // RFC 6749 §3.1: GET carries the query; OIDC Core §3.1.2.1 allows POST with a form.
    let params = if req.form_content_type && !req.form.is_empty() { req.form.clone() } else { req.query.clone() };
    decide(&state, &server, &req, params, Interactions::default(), None).await
}

/// Runs the authorization checks and acts on the decision.
async fn decide(
    state: &AppState,
    server: &LoadedServer,
    req: &Req,
    params: Vec<(String, String)>,
    done: Interactions,
    tx_created: Option<time::OffsetDateTime>,
) -> Response {
    let session = crate::auth::session(state, &req.headers).await;
    let person = match &session {
        Some(s) => match crate::auth::load_principal(state, &s.user_id).await {
            Ok(Some(p)) if p.user.status.may_sign_in() => Some(p),
            _ => None,
        },
        None => None,
    };
    let session = session.filter(|_| person.is_some());
    let login = session.as_ref().map(|s| LoginSession {
        user_id: s.user_id.clone(),
        auth_time: s.created,
        amr: vec!["pwd".into()],
        session_id: Some(s.id.clone()),
    });
    let logged_in = done.logged_in || matches!((&session, tx_created), (Some(s), Some(t)) if s.created >= t);
    let done = Interactions { logged_in, ..done };
    let request = AuthorizationRequest::from_pairs(params.clone());
    let backing = Backing::new(state, server);
    let p = backing.provider();
    let decision = tokio::task::block_in_place(|| oidc::authorize::authorize(&p, &request, login.as_ref(), done));
    match decision {
        AuthorizeDecision::ShowErrorPage(e) => {
            crate::web::error_page(state, StatusCode::BAD_REQUEST, "Sign-in request refused", &e.description)
        }
        AuthorizeDecision::Respond(response) => deliver(&response),
        AuthorizeDecision::Login(v) => {
            if logged_in {
                // Signed in during this transaction and still asked to: stop rather than loop.
                let e = OAuthError::new(ErrorCode::LoginRequired, "The user could not be authenticated.");
                return deliver(&v.error(&p, &e));
            }
            // prompt=login or max_age with a live session: that session ends,
            // so that the sign-in page asks again.
            if let Some(s) = &session {
                crate::auth::end_session(state, s).await;
            }
            match new_transaction(state, server, &params, false, &v.redirect_uri).await {
                Ok(tx) => {
                    let resume = format!("/oauth2/v1/authorize/resume?tx={tx}");
                    let mut login = format!("/login?fromURI={}", urlencoding::encode(&resume));
                    // OIDC Core §3.1.2.1: the sign-in page offers the hinted login.
                    if let Some(hint) = v.login_hint.as_deref().filter(|h| !h.is_empty() && h.len() <= 256) {
                        login.push_str(&format!("&login_hint={}", urlencoding::encode(hint)));
                    }
                    redirect(&login)
                }
                Err(r) => r,
            }
        }
        AuthorizeDecision::Consent(v) => match new_transaction(state, server, &params, logged_in, &v.redirect_uri).await {
            Ok(tx) => consent_page(state, &req.headers, &tx, server, &v).await,
            Err(r) => r,
        },
        AuthorizeDecision::Ready(v) => {
            let (Some(login), Some(person)) = (login, person) else {
                return crate::web::error_page(state, StatusCode::BAD_REQUEST, "Sign-in request refused", "No session.");
            };
            // Okta's rule: a person signs in only to apps assigned to them.
            match crate::apps::cache::launchable(state, &login.user_id, &v.client.client_id).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    let e = OAuthError::new(ErrorCode::AccessDenied, "The user is not assigned to the client application.");
                    return deliver(&v.error(&p, &e));
                }
                Err(e) => return server_error(&e),
            }
            let response = tokio::task::block_in_place(|| oidc::authorize::complete(&p, &v, &login));
            state.metrics.launches.with_label_values(&["oidc"]).inc();
            let client = crate::auth::client_info(&req.headers, req.peer);
            let event = if server.record.id == ORG { "app.oauth2.authorize.code" } else { "app.oauth2.as.authorize.code" };
            state
                .log(
                    EventBuilder::new(event, "OAuth2 authorization code request", Actor::user(&person.user), &client)
                        .target(Target::other(&v.client.client_id, "AppInstance", &v.client.client_id))
                        .debug("scope", v.scopes.to_string())
                        .debug("authorizationServer", server.record.id.clone()),
                )
                .await;
            deliver(&response)
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Sends an authorization response by its response mode.
fn deliver(response: &AuthorizationResponse) -> Response {
    match response.response_mode {
        ResponseMode::Query => redirect(&response.location()),
        ResponseMode::FormPost => {
            let origin = url::Url::parse(&response.redirect_uri).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            let csp = format!("default-src 'none'; script-src 'unsafe-inline'; form-action {origin}; frame-ancestors 'none'; base-uri 'none'");
            let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], response.form_post_html()).into_response();
            if let Ok(v) = HeaderValue::from_str(&csp) {
                r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
    }
}

/// Keeps an authorization request while the person signs in or consents.
/// `logged_in` records that they signed in during this request (so that
/// `prompt=login` or `max_age` is satisfied when it resumes); it is kept
/// here, never taken from the browser.
///
/// `redirect_uri` is the validated one the answer will go to: the sign-in
/// and consent pages let their forms lead there (see [`answer_form_action`]).
async fn new_transaction(
    state: &AppState,
    server: &LoadedServer,
    params: &[(String, String)],
    logged_in: bool,
    redirect_uri: &str,
) -> Result<String, Response> {
    let id = crate::crypto::random_secret();
    let now = state.now();
    let data = json!({
        "server": server.record.id,
        "params": params.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "created": now.unix_timestamp_nanos().to_string(),
        "logged_in": logged_in,
        "answer_source": csp_source(redirect_uri),
    });
    state.store.put_oauth_transaction(&id, &data, now + TRANSACTION_LIFETIME).await.map_err(|e| server_error(&e))?;
    Ok(id)
}

struct Transaction {
    server: String,
    params: Vec<(String, String)>,
    created: time::OffsetDateTime,
    logged_in: bool,
}

async fn load_transaction(state: &AppState, id: &str) -> Result<Transaction, Response> {
    let expired = || {
        crate::web::error_page(state, StatusCode::BAD_REQUEST, "Sign-in request expired", "Go back to the application and sign in again.")
    };
    if id.is_empty() || id.len() > 64 {
        return Err(expired());
    }
    let data = state.store.oauth_transaction(id, state.now()).await.map_err(|e| server_error(&e))?.ok_or_else(expired)?;
    let params = data["params"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(0)?.as_str()?.to_owned(), p.get(1)?.as_str()?.to_owned())))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let created = data["created"]
        .as_str()
        .and_then(|t| t.parse::<i128>().ok())
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp_nanos(t).ok())
        .ok_or_else(expired)?;
    Ok(Transaction {
        server: data["server"].as_str().unwrap_or_default().to_owned(),
        params,
        created,
        logged_in: data["logged_in"].as_bool().unwrap_or(false),
    })
}

fn query_value(req: &Req, name: &str) -> String {
    req.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

async fn resume(State(state): State<AppState>, req: Req) -> Response {
    let tx_id = query_value(&req, "tx");
    let tx = match load_transaction(&state, &tx_id).await {
        Ok(tx) => tx,
        Err(r) => return r,
    };
    let server = match loaded(&state, &tx.server).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if crate::auth::session(&state, &req.headers).await.is_none() {
        let here = format!("/oauth2/v1/authorize/resume?tx={tx_id}");
        return redirect(&format!("/login?fromURI={}", urlencoding::encode(&here)));
    }
    let _ = state.store.delete_oauth_transaction(&tx_id).await;
    decide(&state, &server, &req, tx.params, Interactions::default(), Some(tx.created)).await
}

/// A CSP source expression for where `uri` leads: its origin, or for a
/// native app's private-use scheme (RFC 8252 §7.1) the scheme.
fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let origin = url.origin();
    let source = if origin.is_tuple() { origin.ascii_serialization() } else { format!("{}:", url.scheme()) };
    // Only characters a CSP source expression (and a header) may carry.
    source.bytes().all(|b| b.is_ascii_alphanumeric() || b":/.-+[]".contains(&b)).then_some(source)
}

/// The page policy of the sign-in and consent pages while an authorization
/// request waits: as every page's, but their forms may lead to the client's
/// redirect URI, because browsers apply `form-action` to the redirects that
/// follow a form post (sign-in → resume → the client).
pub fn page_csp(answer_source: Option<&str>) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'{}; frame-ancestors 'none'; base-uri 'none'",
        answer_source.map(|s| format!(" {s}")).unwrap_or_default()
    )
}

/// For the sign-in page: when `from` resumes a waiting authorization
/// request, the CSP source of where it will be answered.
pub async fn answer_form_action(state: &AppState, from: &str) -> Option<String> {
    let path = from.strip_prefix(state.config.public_origin().as_str()).unwrap_or(from);
    let rest = path.strip_prefix("/oauth2/v1/authorize/resume?")?;
    let tx = url::form_urlencoded::parse(rest.as_bytes()).find(|(k, _)| k == "tx")?.1.into_owned();
    if tx.is_empty() || tx.len() > 64 {
        return None;
    }
    let data = state.store.oauth_transaction(&tx, state.now()).await.ok()??;
    data["answer_source"].as_str().map(str::to_owned)
}

fn with_csp(mut response: Response, csp: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// What a scope lets an app do, in the words the consent page uses: the
/// standard scopes' here, a custom scope's its description on the server.
fn scope_description<'a>(server: &'a LoadedServer, scope: &str) -> &'a str {
    match scope {
        "openid" => "Sign you in with your account",
        "profile" => "See your name, username, time zone and language",
        "email" => "See your email address",
        "address" => "See your address",
        "phone" => "See your phone number",
        "groups" => "See the groups you belong to",
        "offline_access" => "Keep access while you are signed out (refresh tokens)",
        custom => server.server.custom_scopes.iter().find(|d| d.name == custom).map_or("", |d| d.description.as_str()),
    }
}

async fn consent_page(state: &AppState, headers: &HeaderMap, tx: &str, server: &LoadedServer, v: &ValidatedAuthorization) -> Response {
    let (csrf, set) = crate::web::csrf_token(state, headers);
    let label = match crate::apps::cache::app(state, &v.client.client_id).await {
        Ok(Some(app)) => app.label.clone(),
        _ => v.client.client_id.clone(),
    };
    let markup = crate::web::page(
        state,
        "Allow access",
        html! {
            main class="card" aria-labelledby="consent-title" {
                h1 id="consent-title" { "Allow " (label) " to access your account?" }
                p id="consent-scopes" { (label) " asks to:" }
                ul aria-labelledby="consent-scopes" {
                    @for scope in v.scopes.iter() {
                        @let description = scope_description(server, scope);
                        li {
                            @if description.is_empty() { (scope) } @else { (description) " " span class="hint" { "(" (scope) ")" } }
                        }
                    }
                }
                p class="hint" { "You can take this back later: ask your administrator to revoke the app's access." }
                form method="post" action="/oauth2/v1/authorize/consent" {
                    (crate::web::csrf_field(&csrf))
                    input type="hidden" name="tx" value=(tx);
                    button type="submit" name="decision" value="allow" { "Allow" }
                    button type="submit" name="decision" value="deny" { "Don't allow" }
                }
            }
        },
    );
    let response = crate::web::html_response(StatusCode::OK, markup, &set.into_iter().collect::<Vec<_>>());
    with_csp(response, &page_csp(csp_source(&v.redirect_uri).as_deref()))
}

async fn consent_submit(State(state): State<AppState>, req: Req) -> Response {
    let field = |name: &str| req.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    if !crate::web::csrf_ok(&state, &req.headers, &field("csrf")) {
        return crate::web::error_page(&state, StatusCode::FORBIDDEN, "Form expired", "Go back to the application and sign in again.");
    }
    let tx_id = field("tx");
    let tx = match load_transaction(&state, &tx_id).await {
        Ok(tx) => tx,
        Err(r) => return r,
    };
    let _ = state.store.delete_oauth_transaction(&tx_id).await;
    let server = match loaded(&state, &tx.server).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(session) = crate::auth::session(&state, &req.headers).await else {
        return crate::web::error_page(&state, StatusCode::BAD_REQUEST, "Sign-in request expired", "Go back to the application and sign in again.");
    };
    // The request as validated again: its client, redirect and scopes.
    let request = AuthorizationRequest::from_pairs(tx.params.clone());
    let validated = {
        let backing = Backing::new(&state, &server);
        let p = backing.provider();
        let decision = tokio::task::block_in_place(|| {
            oidc::authorize::authorize(&p, &request, None, Interactions { logged_in: true, consented: true })
        });
        match decision {
            AuthorizeDecision::Login(v) | AuthorizeDecision::Ready(v) | AuthorizeDecision::Consent(v) => v,
            AuthorizeDecision::Respond(response) => return deliver(&response),
            AuthorizeDecision::ShowErrorPage(e) => {
                return crate::web::error_page(&state, StatusCode::BAD_REQUEST, "Sign-in request refused", &e.description)
            }
        }
    };
    if field("decision") != "allow" {
        let backing = Backing::new(&state, &server);
        let p = backing.provider();
        return deliver(&validated.error(&p, &OAuthError::new(ErrorCode::AccessDenied, "The user denied the request.")));
    }
    // Remembered (Okta's END_USER consent grants), so that the next request
    // for these scopes does not ask again unless it says prompt=consent.
    let scopes: Vec<String> = validated.scopes.iter().map(str::to_owned).collect();
    if let Err(e) = state
        .store
        .insert_consents(&session.user_id, &validated.client.client_id, &server.record.id, &server.server.issuer, &scopes, state.now())
        .await
    {
        return server_error(&e);
    }
    if let Ok(Some(person)) = crate::auth::load_principal(&state, &session.user_id).await {
        let client = crate::auth::client_info(&req.headers, req.peer);
        state
            .log(
                EventBuilder::new("app.oauth2.as.consent.grant", "User granted consent", Actor::user(&person.user), &client)
                    .target(Target::other(&validated.client.client_id, "AppInstance", &validated.client.client_id))
                    .debug("scope", validated.scopes.to_string())
                    .debug("authorizationServer", server.record.id.clone()),
            )
            .await;
    }
    decide(&state, &server, &req, tx.params, Interactions { logged_in: tx.logged_in, consented: true }, None).await
}

// ---------------------------------------------------------------------------
// token, userinfo, introspect, revoke

async fn token(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !req.form_content_type {
        return oauth_error(&OAuthError::invalid_request("The body must be application/x-www-form-urlencoded."));
    }
    let form = req.form_request();
    let backing = Backing::new(&state, &server);
    let p = backing.provider();
    let result = tokio::task::block_in_place(|| oidc::token::token(&p, &form));
    log_token_request(&state, &server, &req, &form, &result).await;
    let mut response = match result {
        Ok(tokens) => json_response(StatusCode::OK, &tokens.body(), true),
        Err(e) => oauth_error(&e),
    };
    allow_client_origin(&state, &req, named_client(&req).as_deref(), &mut response).await;
    response
}

/// Records a token request in the System Log as Okta does: the grant, the
/// client, the person (for user grants) and the outcome. Nothing of the
/// tokens themselves is recorded.
async fn log_token_request(state: &AppState, server: &LoadedServer, req: &Req, form: &FormRequest, result: &Result<oidc::token::TokenResponse, OAuthError>) {
    let grant = form.get("grant_type").unwrap_or("unknown").chars().take(64).collect::<String>();
    let event = if server.record.id == ORG { "app.oauth2.token.grant" } else { "app.oauth2.as.token.grant" };
    let client = crate::auth::client_info(&req.headers, req.peer);
    let (actor, client_id, outcome) = match result {
        Ok(tokens) => {
            // Our own, just-signed access token says whom it was issued to.
            let claims = tokens.access_token.split('.').nth(1).and_then(|p| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok()
            });
            let claims: Value = claims.and_then(|c| serde_json::from_slice(&c).ok()).unwrap_or_default();
            let cid = claims["cid"].as_str().unwrap_or_default().to_owned();
            let actor = match claims["uid"].as_str() {
                Some(uid) => match crate::auth::load_principal(state, uid).await {
                    Ok(Some(p)) => Actor::user(&p.user),
                    _ => Actor::unknown(uid),
                },
                None => client_actor(&cid),
            };
            (actor, cid, crate::syslog::Outcome::success())
        }
        Err(e) => {
            let cid = form.get("client_id").unwrap_or("unknown").chars().take(64).collect::<String>();
            (client_actor(&cid), cid, crate::syslog::Outcome::failure(e.code.as_str()))
        }
    };
    state
        .log(
            EventBuilder::new(event, "OAuth2 token request", actor, &client)
                .target(Target::other(&client_id, "AppInstance", &client_id))
                .outcome(outcome)
                .debug("grantType", grant)
                .debug("authorizationServer", server.record.id.clone()),
        )
        .await;
}

fn client_actor(client_id: &str) -> Actor {
    Actor { id: client_id.to_owned(), kind: "PublicClientApp", alternate_id: client_id.to_owned(), display_name: client_id.to_owned() }
}

async fn userinfo(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let backing = Backing::new(&state, &server);
    let p = backing.provider();
    let mut response = match tokio::task::block_in_place(|| oidc::userinfo::userinfo(&p, req.authorization())) {
        Ok(claims) => json_response(StatusCode::OK, &claims, true),
        Err(e) => oauth_error(&e),
    };
    allow_client_origin(&state, &req, bearer_client(&req).as_deref(), &mut response).await;
    response
}

async fn introspect(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = req.form_request();
    let backing = Backing::new(&state, &server);
    let p = backing.provider();
    match tokio::task::block_in_place(|| oidc::introspect::introspect(&p, &form)) {
        Ok(body) => json_response(StatusCode::OK, &body, true),
        Err(e) => oauth_error(&e),
    }
}

async fn revoke(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = req.form_request();
    let backing = Backing::new(&state, &server);
    let p = backing.provider();
    let mut response = match tokio::task::block_in_place(|| oidc::revoke::revoke(&p, &form)) {
        Ok(()) => {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => oauth_error(&e),
    };
    allow_client_origin(&state, &req, named_client(&req).as_deref(), &mut response).await;
    response
}

// ---------------------------------------------------------------------------
// logout

async fn logout(state: AppState, id: String, req: Req) -> Response {
    let server = match loaded(&state, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let params = if req.form_content_type && !req.form.is_empty() { req.form.clone() } else { req.query.clone() };
    let request = LogoutRequest::from_pairs(params);
    let backing = Backing::new(&state, &server);
    let p = backing.provider();
    match tokio::task::block_in_place(|| oidc::logout::logout(&p, &request)) {
        LogoutDecision::ShowErrorPage(e) => crate::web::error_page(&state, StatusCode::BAD_REQUEST, "Sign-out request refused", &e.description),
        LogoutDecision::EndSession { sub, session_id, client_id: _, then } => {
            // The browser's session ends if it is the one the ID token names
            // (or, without a sid, any session of that person).
            if let Some(session) = crate::auth::session(&state, &req.headers).await {
                let same = session.user_id == sub && session_id.as_deref().is_none_or(|sid| sid == session.id);
                if same {
                    crate::auth::end_session(&state, &session).await;
                    if let Ok(Some(person)) = crate::auth::load_principal(&state, &session.user_id).await {
                        let client = crate::auth::client_info(&req.headers, req.peer);
                        state.log(EventBuilder::new("user.session.end", "User logout from Okta", Actor::user(&person.user), &client)).await;
                    }
                }
            }
            let mut response = match then {
                AfterLogout::Redirect(url) => redirect(&url),
                AfterLogout::ShowSignedOutPage => crate::web::error_page(&state, StatusCode::OK, "Signed out", "You have been signed out."),
            };
            if let Ok(v) = HeaderValue::from_str(crate::web::CLEAR_SESSION_COOKIE) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
    }
}

// ---------------------------------------------------------------------------
// dashboard launch

/// A dashboard launch of an OIDC app ("Login initiated by: Either Okta or
/// App"): the app is sent to its `initiate_login_uri` with `iss`,
/// `login_hint` and `target_link_uri` (OIDC Core §4) and starts a normal
/// code flow from there.
pub async fn dashboard_launch(state: &AppState, app: &AppInstance, user: &User) -> Response {
    let server = match loaded(state, ORG).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let oauth = app.settings.get("oauthClient").and_then(Value::as_object);
    let initiated_by_okta = oauth
        .and_then(|o| o.get("initiate_login_uri"))
        .and_then(Value::as_str)
        .is_some_and(|u| !u.is_empty());
    let mode = app
        .settings
        .get("oauthClient")
        .and_then(|o| o.get("idp_initiated_login"))
        .and_then(|o| o.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("OKTA");
    if !initiated_by_okta || mode == "DISABLED" {
        return crate::web::error_page(
            state,
            StatusCode::BAD_REQUEST,
            "Sign in from the app",
            "This app signs people in from its own page; open it there.",
        );
    }
    let client = backing::client_from_app(app, &server, &[]);
    let target = oauth.and_then(|o| o.get("target_link_uri")).and_then(Value::as_str).map(str::to_owned);
    match oidc::initiate_login::initiate_login_redirect(&server.server, &client, Some(user.login()), target.as_deref()) {
        Ok(url) => redirect(&url),
        Err(e) => crate::web::error_page(state, StatusCode::BAD_REQUEST, "App misconfigured", &e.description),
    }
}
