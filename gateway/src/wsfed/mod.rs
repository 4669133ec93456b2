//! WS-Federation passive requestor profile: SAML 1.1 or 2.0 tokens in a
//! RequestSecurityTokenResponse, posted to the relying party's reply URL.
//! The token, the RSTR and the signed metadata come from the `saml` crate;
//! this module reads the app's settings, the person and the session.
//!
//! Okta's `template_wsfed` shape, `settings.app`: `realm` (`wtrealm`),
//! `wReplyURL`, `wReplyOverride`, `audienceRestriction` (default: the realm),
//! `nameIDFormat`, `attributeStatements`, `groupFilter` with `groupName`,
//! `usernameAttribute`, `authnContextClassRef`, `siteURL`. Two additions:
//! `tokenType` (`SAML_1_1`, the default, or `SAML_2_0`) and `wReplyURLs`, the
//! further reply URLs a relying party may ask for with `wreply` when
//! `wReplyOverride` is on. A `wreply` outside that registered set is refused.
//!
//! Routes (Okta's layout; as in `saml_idp`, the first segment after `/app/`
//! is `{name}` in every route and holds the id in the metadata route):
//!
//! | route | what |
//! |---|---|
//! | `GET /app/{id}/sso/wsfed/metadata` | signed federation metadata |
//! | `GET /app/{name}/{id}/sso/wsfed/passive` | `wa=wsignin1.0`, `wsignout1.0`, `wsignoutcleanup1.0` ([`passive`]) |
//! | dashboard launch (`web::launch`) | IdP-initiated sign-in via [`launch`] |

mod passive;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use saml::{
    AssertionLifetime, AuthnInfo, NameId, NameIdFormat, ResponseSpec, RstrSpec, Saml11AssertionSpec, Saml11Attribute, SamlAttribute,
    SignaturePolicy, SigningKey, TokenType,
};
use serde_json::{Map, Value};

use crate::apps::cache::AssignedApp;
use crate::apps::username::UsernameTemplate;
use crate::apps::{AppInstance, Causes, SignOnMode};
use crate::directory::User;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::swa::post::{auto_post, AutoPost};
use crate::syslog::ClientInfo;
use crate::web::error_page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{name}/sso/wsfed/metadata", get(metadata))
        .route("/app/{name}/{id}/sso/wsfed/passive", get(passive::passive))
}

/// A session's sign-in to a WS-Federation app, kept until the session ends
/// so that signing out sends wsignoutcleanup1.0 to every app it reached.
#[derive(Debug, Clone)]
pub struct WsFedSignIn {
    pub session_id: String,
    pub app_id: String,
    pub reply_url: String,
    pub created: time::OffsetDateTime,
}

const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
/// Okta's default: a password over TLS.
const PASSWORD_PROTECTED_TRANSPORT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/// SAML 1.1's AuthenticationMethod for a password.
const SAML11_PASSWORD: &str = "urn:oasis:names:tc:SAML:1.0:am:password";
const DEFAULT_GROUP_CLAIM: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

/// One claim: its type URI and the profile expressions (or literal text) of its values.
#[derive(Debug, Clone)]
pub struct ClaimStatement {
    pub claim_type: String,
    pub values: Vec<String>,
}

