//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).
//!
//! Two tables of checks. Until the client and its redirect URI are known
//! good, a failure must never redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11):
//! the gateway shows an error page. After that, failures go back to the
//! client's redirect URI, with `iss` (RFC 9207 §2).
//!
//! The crate keeps no state between the request and the login: the gateway
//! keeps the request's parameters in its login transaction and calls
//! [`authorize`] again with what the user has done since ([`Interactions`]).

use std::sync::Arc;

use time::OffsetDateTime;
use url::Url;

use crate::client::{ApplicationType, Client, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::policy::{PolicyRequest, Subject};
use crate::scope::Scopes;
use crate::store::{token_hash, AuthorizationCode};
use crate::Provider;

/// The parameters of an authorization request, from the query string (GET)
/// or the form body (POST), as received. Parameters without a value are
/// treated as omitted (RFC 6749 §3.1).
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    params: Vec<(String, String)>,
}

impl AuthorizationRequest {
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let params = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Self { params }
    }

    /// The parameters, for the gateway to keep in its login transaction.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.params
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.params.iter().filter(|(k, _)| k == name).count()
    }
}

/// The user's login session, as the gateway knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub user_id: String,
    pub auth_time: OffsetDateTime,
    /// Authentication methods (RFC 8176), e.g. `pwd`, `mfa`, `otp`.
    pub amr: Vec<String>,
    /// The session id, for the ID token's `sid`.
    pub session_id: Option<String>,
}

/// What the user has done during this authorization transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interactions {
    /// The user authenticated during this transaction.
    pub logged_in: bool,
    /// The user consented during this transaction, or (without
    /// `prompt=consent`) a stored consent covers the scopes.
    pub consented: bool,
}

/// OAuth 2.0 Form Post Response Mode and RFC 6749 §4.1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// OIDC Core §3.1.2.1 `prompt`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidatedAuthorization {
    pub client: Arc<Client>,
    /// The redirect URI exactly as the client sent it.
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    /// OIDC Core §3.1.2.1 `login_hint`, for the login page to prefill.
    pub login_hint: Option<String>,
}

/// What the gateway does next.
#[derive(Debug, Clone)]
pub enum AuthorizeDecision {
    /// Show an error page to the user; never redirect to the client.
    ShowErrorPage(OAuthError),
    /// Send this response to the client (an error response).
    Respond(AuthorizationResponse),
    /// Authenticate the user, then call [`authorize`] again with `logged_in`.
    Login(ValidatedAuthorization),
    /// Ask the user's consent, then call [`authorize`] again with `consented`.
    Consent(ValidatedAuthorization),
    /// Call [`complete`] with the session to issue the code.
    Ready(ValidatedAuthorization),
}

/// An authorization response, success or error, to deliver to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
}

impl AuthorizationResponse {
    /// The `Location` for a query-mode response: the redirect URI with the
    /// parameters added to its query, keeping any it had (RFC 6749 §4.1.2).
    pub fn location(&self) -> String {
        match Url::parse(&self.redirect_uri) {
            Ok(mut url) => {
                url.query_pairs_mut().extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())));
                url.to_string()
            }
            // Redirect URIs were parsed when registered and when matched, so
            // this does not happen; fall back to plain concatenation.
            Err(_) => self.redirect_uri.clone(),
        }
    }

    /// An HTML page that posts the parameters to the redirect URI (OAuth 2.0
    /// Form Post Response Mode §2). The gateway serves it with a CSP that
    /// allows this one inline script.
    pub fn form_post_html(&self) -> String {
        let mut inputs = String::new();
        for (k, v) in &self.params {
            inputs.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\"/>", html_escape(k), html_escape(v)));
        }
        format!(
            "<!DOCTYPE html><html><head><title>Submit This Form</title></head>\
             <body onload=\"javascript:document.forms[0].submit()\">\
             <form method=\"post\" action=\"{}\">{inputs}<noscript><button type=\"submit\">Continue</button></noscript></form>\
             </body></html>",
            html_escape(&self.redirect_uri)
        )
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// What the checks have established so far.
#[derive(Debug, Default)]
struct Draft {
    client: Option<Arc<Client>>,
    redirect_uri: Option<String>,
    response_mode: Option<ResponseMode>,
    scopes: Scopes,
    code_challenge: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
}

