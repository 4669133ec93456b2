//! Secure Web Authentication: stored usernames and passwords, sealed in the
//! vault, auto-posted to an app's own sign-in form.
//!
//! Okta's shape: an AUTO_LOGIN app has `settings.signOn.loginUrl` (where the
//! form is posted), `settings.app.{usernameField, passwordField, buttonField,
//! extraFieldSelector, extraFieldValue, extraFields}` (the form's field names;
//! Okta's CSS selectors `#x` and `input[name="x"]` are read as the name `x`),
//! and `credentials.{scheme, revealPassword, userName}`. Who sets the
//! credentials depends on the scheme:
//!
//! | scheme | username | password | the person may |
//! |---|---|---|---|
//! | `EDIT_USERNAME_AND_PASSWORD` (default) | person (or admin) | person (or admin) | edit both; reveal if allowed |
//! | `EDIT_PASSWORD_ONLY` | app username | person (or admin) | edit the password; reveal if allowed |
//! | `ADMIN_SETS_CREDENTIALS` | admin | admin | reveal if allowed |
//! | `SHARED_USERNAME_AND_PASSWORD` | `credentials.userName` | admin, one per app | nothing (never shown) |
//!
//! **Invariant:** a password leaves the vault only into the auto-post page
//! (`Cache-Control: no-store`, posted in the body, never a URL) or the reveal
//! page after the person re-entered their own password. It is never logged.
//!
//! Routes (the person's pages; the launch itself is `web::launch`):
//!
//! | route | what |
//! |---|---|
//! | `GET /app/UserHome/credentials` | the person's SWA apps and whether their sign-in is stored |
//! | `GET, POST /app/UserHome/credentials/{id}` | "Sign in to {app}": store or change the credentials (`?launch=1` on first launch) |
//! | `POST /app/UserHome/credentials/{id}/reveal` | show the stored password after re-entering the Vestibule password |

mod pages;
pub mod post;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post as post_route};
use axum::Router;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use vestibule_core::Secret;

use crate::apps::cache::AssignedApp;
use crate::apps::{AppInstance, Causes, SignOnMode};
use crate::directory::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;
use crate::syslog::ClientInfo;
use crate::web::error_page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/UserHome/credentials", get(pages::list))
        .route("/app/UserHome/credentials/{id}", get(pages::edit).post(pages::save))
        .route("/app/UserHome/credentials/{id}/reveal", post_route(pages::reveal))
}

/// Longest password or username we store. Login forms rarely take more.
const MAX_SECRET: usize = 1024;
const MAX_USERNAME: usize = 256;

/// Who set a person's stored credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    User,
    Admin,
}

impl SetBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Admin => "ADMIN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "USER" => Some(Self::User),
            "ADMIN" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// One person's credentials for one app, the password sealed under
/// `swa/{app_id}/{user_id}`.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub app_id: String,
    pub user_id: String,
    pub user_name: String,
    pub sealed_password: String,
    pub set_by: SetBy,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// An app's shared password, sealed under `swa/{app_id}/shared`.
#[derive(Debug, Clone)]
pub struct SharedPassword {
    pub app_id: String,
    pub sealed_password: String,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

pub(crate) fn person_context(app_id: &str, user_id: &str) -> String {
    format!("swa/{app_id}/{user_id}")
}

pub(crate) fn shared_context(app_id: &str) -> String {
    format!("swa/{app_id}/shared")
}

/// Okta's `credentials.scheme` for vaulted passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    EditUsernameAndPassword,
    EditPasswordOnly,
    AdminSetsCredentials,
    SharedUsernameAndPassword,
}

impl Scheme {
    pub const ALL: [Scheme; 4] =
        [Self::EditUsernameAndPassword, Self::EditPasswordOnly, Self::AdminSetsCredentials, Self::SharedUsernameAndPassword];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EditUsernameAndPassword => "EDIT_USERNAME_AND_PASSWORD",
            Self::EditPasswordOnly => "EDIT_PASSWORD_ONLY",
            Self::AdminSetsCredentials => "ADMIN_SETS_CREDENTIALS",
            Self::SharedUsernameAndPassword => "SHARED_USERNAME_AND_PASSWORD",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the person stores their own password.
    pub fn person_sets_password(self) -> bool {
        matches!(self, Self::EditUsernameAndPassword | Self::EditPasswordOnly)
    }
}