/// Everything a WS-Federation sign-in needs from the app's settings.
#[derive(Debug, Clone)]
pub struct WsFedApp {
    pub realm: String,
    pub reply_url: String,
    pub reply_override: bool,
    /// Further registered reply URLs (with `wReplyOverride`).
    pub reply_urls: Vec<String>,
    pub audience: String,
    pub name_id_format: NameIdFormat,
    pub token_type: TokenType,
    pub claims: Vec<ClaimStatement>,
    /// Group names matching this become values of `group_claim`.
    pub group_filter: Option<saml::GroupFilter>,
    pub group_claim: String,
    pub authn_context_class_ref: Option<String>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The claim type of a statement: the namespace and the name joined, or the
/// name alone when it is already a URI (or there is no namespace).
fn claim_type(name: &str, namespace: Option<&str>) -> String {
    match namespace.map(str::trim).filter(|n| !n.is_empty()) {
        Some(ns) if !name.contains("://") && !name.starts_with("urn:") => format!("{}/{name}", ns.trim_end_matches('/')),
        _ => name.to_owned(),
    }
}

/// Okta's WS-Fed `attributeStatements`: `name|expression|namespace` entries
/// separated by commas, or the SAML-style list `[{name, namespace, values}]`.
fn claim_statements(value: Option<&Value>) -> Result<Vec<ClaimStatement>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        // Okta's default statements for WS-Federation apps.
        return Ok([("emailaddress", "user.email"), ("givenname", "user.firstName"), ("surname", "user.lastName"), ("name", "user.login")]
            .into_iter()
            .map(|(name, expression)| ClaimStatement { claim_type: format!("{CLAIMS}/{name}"), values: vec![expression.to_owned()] })
            .collect());
    };
    let mut out = Vec::new();
    match value {
        Value::String(s) => {
            for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let mut parts = entry.splitn(3, '|');
                let name = parts.next().unwrap_or("").trim();
                let expression = parts.next().map(str::trim).unwrap_or("");
                let namespace = parts.next();
                if name.is_empty() || expression.is_empty() {
                    return Err(format!("settings.app.attributeStatements: {entry:?} is not name|expression|namespace"));
                }
                out.push(ClaimStatement { claim_type: claim_type(name, namespace), values: vec![expression.to_owned()] });
            }
        }
        Value::Array(list) => {
            for (i, item) in list.iter().enumerate() {
                let name = item.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty());
                let Some(name) = name else { return Err(format!("settings.app.attributeStatements[{i}].name is required")) };
                let values = item
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default();
                out.push(ClaimStatement { claim_type: claim_type(name, item.get("namespace").and_then(Value::as_str)), values });
            }
        }
        _ => return Err("settings.app.attributeStatements must be text (name|expression|namespace, …) or a list".into()),
    }
    if out.len() > 100 {
        return Err("settings.app.attributeStatements: at most 100 statements".into());
    }
    Ok(out)
}

fn absolute_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some()) && text.len() <= 2048
}

