//! The SAML 2.0 identity provider endpoints: metadata, SP- and IdP-initiated
//! single sign-on, single logout. Protocol decisions come from the `saml`
//! crate; this module reads the app's settings, the person and the session,
//! and turns the decisions into pages.
//!
//! Routes (Okta's layout). The first segment after `/app/` is named `{name}`
//! in every route, because the router needs one parameter name per position;
//! in the metadata route it holds the app id.
//!
//! | route | what |
//! |---|---|
//! | `GET /app/{id}/sso/saml/metadata` | IdP metadata for the app |
//! | `GET /app/{id}/sso/saml/certificate[?kid=…]` | the signing certificate in use (or a published key's), PEM download |
//! | `GET /app/{name}/{id}/sso/saml/preview` | admins: the assertion a person would get, unsigned |
//! | `GET, POST /app/{name}/{id}/sso/saml` | SP-initiated SSO (Redirect, POST) |
//! | `GET, POST /app/{name}/{id}/slo/saml` | SP-initiated single logout |
//! | dashboard launch (`web::launch`) | IdP-initiated SSO via [`idp_initiated`] |
//! | dashboard sign-out (`web::login`) | IdP-initiated SLO via [`front_channel_logout`], Redirect or POST |
//!
//! **Invariant:** a Response is only ever posted to an ACS URL the app
//! registered (`ssoAcsUrl` or `acsEndpoints`); a request that fails its checks
//! gets a page, never a post. **Invariant:** peer signatures are verified
//! with the SP certificate in the app's settings only; SP-initiated logout
//! always requires a signature. **Invariant:** signing keys are opened and
//! parsed once per kid (`caches.saml_keys`); a deleted key leaves the cache
//! through `Invalidation::SigningKey`. Metadata publishes every key of the
//! app (the one in use first), so a rotation overlaps: see `apps::keys`.

mod admin;
mod form;
pub mod keys;
mod replay;
mod settings;
mod signout;
mod slo;
mod sso;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use saml::{AuthnInfo, IdpMetadata, NameId, ResponseSpec, SamlAttribute, SignedResponse, SigningKey};
use serde_json::Value;
use sha2::Digest as _;

use crate::apps::cache::AssignedApp;
use crate::apps::username::UsernameTemplate;
use crate::apps::{AppInstance, SignOnMode};
use crate::directory::User;
use crate::state::AppState;
use crate::store::SessionRecord;
use crate::syslog::ClientInfo;
use crate::web::error_page;

pub use settings::{sign_on_from_sp_metadata, validate, SamlApp};
pub use signout::{front_channel_logout, logout_requests, Delivery, OutgoingLogout};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{name}/sso/saml/metadata", get(metadata))
        .route("/app/{name}/sso/saml/certificate", get(admin::certificate))
        .route("/app/{name}/{id}/sso/saml/preview", get(admin::preview))
        .route("/app/{name}/{id}/sso/saml", get(sso::redirect_binding).post(sso::post_binding))
        .route("/app/{name}/{id}/slo/saml", get(slo::redirect_binding).post(slo::post_binding))
}

/// Our entity ID for the app: its metadata URL under VESTIBULE_PUBLIC_URL.
pub fn entity_id(state: &AppState, app: &AppInstance) -> String {
    state.config.absolute(&format!("/app/{}/sso/saml/metadata", app.id))
}

pub fn sso_url(state: &AppState, app: &AppInstance) -> String {
    state.config.absolute(&format!("/app/{}/{}/sso/saml", app.name, app.id))
}

pub fn slo_url(state: &AppState, app: &AppInstance) -> String {
    state.config.absolute(&format!("/app/{}/{}/slo/saml", app.name, app.id))
}

/// The SessionIndex an app sees for a session: derived per app, so apps
/// cannot correlate sessions and the session id itself never leaves us.
pub fn session_index(app: &AppInstance, session: &SessionRecord) -> String {
    let digest = sha2::Sha256::digest(format!("{}\n{}", app.id, session.id).as_bytes());
    format!("_{}", hex::encode(&digest[..16]))
}

