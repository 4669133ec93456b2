//! The WS-Federation settings form (Okta's template_wsfed shape): realm,
//! reply URLs, the token and its claims.

use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{field_id, group_error, text_field, FieldErrors, Fields, Input};
use super::optional;
use crate::apps::NAME_ID_FORMATS;

const TOKEN_TYPES: [(&str, &str); 2] = [("SAML_1_1", "SAML 1.1 (most WS-Federation apps)"), ("SAML_2_0", "SAML 2.0")];

const USERNAME_ATTRIBUTES: [(&str, &str); 4] = [
    ("none", "None"),
    ("username", "name claim"),
    ("upn", "UPN claim"),
    ("upnAndUsername", "UPN and name claims"),
];

pub(super) fn labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.app.realm", "Realm"),
        ("settings.app.wReplyURL", "Reply URL"),
        ("settings.app.wReplyOverride", "Allow overriding the reply URL"),
        ("settings.app.wReplyURLs", "Other reply URLs"),
        ("settings.app.audienceRestriction", "Audience"),
        ("settings.app.nameIDFormat", "Name ID format"),
        ("settings.app.tokenType", "Token type"),
        ("settings.app.usernameAttribute", "App username as a claim"),
        ("settings.app.attributeStatements", "Attribute statements"),
        ("settings.app.groupFilter", "Group filter"),
        ("settings.app.groupName", "Group claim"),
        ("settings.app.authnContextClassRef", "AuthnContextClassRef"),
        ("settings.app.siteURL", "Site URL"),
    ]
}

/// Lines of a textarea, trimmed, without the empty ones.
fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

pub(super) fn settings(form: &Fields) -> Value {
    let mut app = Map::new();
    for key in ["realm", "wReplyURL"] {
        app.insert(key.into(), Value::String(form.get(&format!("settings.app.{key}")).to_owned()));
    }
    app.insert("wReplyOverride".into(), Value::Bool(form.checked("settings.app.wReplyOverride")));
    let others = lines(form.get("settings.app.wReplyURLs"));
    if !others.is_empty() {
        app.insert("wReplyURLs".into(), json!(others));
    }
    for key in ["audienceRestriction", "nameIDFormat", "tokenType", "usernameAttribute", "groupFilter", "groupName", "authnContextClassRef", "siteURL"] {
        optional(form, &mut app, key, &format!("settings.app.{key}"));
    }
    // Okta's string form: `name|expression|namespace`, comma-separated.
    let statements = lines(form.get("settings.app.attributeStatements"));
    if !statements.is_empty() {
        app.insert("attributeStatements".into(), Value::String(statements.join(",")));
    }
    json!({ "app": app })
}

pub(super) fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.app.tokenType", "SAML_1_1"),
        ("settings.app.nameIDFormat", NAME_ID_FORMATS[0]),
        ("settings.app.usernameAttribute", "none"),
    ]
}

/// A labelled select of (value, label) options.
fn select(form: &Fields, errors: &FieldErrors, path: &str, label: &str, options: &[(&str, &str)]) -> Markup {
    let id = field_id(path);
    let error = errors.get(path);
    html! {
        div class="field" {
            label for=(id) { (label) }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            select id=(id) name=(path) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))] {
                @for (value, text) in options {
                    option value=(value) selected[form.get(path) == *value] { (text) }
                }
            }
        }
    }
}

/// A labelled textarea with a hint, its error tied to it.
fn textarea(form: &Fields, errors: &FieldErrors, path: &str, label: &str, hint: &str) -> Markup {
    let id = field_id(path);
    let error = errors.get(path);
    html! {
        div class="field" {
            label for=(id) { (label) }
            p class="hint" id=(format!("{id}-hint")) { (hint) }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            textarea id=(id) name=(path) rows="3" aria-invalid=[error.map(|_| "true")]
                aria-describedby=(if error.is_some() { format!("{id}-hint {id}-error") } else { format!("{id}-hint") }) {
                (form.get(path))
            }
        }
    }
}

pub(super) fn fields(form: &Fields, errors: &FieldErrors) -> Markup {
    let text = |path: &str, label: &str, input: Input, required: bool| text_field(path, label, form.get(path), input, required, false, errors);
    let formats: Vec<(&str, &str)> = NAME_ID_FORMATS.iter().map(|f| (*f, f.rsplit(':').next().unwrap_or(f))).collect();
    html! {
        (text("settings.app.realm", "Realm", Input::Hinted("The relying party's identifier (wtrealm), e.g. urn:app:example"), true))
        (text("settings.app.wReplyURL", "Reply URL", Input::Hinted("Where the app receives the token (wreply), e.g. https://app.example.com/wsfed"), true))
        fieldset id=(field_id("settings.app.wReplyOverride")) {
            legend { "Reply URL override" }
            (group_error("settings.app.wReplyOverride", errors))
            label class="choice" {
                input type="checkbox" name="settings.app.wReplyOverride" value="true" checked[form.checked("settings.app.wReplyOverride")];
                " Let the app ask for one of the other reply URLs below (never any other URL)"
            }
        }
        (textarea(form, errors, "settings.app.wReplyURLs", "Other reply URLs", "One per line; used only when overriding is allowed."))
        (text("settings.app.audienceRestriction", "Audience", Input::Hinted("Optional: the token's audience, when it is not the realm."), false))
        (select(form, errors, "settings.app.nameIDFormat", "Name ID format", &formats))
        (select(form, errors, "settings.app.tokenType", "Token type", &TOKEN_TYPES))
        (select(form, errors, "settings.app.usernameAttribute", "App username as a claim", &USERNAME_ATTRIBUTES))
        (textarea(form, errors, "settings.app.attributeStatements", "Attribute statements",
            "Optional, one per line: claim name|profile expression|namespace, e.g. department|user.department. Empty: email, given name, surname and name."))
        (text("settings.app.groupFilter", "Group filter", Input::Hinted("Optional: a regular expression; the person's groups that match it are sent as claims."), false))
        (text("settings.app.groupName", "Group claim", Input::Hinted("Optional: the claim type the groups are sent as (default: the role claim)."), false))
        (text("settings.app.authnContextClassRef", "AuthnContextClassRef", Input::Hinted("Optional: how the person signed in, as the app expects to read it."), false))
        (text("settings.app.siteURL", "Site URL", Input::Hinted("Optional: the app's home page."), false))
    }
}