impl WsFedApp {
    /// Reads the app's WS-Federation settings. An error names the setting that is wrong.
    pub fn from_app(app: &AppInstance) -> Result<Self, String> {
        let general = app.app_settings();
        let realm = text(&general, "realm").ok_or("settings.app.realm is not set")?.to_owned();
        let reply_url = text(&general, "wReplyURL").ok_or("settings.app.wReplyURL is not set")?.to_owned();
        if !absolute_url(&reply_url) {
            return Err("settings.app.wReplyURL must be an absolute http or https URL".into());
        }
        let mut reply_urls = Vec::new();
        match general.get("wReplyURLs") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (i, u) in list.iter().enumerate() {
                    match u.as_str() {
                        Some(u) if absolute_url(u) => reply_urls.push(u.to_owned()),
                        _ => return Err(format!("settings.app.wReplyURLs[{i}] must be an absolute http or https URL")),
                    }
                }
            }
            Some(_) => return Err("settings.app.wReplyURLs must be a list of URLs".into()),
        }
        let name_id_format = match text(&general, "nameIDFormat") {
            None => NameIdFormat::Unspecified,
            Some(uri) => NameIdFormat::ALL
                .into_iter()
                .find(|f| f.uri().eq_ignore_ascii_case(uri))
                .ok_or_else(|| format!("settings.app.nameIDFormat {uri:?} is not supported"))?,
        };
        let token_type = match text(&general, "tokenType") {
            None | Some("SAML_1_1") => TokenType::Saml11,
            Some("SAML_2_0") => TokenType::Saml20,
            Some(other) => return Err(format!("settings.app.tokenType {other:?} is not SAML_1_1 or SAML_2_0")),
        };
        let mut claims = claim_statements(general.get("attributeStatements"))?;
        let username_claims: &[&str] = match text(&general, "usernameAttribute") {
            None | Some("none") => &[],
            Some("username") => &["name"],
            Some("upn") => &["upn"],
            Some("upnAndUsername") => &["upn", "name"],
            Some(other) => return Err(format!("settings.app.usernameAttribute {other:?} is not username, upn, upnAndUsername or none")),
        };
        for name in username_claims {
            let claim = format!("{CLAIMS}/{name}");
            claims.retain(|c| c.claim_type != claim);
            // The app username, filled in when the token is built.
            claims.push(ClaimStatement { claim_type: claim, values: vec![APP_USERNAME.to_owned()] });
        }
        let group_filter = match text(&general, "groupFilter") {
            Some(regex) => Some(saml::GroupFilter::new("REGEX", regex).map_err(|_| format!("settings.app.groupFilter {regex:?} is not a valid regular expression"))?),
            None => None,
        };
        Ok(WsFedApp {
            audience: text(&general, "audienceRestriction").unwrap_or(&realm).to_owned(),
            realm,
            reply_url,
            reply_override: general.get("wReplyOverride").and_then(Value::as_bool).unwrap_or(false),
            reply_urls,
            name_id_format,
            token_type,
            claims,
            group_filter,
            group_claim: text(&general, "groupName").unwrap_or(DEFAULT_GROUP_CLAIM).to_owned(),
            authn_context_class_ref: text(&general, "authnContextClassRef").map(str::to_owned),
        })
    }

    /// Whether `wreply` is a reply URL the app registered (WS-Federation §13.2.3):
    /// `wReplyURL` always; the `wReplyURLs` only when overriding is allowed.
    pub fn reply_registered(&self, wreply: &str) -> bool {
        wreply == self.reply_url || (self.reply_override && self.reply_urls.iter().any(|u| u == wreply))
    }
}

/// Placeholder value: the app username.
const APP_USERNAME: &str = "\u{0}app-username";

/// Checks a WS_FEDERATION app's settings; called by `apps::validate` for that mode.
pub fn validate(app: &AppInstance, causes: &mut Causes) {
    let general = app.app_settings();
    // `apps::validate` itself reports a missing realm or reply URL; the rest
    // is read only once those are there.
    let basics = text(&general, "realm").is_some() && text(&general, "wReplyURL").is_some_and(absolute_url);
    if let Err(problem) = WsFedApp::from_app(app).map(|_| ()).or_else(|e| if basics { Err(e) } else { Ok(()) }) {
        match problem.split_once(' ') {
            Some((field, rest)) if field.starts_with("settings.") => causes.add(field.trim_end_matches(':'), rest.trim_start_matches(": ")),
            _ => causes.add("settings.app", problem),
        }
    }
    if let Some(site) = text(&general, "siteURL") {
        if !absolute_url(site) {
            causes.add("settings.app.siteURL", "must be an absolute http or https URL");
        }
    }
    if let Some(v) = general.get("wReplyOverride") {
        if !v.is_boolean() && !v.is_null() {
            causes.add("settings.app.wReplyOverride", "must be true or false");
        }
    }
}

/// Our issuer for the app: its metadata URL under VESTIBULE_PUBLIC_URL.
pub fn entity_id(state: &AppState, app: &AppInstance) -> String {
    state.config.absolute(&format!("/app/{}/sso/wsfed/metadata", app.id))
}

pub fn passive_url(state: &AppState, app: &AppInstance) -> String {
    state.config.absolute(&format!("/app/{}/{}/sso/wsfed/passive", app.name, app.id))
}

/// The app's signing key: the same key, cache and loader as SAML's (a kid
/// names one key whichever protocol signs with it).
async fn signing_key(state: &AppState, app: &AppInstance) -> Result<Arc<SigningKey>, String> {
    crate::saml_idp::keys::signing_key(state, app).await.map_err(|e| e.to_string())
}