/// The name of a form field from Okta's field setting: a plain name
/// (`login`, `user[email]`), an id selector `#login` (read as the name), or an
/// attribute selector `input[name="login"]`.
pub fn field_name(setting: &str) -> Option<String> {
    let s = setting.trim();
    let valid = |n: &str| {
        !n.is_empty()
            && n.len() <= 128
            && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '[' | ']'))
    };
    if let Some(start) = s.find("[name") {
        let rest = s[start + 5..].trim_start().strip_prefix('=')?;
        let rest = rest.trim_start();
        let name = match rest.chars().next()? {
            q @ ('"' | '\'') => rest[1..].split(q).next()?,
            _ => rest.split(']').next()?.trim(),
        };
        return valid(name).then(|| name.to_owned());
    }
    let name = s.strip_prefix('#').unwrap_or(s);
    valid(name).then(|| name.to_owned())
}

/// Everything an SWA launch needs from the app's settings.
#[derive(Debug, Clone)]
pub struct SwaApp {
    pub login_url: String,
    /// The secondary sign-in URL (`signOn.redirectUrl`): the login form may redirect there.
    pub redirect_url: Option<String>,
    pub username_field: String,
    pub password_field: String,
    pub button_field: Option<String>,
    /// Further fields posted as they are (name, value).
    pub extra_fields: Vec<(String, String)>,
    pub scheme: Scheme,
    pub reveal_password: bool,
    /// `credentials.userName` of a shared-credentials app.
    pub shared_user_name: Option<String>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

impl SwaApp {
    /// Reads the settings; `catalog` supplies field names a catalog app does not set.
    pub fn from_app(app: &AppInstance, catalog: Option<&::catalog::SwaTemplate>) -> Result<Self, String> {
        let sign_on = app.sign_on();
        let general = app.app_settings();
        let login_url = text(&sign_on, "loginUrl").ok_or("settings.signOn.loginUrl is not set")?.to_owned();
        let field = |key: &str, from_catalog: Option<&str>, default: &str| -> Result<String, String> {
            match text(&general, key).or(from_catalog) {
                Some(setting) => field_name(setting).ok_or_else(|| format!("settings.app.{key} {setting:?} is not a form field name")),
                None => Ok(default.to_owned()),
            }
        };
        let username_field = field("usernameField", catalog.map(|c| c.username_field.as_str()), "username")?;
        let password_field = field("passwordField", catalog.map(|c| c.password_field.as_str()), "password")?;
        let button_field = match text(&general, "buttonField") {
            Some(setting) => field_name(setting),
            None => None,
        };
        let mut extra_fields = Vec::new();
        if let Some(selector) = text(&general, "extraFieldSelector") {
            let name = field_name(selector).ok_or_else(|| format!("settings.app.extraFieldSelector {selector:?} is not a form field name"))?;
            extra_fields.push((name, general.get("extraFieldValue").and_then(Value::as_str).unwrap_or("").to_owned()));
        }
        if let Some(extra) = general.get("extraFields").and_then(Value::as_object) {
            for (name, value) in extra {
                let name = field_name(name).ok_or_else(|| format!("settings.app.extraFields: {name:?} is not a form field name"))?;
                extra_fields.push((name, value.as_str().unwrap_or("").to_owned()));
            }
        }
        let scheme = match app.credentials.get("scheme").and_then(Value::as_str) {
            None => Scheme::EditUsernameAndPassword,
            Some(s) => Scheme::parse(s).ok_or_else(|| format!("credentials.scheme {s:?} is not supported"))?,
        };
        Ok(SwaApp {
            login_url,
            redirect_url: text(&sign_on, "redirectUrl").map(str::to_owned),
            username_field,
            password_field,
            button_field,
            extra_fields,
            scheme,
            reveal_password: app.credentials.get("revealPassword").and_then(Value::as_bool).unwrap_or(false)
                && scheme != Scheme::SharedUsernameAndPassword,
            shared_user_name: text(&app.credentials, "userName").map(str::to_owned),
        })
    }

