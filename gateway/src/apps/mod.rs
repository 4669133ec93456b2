//! App integrations: instances of catalog entries or custom apps, their
//! settings in Okta's shape, application usernames, signing keys, and the
//! caches every launch reads.

pub mod cache;
pub mod catalog;
pub mod keys;
pub mod username;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use username::UsernameTemplate;

/// How an app signs people in, as Okta names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOnMode {
    Saml2,
    OpenIdConnect,
    WsFederation,
    AutoLogin,
    Bookmark,
}

impl SignOnMode {
    pub const ALL: [SignOnMode; 5] = [Self::Saml2, Self::OpenIdConnect, Self::WsFederation, Self::AutoLogin, Self::Bookmark];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saml2 => "SAML_2_0",
            Self::OpenIdConnect => "OPENID_CONNECT",
            Self::WsFederation => "WS_FEDERATION",
            Self::AutoLogin => "AUTO_LOGIN",
            Self::Bookmark => "BOOKMARK",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// What people call it in the Admin Console.
    pub fn label(self) -> &'static str {
        match self {
            Self::Saml2 => "SAML 2.0",
            Self::OpenIdConnect => "OpenID Connect",
            Self::WsFederation => "WS-Federation",
            Self::AutoLogin => "Secure Web Authentication (SWA)",
            Self::Bookmark => "Bookmark",
        }
    }

    /// The catalog functionality that offers this mode.
    pub fn functionality(self) -> ::catalog::Functionality {
        match self {
            Self::Saml2 => ::catalog::Functionality::Saml,
            Self::OpenIdConnect => ::catalog::Functionality::Oidc,
            Self::WsFederation => ::catalog::Functionality::WsFederation,
            Self::AutoLogin => ::catalog::Functionality::Swa,
            Self::Bookmark => ::catalog::Functionality::Bookmark,
        }
    }

    /// Okta's fixed app `name` for custom apps of this mode, where it has one.
    pub fn template_name(self) -> Option<&'static str> {
        match self {
            Self::OpenIdConnect => Some("oidc_client"),
            Self::WsFederation => Some("template_wsfed"),
            Self::Bookmark => Some("bookmark"),
            Self::Saml2 | Self::AutoLogin => None,
        }
    }

    /// The metric label for launches of this mode.
    pub fn protocol(self) -> &'static str {
        match self {
            Self::Saml2 => "saml",
            Self::OpenIdConnect => "oidc",
            Self::WsFederation => "wsfed",
            Self::AutoLogin => "swa",
            Self::Bookmark => "bookmark",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppStatus {
    Active,
    Inactive,
}

impl AppStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(Self::Active),
            "INACTIVE" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// An app integration. Settings, credentials, visibility and accessibility
/// keep Okta's JSON shape (validated on every write by [`validate`]), so the
/// protocol issues can extend them without a schema change.
#[derive(Debug, Clone)]
pub struct AppInstance {
    pub id: String,
    pub name: String,
    pub label: String,
    pub status: AppStatus,
    pub sign_on_mode: SignOnMode,
    pub catalog_name: Option<String>,
    pub settings: Map<String, Value>,
    pub credentials: Map<String, Value>,
    pub visibility: Map<String, Value>,
    pub accessibility: Map<String, Value>,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

/// "Update application username on": create only, or create and update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOn {
    CreateOnly,
    CreateAndUpdate,
}

impl AppInstance {
    fn section(&self, map: &Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
        map.get(key).and_then(Value::as_object).cloned()
    }

    /// `settings.app`: the General Settings (tenant variables or app fields).
    pub fn app_settings(&self) -> Map<String, Value> {
        self.section(&self.settings, "app").unwrap_or_default()
    }

    /// `settings.signOn`: the Sign-On Options of SAML, SWA and the like.
    pub fn sign_on(&self) -> Map<String, Value> {
        self.section(&self.settings, "signOn").unwrap_or_default()
    }

    /// The username template; `None` when the format is "none".
    pub fn username_template(&self) -> Option<UsernameTemplate> {
        let t = self.credentials.get("userNameTemplate")?;
        if t.get("type").and_then(Value::as_str) == Some("NONE") {
            return None;
        }
        let text = t.get("template").and_then(Value::as_str).unwrap_or(username::OKTA_USERNAME);
        UsernameTemplate::parse(text).ok()
    }

    pub fn update_on(&self) -> UpdateOn {
        let push = self.credentials.get("userNameTemplate").and_then(|t| t.get("pushStatus")).and_then(Value::as_str);
        if push == Some("DONT_PUSH") { UpdateOn::CreateOnly } else { UpdateOn::CreateAndUpdate }
    }

    /// Hidden apps are assigned but get no dashboard tile.
    pub fn hidden(&self) -> bool {
        self.visibility.get("hide").and_then(|h| h.get("web")).and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn signing_kid(&self) -> Option<&str> {
        self.credentials.get("signing").and_then(|s| s.get("kid")).and_then(Value::as_str)
    }

    /// The dashboard launch URL path.
    pub fn link_path(&self) -> String {
        format!("/home/{}/{}/launch", self.name, self.id)
    }
}

/// Default credentials for a new app: Okta username, updated on create and update.
pub fn default_credentials() -> Map<String, Value> {
    json!({"userNameTemplate": {"template": username::OKTA_USERNAME, "type": "BUILT_IN", "pushStatus": "PUSH"}})
        .as_object()
        .cloned()
        .expect("object literal")
}

pub fn default_visibility() -> Map<String, Value> {
    json!({"autoSubmitToolbar": false, "autoLaunch": false, "hide": {"iOS": false, "web": false}, "appLinks": {}})
        .as_object()
        .cloned()
        .expect("object literal")
}

pub fn default_accessibility() -> Map<String, Value> {
    json!({"selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null}).as_object().cloned().expect("object literal")
}

/// Collects each invalid field of an app as "path: problem".
#[derive(Default)]
pub struct Causes(pub Vec<String>);

impl Causes {
    pub fn add(&mut self, path: &str, problem: impl std::fmt::Display) {
        self.0.push(format!("{path}: {problem}"));
    }
}

fn url_ok(text: &str, allow_http: bool) -> bool {
    match url::Url::parse(text) {
        Ok(u) => (u.scheme() == "https" || (allow_http && u.scheme() == "http")) && u.host().is_some() && text.len() <= 2048,
        Err(_) => false,
    }
}

fn check_url(causes: &mut Causes, map: &Map<String, Value>, key: &str, path: &str, required: bool) {
    match map.get(key) {
        None | Some(Value::Null) if required => causes.add(path, "The field cannot be left blank"),
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if url_ok(s, true) => {}
        Some(_) => causes.add(path, "must be an absolute http or https URL"),
    }
}

fn check_bool(causes: &mut Causes, map: &Map<String, Value>, key: &str, path: &str) {
    if let Some(v) = map.get(key) {
        if !v.is_boolean() && !v.is_null() {
            causes.add(path, "must be true or false");
        }
    }
}

fn check_string(causes: &mut Causes, map: &Map<String, Value>, key: &str, path: &str, required: bool, max: usize) {
    match map.get(key) {
        None | Some(Value::Null) if required => causes.add(path, "The field cannot be left blank"),
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if required && s.trim().is_empty() => causes.add(path, "The field cannot be left blank"),
        Some(Value::String(s)) if s.chars().count() > max => causes.add(path, format!("must be at most {max} characters")),
        Some(Value::String(_)) => {}
        Some(_) => causes.add(path, "must be a string"),
    }
}

pub const NAME_ID_FORMATS: [&str; 5] = [
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:x509SubjectName",
];

/// Validates an app's settings for its sign-on mode (and its catalog entry's
/// tenant variables). This model checks what every mode needs to
/// launch; each protocol's own options are checked by that protocol.
pub fn validate(app: &AppInstance, entry: Option<&::catalog::AppEntry>) -> Causes {
    let mut causes = validate_general(app, entry);
    validate_sign_on(app, &mut causes);
    // Each protocol checks the options only it reads.
    match app.sign_on_mode {
        SignOnMode::Saml2 => causes.0.extend(crate::saml_idp::validate(app)),
        SignOnMode::AutoLogin => crate::swa::validate(app, &mut causes),
        SignOnMode::WsFederation => crate::wsfed::validate(app, &mut causes),
        SignOnMode::OpenIdConnect => causes.0.extend(crate::oauth::validate(app)),
        SignOnMode::Bookmark => {}
    }
    let mut seen = std::collections::HashSet::new();
    causes.0.retain(|c| seen.insert(c.clone()));
    causes
}

/// The label, and for a catalog app its sign-on mode and tenant variables:
/// what must hold before the entry's templates can be rendered.
pub fn validate_general(app: &AppInstance, entry: Option<&::catalog::AppEntry>) -> Causes {
    let mut causes = Causes::default();
    if app.label.trim().is_empty() {
        causes.add("label", "The field cannot be left blank");
    } else if app.label.chars().count() > 100 {
        causes.add("label", "must be at most 100 characters");
    }
    let general = app.app_settings();
    if let Some(entry) = entry {
        if !entry.functionality().contains(&app.sign_on_mode.functionality()) {
            let offered: Vec<&str> = SignOnMode::ALL.iter().filter(|m| entry.functionality().contains(&m.functionality())).map(|m| m.as_str()).collect();
            causes.add("signOnMode", format!("{} supports {}", entry.label(), offered.join(", ")));
        }
        for variable in entry.variables() {
            match general.get(variable.name()) {
                Some(Value::String(value)) => {
                    if let Err(e) = variable.check(value) {
                        causes.add(&format!("settings.app.{}", variable.name()), e);
                    }
                }
                None | Some(Value::Null) => causes.add(&format!("settings.app.{}", variable.name()), format!("{} is required", variable.label())),
                Some(_) => causes.add(&format!("settings.app.{}", variable.name()), "must be a string"),
            }
        }
        for key in general.keys() {
            if !entry.variables().iter().any(|v| v.name() == key) {
                causes.add(&format!("settings.app.{key}"), format!("is not a setting of {}", entry.label()));
            }
        }
    }
    causes
}

/// What the app's sign-on mode needs, and the username and visibility settings.
fn validate_sign_on(app: &AppInstance, causes: &mut Causes) {
    let causes = &mut *causes;
    let general = app.app_settings();
    let sign_on = app.sign_on();
    match app.sign_on_mode {
        SignOnMode::Saml2 => {
            check_url(causes, &sign_on, "ssoAcsUrl", "settings.signOn.ssoAcsUrl", true);
            check_string(causes, &sign_on, "audience", "settings.signOn.audience", true, 1024);
            check_url(causes, &sign_on, "recipient", "settings.signOn.recipient", false);
            check_url(causes, &sign_on, "destination", "settings.signOn.destination", false);
            check_string(causes, &sign_on, "defaultRelayState", "settings.signOn.defaultRelayState", false, 2048);
            if let Some(format) = sign_on.get("subjectNameIdFormat") {
                if !format.as_str().is_some_and(|f| NAME_ID_FORMATS.contains(&f)) {
                    causes.add("settings.signOn.subjectNameIdFormat", format!("must be one of {}", NAME_ID_FORMATS.join(", ")));
                }
            }
            for key in ["assertionSigned", "responseSigned", "honorForceAuthn", "allowMultipleAcsEndpoints", "requestCompressed"] {
                check_bool(causes, &sign_on, key, &format!("settings.signOn.{key}"));
            }
        }
        SignOnMode::Bookmark => {
            check_url(causes, &general, "url", "settings.app.url", true);
            check_bool(causes, &general, "requestIntegration", "settings.app.requestIntegration");
        }
        SignOnMode::AutoLogin => {
            check_url(causes, &sign_on, "loginUrl", "settings.signOn.loginUrl", true);
            check_url(causes, &sign_on, "redirectUrl", "settings.signOn.redirectUrl", false);
        }
        SignOnMode::WsFederation => {
            check_url(causes, &general, "wReplyURL", "settings.app.wReplyURL", true);
            check_string(causes, &general, "realm", "settings.app.realm", true, 1024);
        }
        SignOnMode::OpenIdConnect => {
            let client = app.settings.get("oauthClient").and_then(Value::as_object).cloned().unwrap_or_default();
            match client.get("redirect_uris") {
                Some(Value::Array(uris)) if !uris.is_empty() => {
                    for (i, uri) in uris.iter().enumerate() {
                        if !uri.as_str().is_some_and(|u| url_ok(u, true) || u.contains(":/")) {
                            causes.add(&format!("settings.oauthClient.redirect_uris[{i}]"), "must be an absolute URI");
                        }
                    }
                }
                _ => {
                    let needs = client.get("grant_types").and_then(Value::as_array).is_none_or(|g| g.iter().any(|v| v == "authorization_code"));
                    if needs {
                        causes.add("settings.oauthClient.redirect_uris", "at least one redirect URI is required");
                    }
                }
            }
            match client.get("grant_types") {
                Some(Value::Array(grants)) if !grants.is_empty() => {
                    for grant in grants {
                        if !grant.as_str().is_some_and(|g| ["authorization_code", "refresh_token", "client_credentials", "implicit"].contains(&g)) {
                            causes.add("settings.oauthClient.grant_types", format!("{grant} is not a supported grant type"));
                        }
                    }
                }
                _ => causes.add("settings.oauthClient.grant_types", "The field cannot be left blank"),
            }
        }
    }
    match app.credentials.get("userNameTemplate") {
        None => {}
        Some(Value::Object(t)) => {
            let kind = t.get("type").and_then(Value::as_str).unwrap_or("BUILT_IN");
            if !["BUILT_IN", "CUSTOM", "NONE"].contains(&kind) {
                causes.add("credentials.userNameTemplate.type", "must be BUILT_IN, CUSTOM or NONE");
            }
            if kind != "NONE" {
                match t.get("template").and_then(Value::as_str) {
                    Some(text) => {
                        if let Err(e) = UsernameTemplate::parse(text) {
                            causes.add("credentials.userNameTemplate.template", e);
                        }
                    }
                    None => causes.add("credentials.userNameTemplate.template", "The field cannot be left blank"),
                }
            }
            if let Some(push) = t.get("pushStatus") {
                if !push.as_str().is_some_and(|p| p == "PUSH" || p == "DONT_PUSH") {
                    causes.add("credentials.userNameTemplate.pushStatus", "must be PUSH (create and update) or DONT_PUSH (create only)");
                }
            }
        }
        Some(_) => causes.add("credentials.userNameTemplate", "must be an object"),
    }
    if let Some(reveal) = app.credentials.get("revealPassword") {
        if !reveal.is_boolean() {
            causes.add("credentials.revealPassword", "must be true or false");
        }
    }
    if let Some(hide) = app.visibility.get("hide") {
        match hide.as_object() {
            Some(h) => check_bool(causes, h, "web", "visibility.hide.web"),
            None => causes.add("visibility.hide", "must be an object"),
        }
    }
}

/// Fills the SAML sign-on settings that a catalog entry's templates give,
/// where the admin did not set them.
pub fn apply_catalog_templates(app: &mut AppInstance, entry: &::catalog::AppEntry) -> Result<(), String> {
    if app.sign_on_mode != SignOnMode::Saml2 {
        return Ok(());
    }
    let values: ::catalog::TenantValues =
        app.app_settings().iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned()))).collect();
    let Some(rendered) = entry.render_saml(&values).map_err(|e| e.to_string())? else { return Ok(()) };
    let mut sign_on = app.sign_on();
    let mut fill = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            sign_on.entry(key.to_owned()).or_insert(Value::String(v));
        }
    };
    fill("ssoAcsUrl", rendered.acs_url);
    fill("audience", rendered.audience);
    fill("defaultRelayState", rendered.default_relay_state);
    fill("subjectNameIdFormat", Some(rendered.name_id_format));
    app.settings.insert("signOn".into(), Value::Object(sign_on));
    Ok(())
}