/// Every certificate of the app's active keys, base64 DER (metadata publishes
/// the next key before it signs).
async fn published_certificates(state: &AppState, app: &AppInstance) -> Result<Vec<String>, String> {
    use base64::Engine as _;
    let keys = state.store.app_keys(&app.id).await.map_err(|e| e.to_string())?;
    let certificates: Vec<String> = keys
        .iter()
        .filter(|k| k.status == "ACTIVE" || Some(k.kid.as_str()) == app.signing_kid())
        .filter_map(|k| openssl::x509::X509::from_pem(k.certificate_pem.as_bytes()).ok()?.to_der().ok())
        .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
        .collect();
    if certificates.is_empty() {
        return Err("the app has no signing key".into());
    }
    Ok(certificates)
}

/// The value of a profile expression (`user.email`, `${source.login}`), or literal text.
fn expression_value(expression: &str, profile: &Map<String, Value>) -> Option<String> {
    let trimmed = expression.trim();
    let template = if trimmed.contains("${") {
        trimmed.to_owned()
    } else if trimmed.starts_with("user.") || trimmed.starts_with("source.") {
        format!("${{{trimmed}}}")
    } else {
        return Some(expression.to_owned());
    };
    match UsernameTemplate::parse(&template) {
        Ok(t) => t.render(profile).filter(|v| !v.is_empty()),
        Err(_) => Some(expression.to_owned()),
    }
}

/// A token issued for one sign-in, for the System Log and the form.
pub struct Issued {
    pub wresult: String,
    pub assertion_id: String,
    pub claim_types: Vec<String>,
}

/// Builds the signed assertion of the app's token type and wraps it in a
/// RequestSecurityTokenResponse for `reply_url`.
#[allow(clippy::too_many_arguments)]
async fn issue(
    state: &AppState,
    app: &AppInstance,
    wsfed: &WsFedApp,
    user: &User,
    assignment: &AssignedApp,
    authn_instant: time::OffsetDateTime,
    session_index: &str,
    reply_url: &str,
) -> Result<Issued, String> {
    let key = signing_key(state, app).await?;
    let username = assignment.username.as_deref().unwrap_or_else(|| user.login()).to_owned();
    let mut claims: Vec<(String, Vec<String>)> = wsfed
        .claims
        .iter()
        .map(|c| {
            let values = c
                .values
                .iter()
                .filter_map(|v| if v == APP_USERNAME { Some(username.clone()) } else { expression_value(v, &user.profile) })
                .collect();
            (c.claim_type.clone(), values)
        })
        .filter(|(_, values): &(String, Vec<String>)| !values.is_empty())
        .collect();
    if let Some(filter) = &wsfed.group_filter {
        let groups = crate::apps::cache::groups_of_user(state, &user.id).await.map_err(|e| e.to_string())?;
        let names: Vec<String> = groups.iter().map(|g| g.name.clone()).filter(|g| filter.matches(g)).collect();
        if !names.is_empty() {
            claims.push((wsfed.group_claim.clone(), names));
        }
    }
    let lifetime = AssertionLifetime::default();
    let now = state.now();
    let name_id = NameId { value: username, format: wsfed.name_id_format };
    let mut rng = rand::thread_rng();
    let (token_xml, assertion_id) = match wsfed.token_type {
        TokenType::Saml11 => {
            let spec = Saml11AssertionSpec {
                issuer: entity_id(state, app),
                audience: wsfed.audience.clone(),
                name_id,
                authn_instant,
                authentication_method: wsfed.authn_context_class_ref.clone().unwrap_or_else(|| SAML11_PASSWORD.to_owned()),
                attributes: claims.iter().map(|(t, v)| Saml11Attribute::from_claim_type(t, v.clone())).collect(),
                lifetime,
            };
            let signed = saml::build_saml11_assertion(&spec, state.clock.as_ref(), &mut rng, key.as_ref(), saml::SignatureAlgorithm::RsaSha256)
                .map_err(|e| e.to_string())?;
            (signed.xml, signed.assertion_id)
        }
        TokenType::Saml20 => {
            let spec = ResponseSpec {
                issuer: entity_id(state, app),
                destination: reply_url.to_owned(),
                recipient: reply_url.to_owned(),
                audience: wsfed.audience.clone(),
                in_response_to: None,
                name_id,
                authn: AuthnInfo {
                    instant: authn_instant,
                    session_index: session_index.to_owned(),
                    class_ref: wsfed.authn_context_class_ref.clone().unwrap_or_else(|| PASSWORD_PROTECTED_TRANSPORT.to_owned()),
                },
                attributes: claims.iter().map(|(t, v)| SamlAttribute { name: t.clone(), name_format: None, values: v.clone() }).collect(),
                typed_attribute_values: false,
                lifetime,
                signing: SignaturePolicy::default(),
                encryption: None,
            };
            let signed = saml::build_signed_assertion(&spec, state.clock.as_ref(), &mut rng, key.as_ref()).map_err(|e| e.to_string())?;
            (signed.xml, signed.assertion_id)
        }
    };
    let wresult = saml::request_security_token_response(&RstrSpec {
        applies_to: &wsfed.realm,
        token_type: wsfed.token_type,
        created: now,
        expires: now + lifetime.validity,
        token_xml: &token_xml,
    });
    Ok(Issued { wresult, assertion_id, claim_types: claims.into_iter().map(|(t, _)| t).collect() })
}