    /// Reads the settings of a cached app, with its catalog entry's SWA template.
    pub fn of(state: &AppState, app: &AppInstance) -> Result<Self, String> {
        let catalog = state.catalog.snapshot();
        let template = app.catalog_name.as_deref().and_then(|n| catalog.get(n)).and_then(|e| e.swa());
        Self::from_app(app, template)
    }
}

/// Checks an AUTO_LOGIN app's SWA settings; called by `apps::validate` for
/// that mode. Each problem names its field.
pub fn validate(app: &AppInstance, causes: &mut Causes) {
    let general = app.app_settings();
    for key in ["usernameField", "passwordField", "buttonField", "extraFieldSelector"] {
        match general.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim().is_empty() && key == "buttonField" => {}
            Some(Value::String(s)) if field_name(s).is_some() => {}
            Some(_) => causes.add(&format!("settings.app.{key}"), "must be a form field name, #id or input[name=\"…\"]"),
        }
    }
    if let Some(v) = general.get("extraFieldValue") {
        if !v.is_null() && v.as_str().is_none_or(|s| s.len() > MAX_SECRET) {
            causes.add("settings.app.extraFieldValue", format!("must be text of at most {MAX_SECRET} characters"));
        }
    }
    match general.get("extraFields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            if fields.len() > 20 {
                causes.add("settings.app.extraFields", "at most 20 fields");
            }
            for (name, value) in fields {
                if field_name(name).is_none() {
                    causes.add(&format!("settings.app.extraFields.{name}"), "is not a form field name");
                }
                if value.as_str().is_none_or(|s| s.len() > MAX_SECRET) {
                    causes.add(&format!("settings.app.extraFields.{name}"), format!("must be text of at most {MAX_SECRET} characters"));
                }
            }
        }
        Some(_) => causes.add("settings.app.extraFields", "must be an object of field names and values"),
    }
    let scheme = match app.credentials.get("scheme") {
        None | Some(Value::Null) => Scheme::EditUsernameAndPassword,
        Some(Value::String(s)) => match Scheme::parse(s) {
            Some(scheme) => scheme,
            None => {
                let all: Vec<&str> = Scheme::ALL.iter().map(|s| s.as_str()).collect();
                causes.add("credentials.scheme", format!("must be one of {}", all.join(", ")));
                return;
            }
        },
        Some(_) => {
            causes.add("credentials.scheme", "must be a string");
            return;
        }
    };
    if scheme == Scheme::SharedUsernameAndPassword {
        match app.credentials.get("userName") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 100 => {}
            _ => causes.add("credentials.userName", "the shared username is required (1 to 100 characters)"),
        }
    }
    if let Some(password) = app.credentials.get("password") {
        match password.get("value") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_SECRET => {}
            Some(_) => causes.add("credentials.password.value", format!("must be 1 to {MAX_SECRET} characters")),
        }
    }
}

/// Takes the shared password out of an app's credentials before the app is
/// stored or returned (Okta's `credentials.password.value`), leaving
/// `password: {}` as Okta shows it. Store it with [`store_shared_password`]
/// once the app exists.
pub fn take_shared_password(app: &mut AppInstance) -> Option<Secret> {
    let password = app.credentials.get_mut("password")?;
    let value = password.as_object_mut().and_then(|p| p.remove("value"));
    match value {
        Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s)),
        _ => None,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwaError {
    /// The app does not store passwords (it is not AUTO_LOGIN).
    #[error("the app is not a Secure Web Authentication app")]
    NotSwa,
    /// A per-person password on an app with one shared password.
    #[error("the app uses one shared username and password")]
    Shared,
    /// A value is out of bounds; the field path and the problem.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SwaError> for ApiError {
    fn from(e: SwaError) -> Self {
        match e {
            SwaError::NotSwa => ApiError::field("credentials.password", "only Secure Web Authentication (AUTO_LOGIN) apps store passwords"),
            SwaError::Shared => ApiError::field(
                "credentials.password",
                "this app uses one shared username and password; set them on the app (credentials.userName, credentials.password)",
            ),
            SwaError::Invalid(field, message) => ApiError::field(field, &message),
            SwaError::Store(e) => e.into(),
        }
    }
}