type Check = fn(&Provider<'_>, &AuthorizationRequest, &mut Draft) -> Result<(), OAuthError>;

/// Checks whose failure shows an error page, in order.
const BEFORE_REDIRECT: &[(&str, Check)] = &[
    ("client_id", check_client_id),
    ("redirect_uri", check_redirect_uri),
];

/// Checks whose failure redirects to the client, in order.
const AFTER_REDIRECT: &[(&str, Check)] = &[
    ("response_mode", check_response_mode),
    ("no_repeated_parameters", check_no_repeated_parameters),
    ("no_request_object", check_no_request_object),
    ("response_type", check_response_type),
    ("code_grant_allowed", check_code_grant_allowed),
    ("scope", check_scope),
    ("pkce", check_pkce),
    ("prompt", check_prompt),
    ("max_age", check_max_age),
];

/// Runs the authorization endpoint's checks and decides what happens next.
pub fn authorize(
    p: &Provider<'_>,
    request: &AuthorizationRequest,
    session: Option<&LoginSession>,
    done: Interactions,
) -> AuthorizeDecision {
    let mut draft = Draft::default();
    for (_, check) in BEFORE_REDIRECT {
        if let Err(e) = check(p, request, &mut draft) {
            return AuthorizeDecision::ShowErrorPage(e);
        }
    }
    let client = draft.client.clone().expect("client_id check sets the client");
    let redirect_uri = draft.redirect_uri.clone().expect("redirect_uri check sets the URI");
    let state = request.get("state").map(str::to_owned);
    for (_, check) in AFTER_REDIRECT {
        if let Err(e) = check(p, request, &mut draft) {
            let mode = draft.response_mode.unwrap_or(ResponseMode::Query);
            return AuthorizeDecision::Respond(error_response(p, &redirect_uri, mode, state.as_deref(), &e));
        }
    }
    let validated = ValidatedAuthorization {
        client,
        redirect_uri,
        response_mode: draft.response_mode.unwrap_or(ResponseMode::Query),
        scopes: draft.scopes,
        state,
        nonce: request.get("nonce").map(str::to_owned),
        code_challenge: draft.code_challenge,
        prompt: draft.prompt,
        max_age: draft.max_age,
        login_hint: request.get("login_hint").map(str::to_owned),
    };
    decide_interaction(p, validated, session, done)
}

/// OIDC Core §3.1.2.3: the user must authenticate when there is no session,
/// `prompt=login` asks for it, or the session is older than `max_age`; with
/// `prompt=none` that is `login_required` instead (§3.1.2.6). Once the user
/// is known, the server's access policies must allow the request
/// ([`check_access_policy`]). Consent likewise, with `consent_required`.
fn decide_interaction(
    p: &Provider<'_>,
    v: ValidatedAuthorization,
    session: Option<&LoginSession>,
    done: Interactions,
) -> AuthorizeDecision {
    let now = p.clock.now();
    let too_old = |s: &LoginSession| v.max_age.is_some_and(|max| (now - s.auth_time).whole_seconds() > max);
    let session = match session {
        Some(s) if !((v.prompt.login && !done.logged_in) || too_old(s)) => s,
        _ => {
            if v.prompt.none {
                let e = OAuthError::new(ErrorCode::LoginRequired, "The user must log in.");
                return AuthorizeDecision::Respond(v.error(p, &e));
            }
            return AuthorizeDecision::Login(v);
        }
    };
    if let Err(e) = check_access_policy(p, &v, session) {
        return AuthorizeDecision::Respond(v.error(p, &e));
    }
    if needs_consent(p, &v, session, done) {
        if v.prompt.none {
            let e = OAuthError::new(ErrorCode::ConsentRequired, "The user must consent.");
            return AuthorizeDecision::Respond(v.error(p, &e));
        }
        return AuthorizeDecision::Consent(v);
    }
    AuthorizeDecision::Ready(v)
}

/// Okta's access policies of a custom server: the first active policy
/// covering the client, by priority, with an active rule for the code grant,
/// the user and every requested scope; otherwise `access_denied` ("Policy
/// evaluation failed …"). The token endpoint evaluates them again.
fn check_access_policy(p: &Provider<'_>, v: &ValidatedAuthorization, session: &LoginSession) -> Result<(), OAuthError> {
    if p.server.access_policies.is_none() {
        return Ok(());
    }
    let user = p.users.user(&session.user_id).ok_or_else(crate::policy::no_matching_policy)?;
    let request = PolicyRequest {
        client_id: &v.client.client_id,
        grant_type: GrantType::AuthorizationCode.as_str(),
        subject: Some(Subject { user_id: &session.user_id, group_ids: &user.group_ids }),
        scopes: &v.scopes,
    };
    p.server.token_policy(&request).map(|_| ())
}

/// OIDC Core §3.1.2.1 `prompt=consent` always asks (once per transaction).
/// An app that requires consent asks unless the user consented before to
/// every requested scope for this client on this server.
fn needs_consent(p: &Provider<'_>, v: &ValidatedAuthorization, session: &LoginSession, done: Interactions) -> bool {
    if done.consented {
        return false;
    }
    if v.prompt.consent {
        return true;
    }
    v.client.consent_required && !v.scopes.is_subset_of(&p.consents.consented_scopes(&session.user_id, &v.client.client_id))
}

impl ValidatedAuthorization {
    /// An error response to this request, e.g. `access_denied` when the user
    /// declines consent.
    pub fn error(&self, p: &Provider<'_>, e: &OAuthError) -> AuthorizationResponse {
        error_response(p, &self.redirect_uri, self.response_mode, self.state.as_deref(), e)
    }
}

/// RFC 6749 §4.1.2.1 error response with RFC 9207 `iss`.
fn error_response(
    p: &Provider<'_>,
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    e: &OAuthError,
) -> AuthorizationResponse {
    let mut params = vec![("error", e.code.as_str().to_owned()), ("error_description", e.description.to_string())];
    if let Some(state) = state {
        params.push(("state", state.to_owned()));
    }
    params.push(("iss", p.server.issuer.clone()));
    AuthorizationResponse { redirect_uri: redirect_uri.to_owned(), response_mode: mode, params }
}

/// Issues the authorization code for a request the user has been
/// authenticated (and has consented) for, and returns the success response
/// (RFC 6749 §4.1.2) with `state` and RFC 9207 `iss`. The code is stored
/// under its hash, expires after the server's code lifetime, and belongs to
/// a new grant.
pub fn complete(p: &Provider<'_>, v: &ValidatedAuthorization, session: &LoginSession) -> AuthorizationResponse {
    let code = p.random.token();
    let now = p.clock.now();
    p.codes.insert(
        &token_hash(&code),
        AuthorizationCode {
            grant_id: format!("grant.{}", p.random.token()),
            client_id: v.client.client_id.clone(),
            redirect_uri: v.redirect_uri.clone(),
            scopes: v.scopes.clone(),
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            session_id: session.session_id.clone(),
            nonce: v.nonce.clone(),
            code_challenge: v.code_challenge.clone(),
            expires_at: now + p.server.lifetimes.authorization_code,
        },
    );
    let mut params = vec![("code", code)];
    if let Some(state) = &v.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", p.server.issuer.clone()));
    AuthorizationResponse { redirect_uri: v.redirect_uri.clone(), response_mode: v.response_mode, params }
}

/// RFC 6749 §4.1.2.1: a missing, repeated or unknown `client_id` must not
/// lead to a redirect.
fn check_client_id(p: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    if r.count("client_id") != 1 {
        return Err(OAuthError::invalid_request("The client_id parameter is missing or repeated."));
    }
    let client = p
        .clients
        .client(r.get("client_id").unwrap_or_default())
        .ok_or_else(|| OAuthError::invalid_client("The client_id is not that of an active client."))?;
    d.client = Some(client);
    Ok(())
}

/// RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: the `redirect_uri` is required
/// (OIDC Core §3.1.2.1) and must equal a registered one exactly, except
/// the port of a loopback URI for a native app (RFC 8252 §7.3).
fn check_redirect_uri(_: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let client = d.client.as_ref().expect("client_id runs first");
    if r.count("redirect_uri") != 1 {
        return Err(OAuthError::invalid_request("The redirect_uri parameter is missing or repeated."));
    }
    let presented = r.get("redirect_uri").unwrap_or_default();
    if !redirect_uri_is_registered(client, presented) {
        return Err(OAuthError::invalid_request("The redirect_uri is not registered for this client."));
    }
    d.redirect_uri = Some(presented.to_owned());
    Ok(())
}

/// Exact match, or for native apps the RFC 8252 §7.3 loopback exception:
/// `http` to `127.0.0.1` or `[::1]` with any port, the rest equal. `localhost`
/// gets no exception (RFC 8252 §8.3).
pub fn redirect_uri_is_registered(client: &Client, presented: &str) -> bool {
    if client.redirect_uris.iter().any(|r| r == presented) {
        return Url::parse(presented).is_ok();
    }
    if client.application_type != ApplicationType::Native {
        return false;
    }
    let Ok(presented) = Url::parse(presented) else { return false };
    if !is_loopback_ip(&presented) {
        return false;
    }
    client.redirect_uris.iter().filter_map(|r| Url::parse(r).ok()).any(|registered| {
        is_loopback_ip(&registered)
            && registered.host() == presented.host()
            && registered.path() == presented.path()
            && registered.query() == presented.query()
            && registered.fragment().is_none()
            && presented.fragment().is_none()
            && registered.username() == presented.username()
            && registered.password() == presented.password()
    })
}

fn is_loopback_ip(url: &Url) -> bool {
    use url::Host;
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            _ => false,
        }
}