/// The SessionIndex an app sees for a session: derived per app, so apps
/// cannot correlate sessions and the session id never leaves us.
fn session_index(app: &AppInstance, session_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("wsfed\n{}\n{session_id}", app.id).as_bytes());
    format!("_{}", hex::encode(&digest[..16]))
}

fn misconfigured(state: &AppState, app: &AppInstance, problem: &str) -> Response {
    tracing::error!(app = %app.id, %problem, "WS-Federation app misconfigured");
    error_page(state, StatusCode::INTERNAL_SERVER_ERROR, "App misconfigured", "This app's WS-Federation settings are incomplete. Ask your administrator to check them.")
}

/// The form that posts the token to the relying party (WS-Federation §13.2.4).
fn post_token(state: &AppState, reply_url: &str, issued: &Issued, wctx: Option<&str>) -> Response {
    let mut fields = vec![("wa", "wsignin1.0"), ("wresult", issued.wresult.as_str())];
    if let Some(ctx) = wctx {
        fields.push(("wctx", ctx));
    }
    auto_post(&state.config.org_name, &AutoPost { action: reply_url, also_allow: Vec::new(), fields, button_name: None, message: "Signing you in…" })
}

/// Records the sign-in for sign-out; a failure only costs the cleanup later.
async fn remember(state: &AppState, app: &AppInstance, session_id: &str, reply_url: &str) {
    let sign_in = WsFedSignIn { session_id: session_id.to_owned(), app_id: app.id.clone(), reply_url: reply_url.to_owned(), created: state.now() };
    if let Err(e) = state.store.put_wsfed_sign_in(&sign_in).await {
        tracing::warn!(error = %e, "could not record a WS-Federation sign-in");
    }
}