fn check_secret(field: &'static str, value: &str) -> Result<(), SwaError> {
    if value.is_empty() || value.len() > MAX_SECRET {
        return Err(SwaError::Invalid(field, format!("must be 1 to {MAX_SECRET} characters")));
    }
    Ok(())
}

fn check_username(field: &'static str, value: &str) -> Result<(), SwaError> {
    if value.trim().is_empty() || value.chars().count() > MAX_USERNAME || value.chars().any(char::is_control) {
        return Err(SwaError::Invalid(field, format!("must be 1 to {MAX_USERNAME} printable characters")));
    }
    Ok(())
}

/// Seals and stores a shared password for an app (after [`take_shared_password`]).
pub async fn store_shared_password(state: &AppState, app: &AppInstance, password: &Secret) -> Result<(), SwaError> {
    if app.sign_on_mode != SignOnMode::AutoLogin {
        return Err(SwaError::NotSwa);
    }
    check_secret("credentials.password.value", password.expose())?;
    let now = state.now();
    let existing = state.store.swa_shared_password(&app.id).await?;
    state
        .store
        .put_swa_shared_password(&SharedPassword {
            app_id: app.id.clone(),
            sealed_password: state.vault.seal(&shared_context(&app.id), password.expose().as_bytes()),
            created: existing.map(|e| e.created).unwrap_or(now),
            last_updated: now,
        })
        .await?;
    Ok(())
}

/// An admin sets a person's credentials for an app: Okta's
/// `POST /api/v1/apps/{appId}/users/{userId}` with
/// `credentials: {userName, password: {value}}`. The caller checked that the
/// person is assigned. Without a password, only a stored username changes.
/// Returns whether anything was stored.
pub async fn set_credentials(
    state: &AppState,
    app: &AppInstance,
    user_id: &str,
    user_name: Option<&str>,
    password: Option<&Secret>,
) -> Result<bool, SwaError> {
    if app.sign_on_mode != SignOnMode::AutoLogin {
        return match password {
            Some(_) => Err(SwaError::NotSwa),
            None => Ok(false),
        };
    }
    let scheme = match app.credentials.get("scheme").and_then(Value::as_str) {
        Some(s) => Scheme::parse(s).unwrap_or(Scheme::EditUsernameAndPassword),
        None => Scheme::EditUsernameAndPassword,
    };
    if scheme == Scheme::SharedUsernameAndPassword && password.is_some() {
        return Err(SwaError::Shared);
    }
    if let Some(name) = user_name {
        check_username("credentials.userName", name)?;
    }
    if let Some(p) = password {
        check_secret("credentials.password.value", p.expose())?;
    }
    let existing = state.store.swa_credential(&app.id, user_id).await?;
    let now = state.now();
    let record = match (existing, password) {
        (None, None) => return Ok(false),
        (Some(mut row), None) => {
            let Some(name) = user_name else { return Ok(false) };
            row.user_name = name.to_owned();
            row.set_by = SetBy::Admin;
            row.last_updated = now;
            row
        }
        (existing, Some(p)) => {
            let name = match user_name {
                Some(n) => n.to_owned(),
                None => match &existing {
                    Some(row) => row.user_name.clone(),
                    None => app_username(state, app, user_id).await?,
                },
            };
            StoredCredential {
                app_id: app.id.clone(),
                user_id: user_id.to_owned(),
                user_name: name,
                sealed_password: state.vault.seal(&person_context(&app.id, user_id), p.expose().as_bytes()),
                set_by: SetBy::Admin,
                created: existing.as_ref().map(|e| e.created).unwrap_or(now),
                last_updated: now,
            }
        }
    };
    state.store.put_swa_credential(&record).await?;
    Ok(true)
}

/// Whether a person has a stored password for an app (the API shows it as
/// `credentials.password: {}`, never its value).
pub async fn has_password(state: &AppState, app_id: &str, user_id: &str) -> Result<bool, StoreError> {
    Ok(state.store.swa_credential(app_id, user_id).await?.is_some())
}

/// Forgets a person's stored credentials when they lose the app.
pub async fn forget_credentials(state: &AppState, app_id: &str, user_id: &str) -> Result<bool, StoreError> {
    state.store.delete_swa_credential(app_id, user_id).await
}