/// After an admin changes a catalog app's tenant variables: the SAML values
/// the entry's templates rendered from the old variables are rendered again
/// from the new ones. Values the admin set by hand (anything other than what
/// the templates gave) are kept.
pub fn rerender_catalog_templates(app: &mut AppInstance, previous: &AppInstance, entry: &::catalog::AppEntry) {
    if app.sign_on_mode != SignOnMode::Saml2 || app.app_settings() == previous.app_settings() {
        return;
    }
    let values = |a: &AppInstance| -> ::catalog::TenantValues {
        a.app_settings().iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned()))).collect()
    };
    let (Ok(Some(old)), Ok(Some(new))) = (entry.render_saml(&values(previous)), entry.render_saml(&values(app))) else { return };
    let mut sign_on = app.sign_on();
    for (key, old, new) in [
        ("ssoAcsUrl", old.acs_url, new.acs_url),
        ("audience", old.audience, new.audience),
        ("defaultRelayState", old.default_relay_state, new.default_relay_state),
    ] {
        if let (Some(old), Some(new)) = (old, new) {
            if sign_on.get(key).and_then(Value::as_str) == Some(old.as_str()) {
                sign_on.insert(key.to_owned(), Value::String(new));
            }
        }
    }
    app.settings.insert("signOn".into(), Value::Object(sign_on));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(mode: SignOnMode, settings: Value) -> AppInstance {
        AppInstance {
            id: "0oa1".into(),
            name: "x".into(),
            label: "X".into(),
            status: AppStatus::Active,
            sign_on_mode: mode,
            catalog_name: None,
            settings: settings.as_object().unwrap().clone(),
            credentials: default_credentials(),
            visibility: default_visibility(),
            accessibility: default_accessibility(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_updated: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn each_mode_needs_its_fields() {
        let cases = [
            (SignOnMode::Saml2, json!({"signOn": {"ssoAcsUrl": "https://sp.example/acs", "audience": "sp"}}), vec![]),
            (SignOnMode::Saml2, json!({"signOn": {"ssoAcsUrl": "ftp://x"}}), vec!["settings.signOn.ssoAcsUrl", "settings.signOn.audience"]),
            (SignOnMode::Bookmark, json!({"app": {"url": "https://intranet.example"}}), vec![]),
            (SignOnMode::Bookmark, json!({"app": {}}), vec!["settings.app.url"]),
            (SignOnMode::AutoLogin, json!({"signOn": {"loginUrl": "javascript:alert(1)"}}), vec!["settings.signOn.loginUrl"]),
            (SignOnMode::WsFederation, json!({"app": {"wReplyURL": "https://rp.example/", "realm": "urn:rp"}}), vec![]),
            (SignOnMode::OpenIdConnect, json!({"oauthClient": {"grant_types": ["client_credentials"]}}), vec![]),
            (SignOnMode::OpenIdConnect, json!({"oauthClient": {"grant_types": ["authorization_code"]}}), vec!["settings.oauthClient.redirect_uris"]),
        ];
        for (mode, settings, expected) in cases {
            let causes = validate(&app(mode, settings.clone()), None).0;
            let fields: Vec<&str> = causes.iter().map(|c| c.split(':').next().unwrap()).collect();
            // The protocol's own checks may add causes of their own; the
            // model's must be there, and a valid app has none at all.
            if expected.is_empty() {
                assert!(fields.is_empty(), "{mode:?} {settings}: {causes:?}");
            }
            for field in expected {
                assert!(fields.contains(&field), "{mode:?} {settings}: {field} missing from {causes:?}");
            }
        }
    }
}