/// A dashboard launch of a WS-Federation app: the token posted to the
/// registered `wReplyURL`. The caller checked the session and the
/// assignment, counted the launch and wrote its System Log event.
pub async fn launch(state: &AppState, app: &AppInstance, assignment: &AssignedApp, user: &User, session: &SessionRecord, _client: &ClientInfo) -> Response {
    let wsfed = match WsFedApp::from_app(app) {
        Ok(w) => w,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    match issue(state, app, &wsfed, user, assignment, session.created, &session_index(app, &session.id), &wsfed.reply_url).await {
        Ok(issued) => {
            remember(state, app, &session.id, &wsfed.reply_url).await;
            post_token(state, &wsfed.reply_url, &issued, None)
        }
        Err(problem) => misconfigured(state, app, &problem),
    }
}

/// A dashboard launch without the session record (the launch path's older
/// seam): the authentication instant is the launch, and the sign-in is not
/// remembered for sign-out. Prefer [`launch`].
pub async fn idp_initiated(state: &AppState, app: &AppInstance, assignment: &AssignedApp, user: &User, _client: &ClientInfo) -> Response {
    let wsfed = match WsFedApp::from_app(app) {
        Ok(w) => w,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    let now = state.now();
    match issue(state, app, &wsfed, user, assignment, now, &session_index(app, &user.id), &wsfed.reply_url).await {
        Ok(issued) => post_token(state, &wsfed.reply_url, &issued, None),
        Err(problem) => misconfigured(state, app, &problem),
    }
}

/// The WS-Federation apps a session signed in to. Read before the session
/// ends (the rows go with it), then pass to [`cleanup_page`].
pub async fn sign_ins(state: &AppState, session_id: &str) -> Vec<WsFedSignIn> {
    state.store.wsfed_sign_ins(session_id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read a session's WS-Federation sign-ins");
        Vec::new()
    })
}

/// `reply_url` with `wa=wsignoutcleanup1.0` added (WS-Federation §13.2.4).
fn cleanup_url(reply_url: &str) -> Option<String> {
    let mut url = url::Url::parse(reply_url).ok()?;
    url.query_pairs_mut().append_pair("wa", "wsignoutcleanup1.0");
    Some(url.to_string())
}

/// The wsignoutcleanup1.0 URLs for a session's sign-ins, for a sign-out page
/// that loads them (as images) beside other apps' logout requests.
pub fn cleanup_urls(sign_ins: &[WsFedSignIn]) -> Vec<String> {
    let mut urls: Vec<String> = sign_ins.iter().filter_map(|s| cleanup_url(&s.reply_url)).collect();
    urls.dedup();
    urls
}

/// The page shown after sign-out when the session had signed in to
/// WS-Federation apps: it asks each of them to clean up (an image request
/// with `wa=wsignoutcleanup1.0`, as the passive profile does), then moves on
/// to `next` (a same-origin path or a registered reply URL).
pub fn cleanup_page(state: &AppState, sign_ins: &[WsFedSignIn], next: &str) -> Response {
    use maud::html;
    let urls = cleanup_urls(sign_ins);
    let mut origins: Vec<String> = urls.iter().filter_map(|u| crate::swa::post::origin(u)).collect();
    origins.sort();
    origins.dedup();
    let markup = crate::web::page(
        state,
        "Signed out",
        html! {
            main class="card" {
                h1 { "You are signed out" }
                p role="status" { "You are signed out of " (state.config.org_name) " and its apps." }
                @for url in &urls {
                    img src=(url) alt="" width="1" height="1";
                }
                p { a href=(next) { "Continue" } }
            }
        },
    );
    let mut response = crate::web::html_response(StatusCode::OK, markup, &[]);
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data: {}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        origins.join(" ")
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("3; url={next}")) {
        response.headers_mut().insert(header::REFRESH, v);
    }
    response
}

/// A WS-Federation app by id through the cache, if it is one.
async fn wsfed_app(state: &AppState, id: &str) -> Result<Option<Arc<AppInstance>>, Response> {
    if id.len() > 64 {
        return Ok(None);
    }
    match crate::apps::cache::app(state, id).await {
        Ok(found) => Ok(found.filter(|a| a.sign_on_mode == SignOnMode::WsFederation)),
        Err(e) => {
            tracing::error!(error = %e, "store error loading an app");
            Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be opened."))
        }
    }
}

