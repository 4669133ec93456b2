//! The OpenID Connect settings form, used by Create App Integration and by
//! the app's "Edit OIDC settings" page (`oidc_edit`): every field is named
//! by its path in Okta's app shape, so the API's causes land on it.

use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{field_id, group_error, FieldErrors, Fields};
use crate::apps::AppInstance;
use crate::oauth::management::MANAGEMENT_SCOPES;

const TYPE: &str = "settings.oauthClient.application_type";
const REDIRECTS: &str = "settings.oauthClient.redirect_uris";
const LOGOUT_REDIRECTS: &str = "settings.oauthClient.post_logout_redirect_uris";
const GRANTS: &str = "settings.oauthClient.grant_types";
const METHOD: &str = "credentials.oauthClient.token_endpoint_auth_method";
const JWKS: &str = "settings.oauthClient.jwks";
const PKCE: &str = "credentials.oauthClient.pkce_required";
const CONSENT: &str = "settings.oauthClient.consent_method";
const LOGIN_MODE: &str = "settings.oauthClient.idp_initiated_login.mode";
const INITIATE_LOGIN: &str = "settings.oauthClient.initiate_login_uri";
const ID_TOKEN_ALG: &str = "settings.oauthClient.id_token_signed_response_alg";
/// The management scopes to grant, named as the grants API names its field.
pub(in super::super) const SCOPE_GRANTS: &str = "scopeId";

const APP_TYPES: [(&str, &str); 4] = [
    ("web", "Web application (a server keeps the client secret)"),
    ("browser", "Single-page application (runs in the browser, no secret)"),
    ("native", "Native application (desktop or mobile, no secret)"),
    ("service", "Service (machine to machine, no people): an API Service integration"),
];

const GRANT_TYPES: [(&str, &str); 4] = [
    ("authorization_code", "Authorization code"),
    ("refresh_token", "Refresh token"),
    ("client_credentials", "Client credentials (service apps)"),
    ("implicit", "Implicit (hybrid)"),
];

const AUTH_METHODS: [(&str, &str); 4] = [
    ("client_secret_basic", "Client secret, sent in the Authorization header (client_secret_basic)"),
    ("client_secret_post", "Client secret, sent in the request body (client_secret_post)"),
    ("private_key_jwt", "Public key / private key: a JWT signed with the app's own key (private_key_jwt)"),
    ("none", "None: a public client (single-page and native apps), with PKCE"),
];

const CONSENTS: [(&str, &str); 2] =
    [("TRUSTED", "Trusted: no consent screen"), ("REQUIRED", "Required: people approve the scopes the app asks for, once")];

const LOGIN_MODES: [(&str, &str); 2] = [
    ("DISABLED", "App only: people start at the app"),
    ("SPEC", "Either Vestibule or the app: the dashboard tile sends people to the app's initiate login URI (OpenID Connect Core §4)"),
];

/// The ID token signing algorithms the authorization servers hold keys for.
const ID_TOKEN_ALGS: [(&str, &str); 3] = [("RS256", "RS256 (the default; every relying party accepts it)"), ("ES256", "ES256"), ("EdDSA", "EdDSA (Ed25519)")];

pub(in super::super) fn labels() -> Vec<(&'static str, &'static str)> {
    vec![
        (TYPE, "Application type"),
        (GRANTS, "Grant types"),
        (REDIRECTS, "Sign-in redirect URIs"),
        (LOGOUT_REDIRECTS, "Sign-out redirect URIs"),
        (METHOD, "Client authentication"),
        (JWKS, "Public keys (JWKS)"),
        (PKCE, "PKCE"),
        (CONSENT, "Consent"),
        (LOGIN_MODE, "Login initiated by"),
        ("settings.oauthClient.idp_initiated_login", "Login initiated by"),
        (INITIATE_LOGIN, "Initiate login URI"),
        (ID_TOKEN_ALG, "ID token signing algorithm"),
        (SCOPE_GRANTS, "Okta API scopes"),
    ]
}