/// OAuth 2.0 Multiple Response Types §2.1 and Form Post Response Mode §2:
/// `query` (the default for `code`) and `form_post`; `fragment` is refused
/// so that a code never lands in a fragment a script can read.
fn check_response_mode(_: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    d.response_mode = Some(ResponseMode::Query);
    match r.get("response_mode") {
        None | Some("query") => Ok(()),
        Some("form_post") => {
            d.response_mode = Some(ResponseMode::FormPost);
            Ok(())
        }
        Some(_) => Err(OAuthError::invalid_request("The response_mode must be query or form_post.")),
    }
}

/// RFC 6749 §3.1: request parameters must not be repeated.
fn check_no_repeated_parameters(_: &Provider<'_>, r: &AuthorizationRequest, _: &mut Draft) -> Result<(), OAuthError> {
    let mut names: Vec<&str> = r.params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(OAuthError::invalid_request(format!("The {} parameter is repeated.", w[0]))),
        None => Ok(()),
    }
}

/// OIDC Core §6 and §3.1.2.6: request objects are not supported.
fn check_no_request_object(_: &Provider<'_>, r: &AuthorizationRequest, _: &mut Draft) -> Result<(), OAuthError> {
    if r.get("request").is_some() {
        return Err(OAuthError::new(ErrorCode::RequestNotSupported, "The request parameter is not supported."));
    }
    if r.get("request_uri").is_some() {
        return Err(OAuthError::new(ErrorCode::RequestUriNotSupported, "The request_uri parameter is not supported."));
    }
    Ok(())
}