/// A SAML app by id through the cache, if it exists and is SAML.
async fn saml_app(state: &AppState, id: &str) -> Result<Option<Arc<AppInstance>>, Response> {
    if id.len() > 64 {
        return Ok(None);
    }
    match crate::apps::cache::app(state, id).await {
        Ok(found) => Ok(found.filter(|a| a.sign_on_mode == SignOnMode::Saml2)),
        Err(e) => {
            tracing::error!(error = %e, "store error loading an app");
            Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be opened."))
        }
    }
}

fn misconfigured(state: &AppState, app: &AppInstance, problem: &str) -> Response {
    tracing::error!(app = %app.id, %problem, "SAML app misconfigured");
    error_page(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        "App misconfigured",
        "This app's SAML settings are incomplete. Ask your administrator to check them.",
    )
}

/// The app's parsed SAML settings, parsed (and their regular expressions
/// compiled) once per app version rather than per launch. `AppState::invalidate`
/// drops an entry when the app changes; the version check covers an app read
/// fresher than the entry.
pub(crate) async fn settings_of(state: &AppState, app: &AppInstance) -> Result<Arc<SamlApp>, String> {
    if let Some((version, parsed)) = state.caches.saml_apps.get(&app.id).await {
        if version == app.last_updated {
            return Ok(parsed);
        }
    }
    let parsed = Arc::new(SamlApp::from_app(app)?);
    state.caches.saml_apps.insert(app.id.clone(), (app.last_updated, parsed.clone())).await;
    Ok(parsed)
}

/// GET /app/{id}/sso/saml/metadata
async fn metadata(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let app = match saml_app(&state, &id).await {
        Ok(Some(app)) => app,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "Not found", "There is no SAML app with this id."),
        Err(response) => return response,
    };
    let saml = match settings_of(&state, &app).await {
        Ok(s) => s,
        Err(problem) => return misconfigured(&state, &app, &problem),
    };
    let certificates = match keys::published_certificates(&state, &app).await {
        Ok(c) => c,
        Err(e) => return misconfigured(&state, &app, &e.to_string()),
    };
    let document = IdpMetadata {
        entity_id: entity_id(&state, &app),
        signing_certificates: certificates,
        sso_url: sso_url(&state, &app),
        slo_url: saml.slo.as_ref().map(|_| slo_url(&state, &app)),
        name_id_formats: vec![saml.name_id_format],
        want_authn_requests_signed: saml.require_signed_requests,
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        ],
        document.to_xml(),
    )
        .into_response()
}

/// What one issued assertion says, for the System Log.
pub struct Issued {
    pub response: SignedResponse,
    pub attribute_names: Vec<String>,
}

/// Everything an assertion is built from.
pub struct Subject<'a> {
    pub app: &'a AppInstance,
    pub saml: &'a SamlApp,
    pub user: &'a User,
    pub assignment: &'a AssignedApp,
    pub session: &'a SessionRecord,
}

/// The value of one attribute-statement expression for a person: Okta's
/// `user.x` / `${source.x}` forms and functions read the profile; anything
/// that does not parse as an expression is literal text.
fn expression_value(expression: &str, profile: &serde_json::Map<String, Value>) -> Option<String> {
    let trimmed = expression.trim();
    let template = if trimmed.contains("${") {
        trimmed.to_owned()
    } else if trimmed.starts_with("user.") || trimmed.starts_with("source.") || trimmed.starts_with("fn:") {
        format!("${{{trimmed}}}")
    } else {
        return Some(expression.to_owned());
    };
    match UsernameTemplate::parse(&template) {
        Ok(t) => t.render(profile).filter(|v| !v.is_empty()),
        Err(_) => Some(expression.to_owned()),
    }
}

async fn attributes(state: &AppState, subject: &Subject<'_>) -> Vec<SamlAttribute> {
    let mut out = Vec::new();
    let mut groups: Option<Vec<String>> = None;
    for statement in &subject.saml.attribute_statements {
        match statement {
            settings::AttributeStatement::Expression { name, name_format, values } => {
                let values: Vec<String> =
                    values.iter().filter_map(|v| expression_value(v, &subject.user.profile)).collect();
                out.push(SamlAttribute { name: name.clone(), name_format: name_format.clone(), values });
            }
            settings::AttributeStatement::Group { name, name_format, filter } => {
                if groups.is_none() {
                    // Only apps with group statements pay for this read.
                    groups = Some(match crate::apps::cache::groups_of_user(state, &subject.user.id).await {
                        Ok(found) => found.iter().map(|g| g.name.clone()).collect(),
                        Err(e) => {
                            tracing::error!(error = %e, "could not read groups for a SAML attribute");
                            Vec::new()
                        }
                    });
                }
                let values = groups.iter().flatten().filter(|g| filter.matches(g)).cloned().collect();
                out.push(SamlAttribute { name: name.clone(), name_format: name_format.clone(), values });
            }
        }
    }
    out
}