/// The `oauthClient` settings; its credentials (client authentication,
/// PKCE) go into `body`.
pub(super) fn settings(form: &Fields, body: &mut Map<String, Value>) -> Value {
    let mut settings = Map::new();
    let mut credentials = Map::new();
    apply(form, &mut settings, &mut credentials);
    body.insert("credentials".into(), json!({ "oauthClient": credentials }));
    json!({ "oauthClient": settings })
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_owned())).collect()
}

/// Writes the form's values into an app's `settings.oauthClient` and
/// `credentials.oauthClient`, keeping what the form does not show (the
/// client id, key rotation). Values are passed as given: the API checks them.
pub(in super::super) fn apply(form: &Fields, settings: &mut Map<String, Value>, credentials: &mut Map<String, Value>) {
    let set = |map: &mut Map<String, Value>, key: &str, value: Option<Value>| match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    };
    let text = |path: &str| Some(form.get(path)).filter(|v| !v.is_empty()).map(|v| Value::String(v.to_owned()));
    set(settings, "application_type", text(TYPE));
    set(settings, "redirect_uris", Some(Value::Array(lines(form.get(REDIRECTS)))));
    let logout = lines(form.get(LOGOUT_REDIRECTS));
    set(settings, "post_logout_redirect_uris", (!logout.is_empty()).then_some(Value::Array(logout)));
    let grants = form.all(GRANTS);
    let mut responses = Vec::new();
    if grants.contains(&"authorization_code") {
        responses.push("code");
    }
    if grants.contains(&"implicit") {
        responses.extend(["id_token", "token"]);
    }
    if responses.is_empty() && grants.contains(&"client_credentials") {
        responses.push("token");
    }
    set(settings, "grant_types", Some(json!(grants)));
    set(settings, "response_types", Some(json!(responses)));
    set(settings, "consent_method", text(CONSENT));
    set(settings, "id_token_signed_response_alg", text(ID_TOKEN_ALG));
    set(settings, "initiate_login_uri", text(INITIATE_LOGIN));
    let mode = form.get(LOGIN_MODE);
    set(settings, "idp_initiated_login", (!mode.is_empty()).then(|| json!({ "mode": mode, "default_scope": [] })));
    let method = form.get(METHOD);
    set(credentials, "token_endpoint_auth_method", text(METHOD));
    // The keys matter only to private_key_jwt; text that is not JSON is
    // passed as a string, which the API refuses by this field.
    let jwks = (method == "private_key_jwt").then(|| form.get(JWKS)).filter(|j| !j.is_empty());
    set(settings, "jwks", jwks.map(|j| serde_json::from_str(j).unwrap_or_else(|_| Value::String(j.to_owned()))));
    credentials.insert("pkce_required".into(), Value::Bool(form.checked(PKCE)));
}

/// The management scopes the form asks to grant.
pub(in super::super) fn scope_grants(form: &Fields) -> Vec<String> {
    form.all(SCOPE_GRANTS).into_iter().map(str::to_owned).collect()
}

pub(super) fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        (TYPE, "web"),
        (GRANTS, "authorization_code"),
        (METHOD, "client_secret_basic"),
        (PKCE, "true"),
        (CONSENT, "TRUSTED"),
        (LOGIN_MODE, "DISABLED"),
        (ID_TOKEN_ALG, "RS256"),
    ]
}