/// RFC 6749 §4.1.1 and §3.1.1: `response_type` is required and only `code`
/// is supported (RFC 9700 §2.1.2 advises against the implicit grant).
fn check_response_type(_: &Provider<'_>, r: &AuthorizationRequest, _: &mut Draft) -> Result<(), OAuthError> {
    match r.get("response_type") {
        None => Err(OAuthError::invalid_request("The response_type parameter is missing.")),
        Some("code") => Ok(()),
        Some(_) => Err(OAuthError::new(ErrorCode::UnsupportedResponseType, "Only response_type code is supported.")),
    }
}

/// RFC 6749 §4.1.2.1 `unauthorized_client`: the client must be registered
/// for the authorization code grant.
fn check_code_grant_allowed(_: &Provider<'_>, _: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let client = d.client.as_ref().expect("client_id runs first");
    if client.may_use(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client("The client may not use the authorization code grant."))
    }
}

/// RFC 6749 §3.3: the scope is required here (as Okta requires it), every
/// value must be known to this server and allowed for the client.
/// `offline_access` is dropped for a client without the refresh grant.
fn check_scope(p: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let client = d.client.as_ref().expect("client_id runs first");
    let scopes = Scopes::parse(r.get("scope").unwrap_or_default())
        .ok_or_else(|| OAuthError::invalid_scope("The scope parameter is malformed."))?;
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope("The scope parameter is missing."));
    }
    if let Some(unknown) = scopes.iter().find(|s| !p.server.knows_scope(s)) {
        return Err(OAuthError::invalid_scope(format!("The scope {unknown} is not known to this authorization server.")));
    }
    if let Some(denied) = scopes.iter().find(|s| !client.may_request_scope(s)) {
        return Err(OAuthError::invalid_scope(format!("The client may not request the scope {denied}.")));
    }
    d.scopes = if client.may_use(GrantType::RefreshToken) { scopes } else { scopes.without("offline_access") };
    Ok(())
}