/// Builds and signs the Response for `acs_url`.
pub async fn issue(
    state: &AppState,
    subject: &Subject<'_>,
    key: &SigningKey,
    acs_url: &str,
    in_response_to: Option<String>,
    class_ref: Option<String>,
) -> Result<Issued, saml::SamlError> {
    let (recipient, destination) = subject.saml.recipient_and_destination(acs_url);
    let attributes = attributes(state, subject).await;
    let attribute_names = attributes.iter().map(|a| a.name.clone()).collect();
    let username = subject.assignment.username.as_deref().unwrap_or_else(|| subject.user.login());
    let spec = ResponseSpec {
        issuer: entity_id(state, subject.app),
        destination,
        recipient,
        audience: subject.saml.audience.clone(),
        in_response_to,
        name_id: NameId { value: username.to_owned(), format: subject.saml.name_id_format },
        authn: AuthnInfo {
            instant: subject.session.created,
            session_index: session_index(subject.app, subject.session),
            class_ref: class_ref.unwrap_or_else(|| subject.saml.authn_context_class_ref.clone()),
        },
        typed_attribute_values: !attributes.is_empty(),
        attributes,
        lifetime: saml::AssertionLifetime { validity: subject.saml.assertion_lifetime, ..saml::AssertionLifetime::default() },
        signing: subject.saml.signing,
        encryption: subject.saml.encryption.clone(),
    };
    // One or two RSA signatures (about a millisecond each) run inline: moving
    // them to the blocking pool would cost more than it frees at this size.
    let response = saml::build_response(&spec, state.clock.as_ref(), &mut rand::thread_rng(), key)?;
    Ok(Issued { response, attribute_names })
}

/// The configured clock skew for IssueInstant checks (VESTIBULE_SAML_CLOCK_SKEW).
fn clock_skew(state: &AppState) -> time::Duration {
    time::Duration::try_from(state.config.saml_clock_skew).unwrap_or(time::Duration::minutes(3))
}

/// A dashboard launch of a SAML app: an auto-submitting POST of a signed
/// Response to the ACS. The caller checked the session and the assignment and
/// counted the launch; the System Log event is written here, where the
/// assertion's audience, NameID format and attribute names are known.
pub async fn idp_initiated(
    state: &AppState,
    app: &AppInstance,
    assignment: &AssignedApp,
    user: &User,
    session: &SessionRecord,
    client: &ClientInfo,
) -> Response {
    let saml = match settings_of(state, app).await {
        Ok(s) => s,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    let key = match keys::signing_key(state, app).await {
        Ok(k) => k,
        Err(e) => return misconfigured(state, app, &e.to_string()),
    };
    let subject = Subject { app, saml: &saml, user, assignment, session };
    match issue(state, &subject, &key, &saml.acs_url, None, None).await {
        Ok(issued) => {
            state
                .log(
                    crate::state::EventBuilder::new("user.authentication.sso", "User single sign on to app", crate::syslog::Actor::user(user), client)
                        .target(crate::syslog::Target::other(&app.id, "AppInstance", &app.label))
                        .debug("signOnMode", app.sign_on_mode.as_str())
                        .debug("initiatedBy", "IdP")
                        .debug("audience", saml.audience.as_str())
                        .debug("nameIdFormat", saml.name_id_format.uri())
                        .debug("attributes", issued.attribute_names.join(","))
                        .debug("assertionId", issued.response.assertion_id.as_str()),
                )
                .await;
            form::auto_post(
            &state.config.org_name,
            &saml.acs_url,
            "SAMLResponse",
            &issued.response.to_base64(),
            saml.default_relay_state.as_deref(),
            )
        }
        Err(e) => misconfigured(state, app, &e.to_string()),
    }
}