/// The form's values for an existing app.
pub(in super::super) fn from_app(app: &AppInstance) -> Fields {
    let empty = Map::new();
    let settings = app.settings.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let credentials = app.credentials.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let text = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let list = |k: &str| -> Vec<String> {
        settings.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
    };
    let kind = Some(text(settings, "application_type")).filter(|t| !t.is_empty()).unwrap_or_else(|| "web".into());
    let public = matches!(kind.as_str(), "browser" | "native");
    let method = Some(text(credentials, "token_endpoint_auth_method"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| if public { "none".into() } else { "client_secret_basic".into() });
    let initiate = text(settings, "initiate_login_uri");
    let mode = settings
        .get("idp_initiated_login")
        .and_then(|l| l.get("mode"))
        .and_then(Value::as_str)
        .map(|m| if m == "DISABLED" { "DISABLED" } else { "SPEC" })
        .unwrap_or(if initiate.is_empty() { "DISABLED" } else { "SPEC" });
    let mut f = vec![
        (TYPE.to_owned(), kind),
        (REDIRECTS.to_owned(), list("redirect_uris").join("\n")),
        (LOGOUT_REDIRECTS.to_owned(), list("post_logout_redirect_uris").join("\n")),
        (METHOD.to_owned(), method),
        (JWKS.to_owned(), settings.get("jwks").map(|j| serde_json::to_string_pretty(j).unwrap_or_default()).unwrap_or_default()),
        (CONSENT.to_owned(), Some(text(settings, "consent_method")).filter(|c| !c.is_empty()).unwrap_or_else(|| "TRUSTED".into())),
        (LOGIN_MODE.to_owned(), mode.to_owned()),
        (INITIATE_LOGIN.to_owned(), initiate),
        (ID_TOKEN_ALG.to_owned(), Some(text(settings, "id_token_signed_response_alg")).filter(|a| !a.is_empty()).unwrap_or_else(|| "RS256".into())),
    ];
    if credentials.get("pkce_required").and_then(Value::as_bool).unwrap_or(public) {
        f.push((PKCE.to_owned(), "true".into()));
    }
    f.extend(list("grant_types").into_iter().map(|g| (GRANTS.to_owned(), g)));
    Fields(f)
}

/// A textarea for a list (one per line) or a document, with hint and error.
fn textarea(path: &str, label: &str, hint: &str, form: &Fields, rows: u8, disabled: bool, errors: &FieldErrors) -> Markup {
    let id = field_id(path);
    let error = errors.get(path);
    let described = if error.is_some() { format!("{id}-hint {id}-error") } else { format!("{id}-hint") };
    html! {
        div class="field" {
            label for=(id) { (label) }
            p class="hint" id=(format!("{id}-hint")) { (hint) }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            textarea id=(id) name=(path) rows=(rows) disabled[disabled] aria-invalid=[error.map(|_| "true")] aria-describedby=(described) {
                (form.get(path))
            }
        }
    }
}

/// A group of radio buttons in a fieldset, with hint and error.
fn radios(path: &str, legend: &str, hint: Option<&str>, choices: &[(&str, &str)], form: &Fields, disabled: bool, errors: &FieldErrors) -> Markup {
    let id = field_id(path);
    let described: Vec<String> = [hint.map(|_| format!("{id}-hint")), errors.get(path).map(|_| format!("{id}-error"))].into_iter().flatten().collect();
    html! {
        fieldset id=(id) aria-describedby=[(!described.is_empty()).then(|| described.join(" "))] {
            legend { (legend) }
            @if let Some(h) = hint { p class="hint" id=(format!("{id}-hint")) { (h) } }
            (group_error(path, errors))
            @for (value, label) in choices {
                label class="choice" {
                    input type="radio" name=(path) value=(value) checked[form.get(path) == *value] disabled[disabled];
                    " " (label)
                }
            }
        }
    }
}

/// The settings, without the scope grants (which the edit page shows apart).
pub(in super::super) fn settings_fields(form: &Fields, errors: &FieldErrors, disabled: bool) -> Markup {
    let grants = form.all(GRANTS);
    let grants_id = field_id(GRANTS);
    let alg_id = field_id(ID_TOKEN_ALG);
    let alg_error = errors.get(ID_TOKEN_ALG);
    let initiate_id = field_id(INITIATE_LOGIN);
    let initiate_error = errors.get(INITIATE_LOGIN).or_else(|| errors.get("settings.oauthClient.idp_initiated_login"));
    html! {
        (radios(TYPE, "Application type", None, &APP_TYPES, form, disabled, errors))
        fieldset id=(grants_id) aria-describedby=(format!("{grants_id}-hint")) {
            legend { "Grant types" }
            p class="hint" id=(format!("{grants_id}-hint")) { "How the app gets tokens. Service apps use client credentials; apps that sign people in use the authorization code." }
            (group_error(GRANTS, errors))
            @for (value, label) in GRANT_TYPES {
                label class="choice" {
                    input type="checkbox" name=(GRANTS) value=(value) checked[grants.contains(&value)] disabled[disabled];
                    " " (label)
                }
            }
        }
        (textarea(REDIRECTS, "Sign-in redirect URIs", "Where people return with the authorization code, one per line, e.g. https://app.example.com/callback. Compared exactly.", form, 3, disabled, errors))
        (textarea(LOGOUT_REDIRECTS, "Sign-out redirect URIs", "Optional: where the app may send people after signing out (post_logout_redirect_uri), one per line.", form, 2, disabled, errors))
        (radios(METHOD, "Client authentication", Some("How the app proves itself at the token endpoint. A secret is shown once, when it is made."), &AUTH_METHODS, form, disabled, errors))
        (textarea(JWKS, "Public keys (JWKS)", "For private_key_jwt: the app's public keys as a JSON Web Key Set, {\"keys\": [...]}.", form, 4, disabled, errors))
        fieldset id=(field_id(PKCE)) {
            legend { "PKCE" }
            (group_error(PKCE, errors))
            label class="choice" {
                input type="checkbox" name=(PKCE) value="true" checked[form.checked(PKCE)] disabled[disabled];
                " Require PKCE (S256) from this app (always required of single-page and native apps)"
            }
        }
        (radios(CONSENT, "Consent", None, &CONSENTS, form, disabled, errors))
        (radios(LOGIN_MODE, "Login initiated by", None, &LOGIN_MODES, form, disabled, errors))
        div class="field" {
            label for=(initiate_id) { "Initiate login URI" }
            p class="hint" id=(format!("{initiate_id}-hint")) { "Needed when Vestibule may start the sign-in: the app's https URL that starts an authorization request." }
            @if let Some(e) = initiate_error { p class="field-error" id=(format!("{initiate_id}-error")) { (e) } }
            input id=(initiate_id) name=(INITIATE_LOGIN) type="url" value=(form.get(INITIATE_LOGIN)) disabled[disabled]
                aria-invalid=[initiate_error.map(|_| "true")]
                aria-describedby=(if initiate_error.is_some() { format!("{initiate_id}-hint {initiate_id}-error") } else { format!("{initiate_id}-hint") });
        }
        div class="field" {
            label for=(alg_id) { "ID token signing algorithm" }
            @if let Some(e) = alg_error { p class="field-error" id=(format!("{alg_id}-error")) { (e) } }
            select id=(alg_id) name=(ID_TOKEN_ALG) disabled[disabled] aria-invalid=[alg_error.map(|_| "true")] aria-describedby=[alg_error.map(|_| format!("{alg_id}-error"))] {
                @for (value, label) in ID_TOKEN_ALGS {
                    option value=(value) selected[form.get(ID_TOKEN_ALG) == value] { (label) }
                }
            }
        }
    }
}

/// The Okta API scopes to grant a service app, as checkboxes.
pub(in super::super) fn scope_fields(form: &Fields, errors: &FieldErrors) -> Markup {
    let chosen = form.all(SCOPE_GRANTS);
    let id = field_id(SCOPE_GRANTS);
    html! {
        fieldset id=(id) aria-describedby=(format!("{id}-hint")) {
            legend { "Okta API scopes" }
            p class="hint" id=(format!("{id}-hint")) {
                "For service apps: the scopes of Vestibule's management API (/api/v1) this app may ask the org authorization server for with client credentials."
            }
            (group_error(SCOPE_GRANTS, errors))
            @for scope in MANAGEMENT_SCOPES {
                label class="choice" {
                    input type="checkbox" name=(SCOPE_GRANTS) value=(scope) checked[chosen.contains(&scope)];
                    " " code { (scope) }
                }
            }
        }
    }
}

pub(super) fn fields(form: &Fields, errors: &FieldErrors) -> Markup {
    html! {
        (settings_fields(form, errors, false))
        (scope_fields(form, errors))
    }
}