/// RFC 7636 §4.3 and §4.4.1, RFC 9700 §2.1.1: a public client (or one
/// registered with `pkce_required`) must send a challenge; the method must
/// be S256 (a challenge without a method would mean `plain`, §4.3).
fn check_pkce(_: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let client = d.client.as_ref().expect("client_id runs first");
    match (r.get("code_challenge"), r.get("code_challenge_method")) {
        (None, None) if client.is_public() || client.pkce_required => {
            Err(OAuthError::invalid_request("PKCE is required: send code_challenge with code_challenge_method S256."))
        }
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_request("The code_challenge parameter is missing.")),
        (Some(_), method) if method != Some("S256") => {
            Err(OAuthError::invalid_request("The code_challenge_method must be S256."))
        }
        (Some(challenge), _) if !pkce::is_well_formed(challenge) => {
            Err(OAuthError::invalid_request("The code_challenge is malformed."))
        }
        (Some(challenge), _) => {
            d.code_challenge = Some(challenge.to_owned());
            Ok(())
        }
    }
}

/// OIDC Core §3.1.2.1: `prompt` values are none, login, consent (we do not
/// offer account selection); `none` must stand alone.
fn check_prompt(_: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let Some(value) = r.get("prompt") else { return Ok(()) };
    let mut prompt = Prompt::default();
    for v in value.split(' ').filter(|v| !v.is_empty()) {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            _ => return Err(OAuthError::invalid_request(format!("The prompt value {v} is not supported."))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(OAuthError::invalid_request("The prompt value none must stand alone."));
    }
    d.prompt = prompt;
    Ok(())
}

/// OIDC Core §3.1.2.1: `max_age` is a non-negative number of seconds.
fn check_max_age(_: &Provider<'_>, r: &AuthorizationRequest, d: &mut Draft) -> Result<(), OAuthError> {
    let Some(value) = r.get("max_age") else { return Ok(()) };
    match value.parse::<i64>() {
        Ok(max) if max >= 0 => {
            d.max_age = Some(max);
            Ok(())
        }
        _ => Err(OAuthError::invalid_request("The max_age parameter must be a non-negative integer.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    fn outcome(d: &AuthorizeDecision) -> String {
        match d {
            AuthorizeDecision::ShowErrorPage(e) => format!("page:{}", e.code),
            AuthorizeDecision::Respond(r) => format!("redirect:{}", r.param("error").unwrap_or("none")),
            AuthorizeDecision::Login(_) => "login".into(),
            AuthorizeDecision::Consent(_) => "consent".into(),
            AuthorizeDecision::Ready(_) => "ready".into(),
        }
    }

    fn base(client: &str) -> Vec<(&'static str, String)> {
        let redirect = if client == NATIVE { "http://127.0.0.1/cb" } else { WEB_REDIRECT };
        vec![
            ("client_id", client.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("response_type", "code".into()),
            ("scope", "openid profile".into()),
            ("state", "xyz".into()),
            ("code_challenge", CHALLENGE.into()),
            ("code_challenge_method", "S256".into()),
        ]
    }

    enum Edit {
        Set(&'static str, &'static str),
        Remove(&'static str),
        Add(&'static str, &'static str),
    }
    use Edit::*;

    fn run(bed: &TestBed, client: &str, edits: &[Edit], session: bool, done: Interactions) -> AuthorizeDecision {
        let mut params = base(client);
        for edit in edits {
            match edit {
                Set(k, v) => {
                    params.retain(|(key, _)| key != k);
                    params.push((k, (*v).to_owned()));
                }
                Remove(k) => params.retain(|(key, _)| key != k),
                Add(k, v) => params.push((k, (*v).to_owned())),
            }
        }
        let request = AuthorizationRequest::from_pairs(params);
        authorize(&bed.provider(), &request, session.then(alice_session).as_ref(), done)
    }

    #[test]
    fn check_table_cases() {
        let bed = TestBed::with_clients();
        let none = Interactions::default();
        let cases: Vec<(&str, &str, Vec<Edit>, bool, Interactions, &str)> = vec![
            ("happy path", WEB, vec![], true, none, "ready"),
            ("unknown client never redirects", "0oanobody", vec![], true, none, "page:invalid_client"),
            ("missing client_id", WEB, vec![Remove("client_id")], true, none, "page:invalid_request"),
            ("repeated client_id", WEB, vec![Add("client_id", WEB)], true, none, "page:invalid_request"),
            ("unregistered redirect never redirects", WEB, vec![Set("redirect_uri", "https://evil.example/cb")], true, none, "page:invalid_request"),
            ("redirect must match exactly", WEB, vec![Set("redirect_uri", "https://app.example.com/cb/")], true, none, "page:invalid_request"),
            ("redirect query must match", WEB, vec![Set("redirect_uri", "https://app.example.com/cb?x=1")], true, none, "page:invalid_request"),
            ("missing redirect_uri", WEB, vec![Remove("redirect_uri")], true, none, "page:invalid_request"),
            ("loopback port is free for native apps", NATIVE, vec![Set("redirect_uri", "http://127.0.0.1:51234/cb")], true, none, "ready"),
            ("loopback path is not free", NATIVE, vec![Set("redirect_uri", "http://127.0.0.1:51234/other")], true, none, "page:invalid_request"),
            ("localhost is no loopback exception", NATIVE, vec![Set("redirect_uri", "http://localhost:51234/cb")], true, none, "page:invalid_request"),
            ("private-use scheme matches exactly", NATIVE, vec![Set("redirect_uri", "com.example.app:/cb")], true, none, "ready"),
            ("implicit flow refused", WEB, vec![Set("response_type", "token")], true, none, "redirect:unsupported_response_type"),
            ("missing response_type", WEB, vec![Remove("response_type")], true, none, "redirect:invalid_request"),
            ("fragment mode refused", WEB, vec![Set("response_mode", "fragment")], true, none, "redirect:invalid_request"),
            ("form_post accepted", WEB, vec![Set("response_mode", "form_post")], true, none, "ready"),
            ("repeated state", WEB, vec![Add("state", "again")], true, none, "redirect:invalid_request"),
            ("request objects unsupported", WEB, vec![Set("request", "eyJ.x.y")], true, none, "redirect:request_not_supported"),
            ("request_uri unsupported", WEB, vec![Set("request_uri", "urn:x")], true, none, "redirect:request_uri_not_supported"),
            ("unknown scope", WEB, vec![Set("scope", "openid launch_missiles")], true, none, "redirect:invalid_scope"),
            ("missing scope", WEB, vec![Remove("scope")], true, none, "redirect:invalid_scope"),
            ("plain PKCE refused", WEB, vec![Set("code_challenge_method", "plain")], true, none, "redirect:invalid_request"),
            ("challenge without method means plain", WEB, vec![Remove("code_challenge_method")], true, none, "redirect:invalid_request"),
            ("method without challenge", WEB, vec![Remove("code_challenge")], true, none, "redirect:invalid_request"),
            ("malformed challenge", WEB, vec![Set("code_challenge", "tooshort")], true, none, "redirect:invalid_request"),
            ("public client needs PKCE", NATIVE, vec![Remove("code_challenge"), Remove("code_challenge_method")], true, none, "redirect:invalid_request"),
            ("confidential client may skip PKCE", WEB, vec![Remove("code_challenge"), Remove("code_challenge_method")], true, none, "ready"),
            ("no session: login", WEB, vec![], false, none, "login"),
            ("prompt=none without session", WEB, vec![Set("prompt", "none")], false, none, "redirect:login_required"),
            ("prompt=none with session", WEB, vec![Set("prompt", "none")], true, none, "ready"),
            ("prompt=none must stand alone", WEB, vec![Set("prompt", "none login")], true, none, "redirect:invalid_request"),
            ("unknown prompt", WEB, vec![Set("prompt", "select_account")], true, none, "redirect:invalid_request"),
            ("prompt=login forces login", WEB, vec![Set("prompt", "login")], true, none, "login"),
            ("prompt=login after login", WEB, vec![Set("prompt", "login")], true, Interactions { logged_in: true, consented: false }, "ready"),
            ("prompt=consent asks", WEB, vec![Set("prompt", "consent")], true, none, "consent"),
            ("prompt=consent after consent", WEB, vec![Set("prompt", "consent")], true, Interactions { logged_in: false, consented: true }, "ready"),
            ("max_age exceeded", WEB, vec![Set("max_age", "60")], true, none, "login"),
            ("max_age exceeded with prompt=none", WEB, vec![Set("max_age", "60"), Set("prompt", "none")], true, none, "redirect:login_required"),
            ("max_age respected", WEB, vec![Set("max_age", "600")], true, none, "ready"),
            ("max_age negative", WEB, vec![Set("max_age", "-1")], true, none, "redirect:invalid_request"),
            ("max_age not a number", WEB, vec![Set("max_age", "soon")], true, none, "redirect:invalid_request"),
            ("IPv6 loopback is another host", NATIVE, vec![Set("redirect_uri", "http://[::1]:5000/cb")], true, none, "page:invalid_request"),
            ("client without the code grant", "0oacconly", vec![], true, none, "redirect:unauthorized_client"),
            ("scope not allowed for the client", "0oanarrow", vec![Set("scope", "openid email")], true, none, "redirect:invalid_scope"),
            ("scope allowed for the client", "0oanarrow", vec![Set("scope", "openid")], true, none, "ready"),
        ];
        let mut cc_only = Client::web("0oacconly", vec![WEB_REDIRECT.into()]);
        cc_only.grant_types = vec![GrantType::ClientCredentials];
        bed.add_client(cc_only, None);
        let mut narrow = Client::web("0oanarrow", vec![WEB_REDIRECT.into()]);
        narrow.allowed_scopes = Some(vec!["openid".into()]);
        bed.add_client(narrow, None);
        for (name, client, edits, session, done, expected) in cases {
            assert_eq!(outcome(&run(&bed, client, &edits, session, done)), expected, "{name}");
        }
    }

    #[test]
    fn a_client_that_needs_consent_gets_consent_or_consent_required() {
        let bed = TestBed::with_clients();
        let mut c = Client::web("0oaconsent", vec![WEB_REDIRECT.into()]);
        c.consent_required = true;
        bed.add_client(c, None);
        let d = run(&bed, "0oaconsent", &[], true, Interactions::default());
        assert_eq!(outcome(&d), "consent");
        let d = run(&bed, "0oaconsent", &[Set("prompt", "none")], true, Interactions::default());
        assert_eq!(outcome(&d), "redirect:consent_required");
    }

    #[test]
    fn remembered_consent_covers_the_scopes_it_names() {
        let bed = TestBed::with_clients();
        let mut c = Client::web("0oaconsent", vec![WEB_REDIRECT.into()]);
        c.consent_required = true;
        bed.add_client(c, None);
        bed.consents.remember("00ualice", "0oaconsent", "openid profile");
        let cases: [(&str, &[Edit], &str); 5] = [
            ("covered", &[], "ready"),
            ("covered, prompt=none", &[Set("prompt", "none")], "ready"),
            ("prompt=consent asks anyway", &[Set("prompt", "consent")], "consent"),
            ("a new scope asks", &[Set("scope", "openid email")], "consent"),
            ("narrower is covered", &[Set("scope", "openid")], "ready"),
        ];
        for (name, edits, expected) in cases {
            assert_eq!(outcome(&run(&bed, "0oaconsent", edits, true, Interactions::default())), expected, "{name}");
        }
        // Another person's consent is theirs.
        let mut bob = alice_session();
        bob.user_id = "00ubob".into();
        let request = AuthorizationRequest::from_pairs(base("0oaconsent"));
        assert_eq!(outcome(&authorize(&bed.provider(), &request, Some(&bob), Interactions::default())), "consent");
    }

    #[test]
    fn access_policies_decide_after_login() {
        use crate::policy::{AccessPolicy, PolicyRule, TokenPolicy, ALL_CLIENTS, ANY_SCOPE};
        let mut bed = TestBed::with_clients();
        let rule = |scopes: &[&str], groups: &[&str]| PolicyRule {
            id: "0pr1".into(),
            name: "r".into(),
            priority: 1,
            active: true,
            grant_types: vec!["authorization_code".into()],
            users: vec![],
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            scopes: scopes.iter().map(|g| (*g).to_owned()).collect(),
            token: TokenPolicy::OKTA_DEFAULT,
        };
        let policy = |clients: &[&str], rule: PolicyRule| AccessPolicy {
            id: "00p1".into(),
            name: "p".into(),
            priority: 1,
            active: true,
            clients: clients.iter().map(|c| (*c).to_owned()).collect(),
            rules: vec![rule],
        };
        let cases: Vec<(&str, Vec<AccessPolicy>, bool, &str)> = vec![
            ("no policy at all", vec![], true, "redirect:access_denied"),
            ("no session: login first", vec![], false, "login"),
            ("every client, any scope", vec![policy(&[ALL_CLIENTS], rule(&[ANY_SCOPE], &["EVERYONE"]))], true, "ready"),
            ("another client only", vec![policy(&["0oaother"], rule(&[ANY_SCOPE], &["EVERYONE"]))], true, "redirect:access_denied"),
            ("scope not in the rule", vec![policy(&[WEB], rule(&["openid"], &["EVERYONE"]))], true, "redirect:access_denied"),
            ("scopes in the rule", vec![policy(&[WEB], rule(&["openid", "profile"], &["EVERYONE"]))], true, "ready"),
            ("alice's group", vec![policy(&[WEB], rule(&[ANY_SCOPE], &["00gadmins"]))], true, "ready"),
            ("another group", vec![policy(&[WEB], rule(&[ANY_SCOPE], &["00gother"]))], true, "redirect:access_denied"),
        ];
        for (name, policies, session, expected) in cases {
            bed.server.access_policies = Some(policies);
            let d = run(&bed, WEB, &[], session, Interactions::default());
            assert_eq!(outcome(&d), expected, "{name}");
            if let AuthorizeDecision::Respond(r) = d {
                assert_eq!(
                    r.param("error_description"),
                    Some("Policy evaluation failed for this request, please check the policy configurations."),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn error_redirects_carry_state_and_iss() {
        let bed = TestBed::with_clients();
        let AuthorizeDecision::Respond(r) = run(&bed, WEB, &[Set("scope", "bogus")], true, Interactions::default()) else {
            panic!("expected a redirect")
        };
        assert_eq!(
            r.location(),
            "https://app.example.com/cb?error=invalid_scope&error_description=The+scope+bogus+is+not+known+to+this+authorization+server.&state=xyz&iss=https%3A%2F%2Fsso.example.com%2Foauth2%2Fdefault"
        );
    }

    #[test]
    fn success_carries_code_state_and_iss_and_stores_the_code() {
        let bed = TestBed::with_clients();
        let AuthorizeDecision::Ready(v) = run(&bed, WEB, &[], true, Interactions::default()) else { panic!() };
        let r = complete(&bed.provider(), &v, &alice_session());
        let names: Vec<&str> = r.params.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["code", "state", "iss"]);
        assert_eq!(r.param("iss"), Some("https://sso.example.com/oauth2/default"));
        let stored = bed.codes.0.lock().unwrap();
        let (code, _) = stored.get(&token_hash(r.param("code").unwrap())).expect("stored under its hash");
        assert_eq!(code.expires_at, T0 + time::Duration::seconds(60));
        assert_eq!(code.code_challenge.as_deref(), Some(CHALLENGE));
    }

    #[test]
    fn form_post_escapes_and_location_keeps_the_query() {
        let r = AuthorizationResponse {
            redirect_uri: "https://app.example.com/cb?tenant=a".into(),
            response_mode: ResponseMode::FormPost,
            params: vec![("code", "abc".into()), ("state", "\"><script>".into())],
        };
        let html = r.form_post_html();
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""), "{html}");
        assert!(!html.contains("\"><script>"));
        assert_eq!(r.location(), "https://app.example.com/cb?tenant=a&code=abc&state=%22%3E%3Cscript%3E");
    }

    #[test]
    fn offline_access_needs_the_refresh_grant() {
        let bed = TestBed::with_clients();
        let mut c = Client::web("0oanorefresh", vec![WEB_REDIRECT.into()]);
        c.grant_types = vec![GrantType::AuthorizationCode];
        bed.add_client(c, None);
        let AuthorizeDecision::Ready(v) = run(&bed, "0oanorefresh", &[Set("scope", "openid offline_access")], true, Interactions::default())
        else {
            panic!()
        };
        assert_eq!(v.scopes.to_string(), "openid");
    }

    #[test]
    fn validated_request_carries_hints_and_mode_into_the_response() {
        let bed = TestBed::with_clients();
        let edits = [Set("login_hint", "alice@example.com"), Set("response_mode", "form_post"), Set("nonce", "n1")];
        let AuthorizeDecision::Login(v) = run(&bed, WEB, &edits, false, Interactions::default()) else { panic!() };
        assert_eq!(v.login_hint.as_deref(), Some("alice@example.com"));
        let r = complete(&bed.provider(), &v, &alice_session());
        assert_eq!(r.response_mode, ResponseMode::FormPost);
        let codes = bed.codes.0.lock().unwrap();
        let (code, _) = codes.get(&token_hash(r.param("code").unwrap())).unwrap();
        assert_eq!(code.nonce.as_deref(), Some("n1"));
        assert_eq!(code.redirect_uri, WEB_REDIRECT);
    }
}