/// The app username from the assignment, else the person's login.
async fn app_username(state: &AppState, app: &AppInstance, user_id: &str) -> Result<String, StoreError> {
    if let Some(a) = state.store.user_assignment(&app.id, user_id).await? {
        if let Some(name) = a.username {
            return Ok(name);
        }
    }
    Ok(state.store.user(user_id).await?.map(|r| r.user.login().to_owned()).unwrap_or_default())
}

/// What a launch will post, or why it cannot.
enum Resolved {
    Ready { user_name: String, password: Secret },
    /// The person stores their own credentials and has none yet.
    NeedsSetup,
    /// An admin must set them first.
    NotSetUp,
    /// A sealed value did not open (wrong master key, a copied row).
    Unreadable,
}

async fn resolve(state: &AppState, app: &AppInstance, swa: &SwaApp, user: &User, assignment: &AssignedApp) -> Result<Resolved, StoreError> {
    let open = |context: String, sealed: &str| {
        state.vault.open(&context, sealed).ok().and_then(|bytes| String::from_utf8(bytes).ok()).map(Secret::new)
    };
    if swa.scheme == Scheme::SharedUsernameAndPassword {
        let (Some(user_name), Some(shared)) = (swa.shared_user_name.clone(), state.store.swa_shared_password(&app.id).await?) else {
            return Ok(Resolved::NotSetUp);
        };
        return Ok(match open(shared_context(&app.id), &shared.sealed_password) {
            Some(password) => Resolved::Ready { user_name, password },
            None => Resolved::Unreadable,
        });
    }
    let Some(row) = state.store.swa_credential(&app.id, &user.id).await? else {
        return Ok(if swa.scheme.person_sets_password() { Resolved::NeedsSetup } else { Resolved::NotSetUp });
    };
    let user_name = match swa.scheme {
        // The admin owns the username: it follows the app username.
        Scheme::EditPasswordOnly => assignment.username.as_deref().map(str::to_owned).unwrap_or(row.user_name.clone()),
        _ => row.user_name.clone(),
    };
    Ok(match open(person_context(&app.id, &user.id), &row.sealed_password) {
        Some(password) => Resolved::Ready { user_name, password },
        None => Resolved::Unreadable,
    })
}

fn misconfigured(state: &AppState, app: &AppInstance, problem: &str) -> Response {
    tracing::error!(app = %app.id, %problem, "SWA app misconfigured");
    error_page(state, StatusCode::INTERNAL_SERVER_ERROR, "App misconfigured", "This app's sign-in settings are incomplete. Ask your administrator to check them.")
}

/// The page that posts the credentials to the app's login form.
fn post_credentials(state: &AppState, swa: &SwaApp, user_name: &str, password: &Secret) -> Response {
    let mut fields: Vec<(&str, &str)> =
        vec![(swa.username_field.as_str(), user_name), (swa.password_field.as_str(), password.expose())];
    for (name, value) in &swa.extra_fields {
        fields.push((name.as_str(), value.as_str()));
    }
    post::auto_post(
        &state.config.org_name,
        &post::AutoPost {
            action: &swa.login_url,
            also_allow: swa.redirect_url.as_deref().and_then(post::origin).into_iter().collect(),
            fields,
            button_name: swa.button_field.as_deref(),
            message: "Signing you in…",
        },
    )
}

/// A dashboard launch of an SWA (AUTO_LOGIN) app. The caller checked the
/// session and the assignment, counted the launch and logged it.
pub async fn launch(state: &AppState, app: &AppInstance, assignment: &AssignedApp, user: &User, _client: &ClientInfo) -> Response {
    let swa = match SwaApp::of(state, app) {
        Ok(s) => s,
        Err(problem) => return misconfigured(state, app, &problem),
    };
    match resolve(state, app, &swa, user, assignment).await {
        Ok(Resolved::Ready { user_name, password }) => post_credentials(state, &swa, &user_name, &password),
        Ok(Resolved::NeedsSetup) => Redirect::to(&format!("/app/UserHome/credentials/{}?launch=1", app.id)).into_response(),
        Ok(Resolved::NotSetUp) => error_page(
            state,
            StatusCode::CONFLICT,
            "Sign-in not set up",
            "Your administrator has not set your sign-in for this app yet. Ask them to set it up.",
        ),
        Ok(Resolved::Unreadable) => {
            tracing::error!(app = %app.id, user = %user.id, "stored SWA credentials do not open with this master key");
            error_page(state, StatusCode::INTERNAL_SERVER_ERROR, "Sign-in unavailable", "Your stored sign-in for this app could not be read. Ask your administrator.")
        }
        Err(e) => {
            tracing::error!(error = %e, "store error during an SWA launch");
            error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be opened.")
        }
    }
}