/// GET /app/{id}/sso/wsfed/metadata: signed federation metadata.
async fn metadata(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let app = match wsfed_app(&state, &id).await {
        Ok(Some(app)) => app,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "Not found", "There is no WS-Federation app with this id."),
        Err(response) => return response,
    };
    let wsfed = match WsFedApp::from_app(&app) {
        Ok(w) => w,
        Err(problem) => return misconfigured(&state, &app, &problem),
    };
    let (certificates, key) = match (published_certificates(&state, &app).await, signing_key(&state, &app).await) {
        (Ok(c), Ok(k)) => (c, k),
        (Err(problem), _) | (_, Err(problem)) => return misconfigured(&state, &app, &problem),
    };
    let mut claim_types: Vec<String> = wsfed.claims.iter().map(|c| c.claim_type.clone()).collect();
    if wsfed.group_filter.is_some() {
        claim_types.push(wsfed.group_claim.clone());
    }
    let document = saml::WsFedMetadata {
        entity_id: entity_id(&state, &app),
        signing_certificates: certificates,
        passive_endpoint: passive_url(&state, &app),
        token_types: vec![wsfed.token_type],
        claim_types,
    };
    match saml::build_wsfed_metadata(&document, key.as_ref(), saml::SignatureAlgorithm::RsaSha256, &mut rand::thread_rng()) {
        Ok(xml) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
            ],
            xml,
        )
            .into_response(),
        Err(e) => misconfigured(&state, &app, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(general: Value) -> AppInstance {
        AppInstance {
            id: "0oa1".into(),
            name: "template_wsfed".into(),
            label: "RP".into(),
            status: crate::apps::AppStatus::Active,
            sign_on_mode: SignOnMode::WsFederation,
            catalog_name: None,
            settings: json!({ "app": general }).as_object().unwrap().clone(),
            credentials: crate::apps::default_credentials(),
            visibility: crate::apps::default_visibility(),
            accessibility: crate::apps::default_accessibility(),
            created: time::OffsetDateTime::UNIX_EPOCH,
            last_updated: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn settings_in_okta_shape() {
        let w = WsFedApp::from_app(&app(json!({
            "realm": "urn:rp", "wReplyURL": "https://rp.example/", "wReplyOverride": true, "wReplyURLs": ["https://rp.example/other"],
            "attributeStatements": "givenname|${user.firstName}|http://schemas.xmlsoap.org/ws/2005/05/identity/claims/,dept|Engineering|",
            "usernameAttribute": "upn", "tokenType": "SAML_2_0", "groupFilter": "team-.*",
        })))
        .unwrap();
        assert_eq!(w.audience, "urn:rp");
        assert_eq!(w.token_type, TokenType::Saml20);
        let types: Vec<&str> = w.claims.iter().map(|c| c.claim_type.as_str()).collect();
        assert_eq!(types, [format!("{CLAIMS}/givenname").as_str(), "dept", &format!("{CLAIMS}/upn")]);
        assert!(w.reply_registered("https://rp.example/"));
        assert!(w.reply_registered("https://rp.example/other"));
        assert!(!w.reply_registered("https://evil.example/"));
        assert!(!w.reply_registered("https://rp.example"));
        let cases = [
            (json!({"realm": "urn:rp", "wReplyURL": "https://rp.example/", "tokenType": "JWT"}), "settings.app.tokenType"),
            (json!({"realm": "urn:rp", "wReplyURL": "https://rp.example/", "groupFilter": "("}), "settings.app.groupFilter"),
            (json!({"realm": "urn:rp", "wReplyURL": "https://rp.example/", "siteURL": "nope"}), "settings.app.siteURL"),
        ];
        for (general, field) in cases {
            let mut causes = Causes::default();
            validate(&app(general.clone()), &mut causes);
            assert!(causes.0.iter().any(|c| c.starts_with(field)), "{general}: {:?}", causes.0);
        }
        let w = WsFedApp::from_app(&app(json!({"realm": "urn:rp", "wReplyURL": "https://rp.example/", "wReplyURLs": ["https://rp.example/other"]}))).unwrap();
        assert!(!w.reply_registered("https://rp.example/other"), "without wReplyOverride only wReplyURL counts");
    }
}