/// Fills `settings.signOn.loginUrl` of a catalog SWA app from the entry's
/// template and the tenant values, where the admin did not set it.
pub fn apply_catalog_template(app: &mut AppInstance, entry: &::catalog::AppEntry) -> Result<(), String> {
    if app.sign_on_mode != SignOnMode::AutoLogin {
        return Ok(());
    }
    let Some(template) = entry.swa() else { return Ok(()) };
    let mut sign_on = app.sign_on();
    if sign_on.get("loginUrl").and_then(Value::as_str).is_some() {
        return Ok(());
    }
    let values: ::catalog::TenantValues =
        app.app_settings().iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned()))).collect();
    let url = entry.render_url(&template.login_url, &values).map_err(|e| e.to_string())?;
    sign_on.insert("loginUrl".into(), Value::String(url));
    app.settings.insert("signOn".into(), Value::Object(sign_on));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_from_okta_selectors() {
        let cases = [
            ("username", Some("username")),
            ("#login", Some("login")),
            ("input[name=\"user[email]\"]", Some("user[email]")),
            ("input[name='pw']", Some("pw")),
            ("[name=pass]", Some("pass")),
            ("user[login]", Some("user[login]")),
            ("  j_username ", Some("j_username")),
            ("", None),
            ("a b", None),
            ("\"><script>", None),
            ("div > input", None),
        ];
        for (setting, expected) in cases {
            assert_eq!(field_name(setting).as_deref(), expected, "{setting}");
        }
    }

    #[test]
    fn shared_password_is_taken_out_of_the_app() {
        let mut app = AppInstance {
            id: "0oa1".into(),
            name: "x".into(),
            label: "X".into(),
            status: crate::apps::AppStatus::Active,
            sign_on_mode: SignOnMode::AutoLogin,
            catalog_name: None,
            settings: serde_json::json!({"signOn": {"loginUrl": "https://app.example/login"}}).as_object().unwrap().clone(),
            credentials: serde_json::json!({"scheme": "SHARED_USERNAME_AND_PASSWORD", "userName": "team", "password": {"value": "s3cret"}})
                .as_object()
                .unwrap()
                .clone(),
            visibility: crate::apps::default_visibility(),
            accessibility: crate::apps::default_accessibility(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_updated: OffsetDateTime::UNIX_EPOCH,
        };
        let mut causes = Causes::default();
        validate(&app, &mut causes);
        assert!(causes.0.is_empty(), "{:?}", causes.0);
        assert_eq!(take_shared_password(&mut app).unwrap().expose(), "s3cret");
        assert_eq!(app.credentials["password"], serde_json::json!({}));
        assert!(!Value::Object(app.credentials.clone()).to_string().contains("s3cret"));
        let swa = SwaApp::from_app(&app, None).unwrap();
        assert_eq!((swa.username_field.as_str(), swa.password_field.as_str()), ("username", "password"));
        assert_eq!(swa.shared_user_name.as_deref(), Some("team"));
        assert!(!swa.reveal_password);

        app.credentials.insert("scheme".into(), "EXTERNAL_PASSWORD_SYNC".into());
        app.settings.insert("app".into(), serde_json::json!({"usernameField": "a b", "extraFields": {"ok": 1}}));
        let mut causes = Causes::default();
        validate(&app, &mut causes);
        let fields: Vec<&str> = causes.0.iter().map(|c| c.split(':').next().unwrap()).collect();
        assert_eq!(fields, ["settings.app.usernameField", "settings.app.extraFields.ok", "credentials.scheme"]);
    }
}
