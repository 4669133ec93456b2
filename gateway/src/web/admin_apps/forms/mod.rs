//! Each sign-on method's settings form: its fields (named by API path), its
//! labels for the error summary, its starting values, and the Apps API body
//! it makes. Create App Integration draws and submits these; one module per
//! protocol keeps a protocol's form next to nothing but itself.

mod bookmark;
pub(super) mod oidc;
pub(super) mod saml;
mod swa;
mod wsfed;

use maud::Markup;
use serde_json::{Map, Value};

use super::{FieldErrors, Fields};
use crate::apps::SignOnMode;

/// The protocol's fields, as (API path, label), for the error summary.
pub(super) fn labels(mode: SignOnMode) -> Vec<(&'static str, &'static str)> {
    match mode {
        SignOnMode::Saml2 => saml::labels(),
        SignOnMode::OpenIdConnect => oidc::labels(),
        SignOnMode::AutoLogin => swa::labels(),
        SignOnMode::WsFederation => wsfed::labels(),
        SignOnMode::Bookmark => bookmark::labels(),
    }
}

/// Fills the app body for `api::create_app` (settings, and credentials where
/// the protocol has them) from the submitted form.
pub(super) fn body(mode: SignOnMode, form: &Fields, body: &mut Map<String, Value>) {
    let settings = match mode {
        SignOnMode::Saml2 => saml::settings(form),
        SignOnMode::OpenIdConnect => oidc::settings(form, body),
        SignOnMode::AutoLogin => swa::settings(form, body),
        SignOnMode::WsFederation => wsfed::settings(form),
        SignOnMode::Bookmark => bookmark::settings(form),
    };
    body.insert("settings".into(), settings);
}

/// Before creating: the form to show again instead, with what to say, when
/// the submission asks for a review step (SAML's "Import SP metadata").
pub(super) fn review(mode: SignOnMode, form: &Fields) -> Option<(Fields, FieldErrors)> {
    match mode {
        SignOnMode::Saml2 => saml::import_metadata(form),
        _ => None,
    }
}

/// Starting values for a new form.
pub(super) fn defaults(mode: SignOnMode) -> Vec<(String, String)> {
    let pairs: Vec<(&str, &str)> = match mode {
        SignOnMode::Saml2 => saml::defaults(),
        SignOnMode::OpenIdConnect => oidc::defaults(),
        SignOnMode::AutoLogin => swa::defaults(),
        SignOnMode::WsFederation => wsfed::defaults(),
        SignOnMode::Bookmark => bookmark::defaults(),
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// The protocol's part of the form.
pub(super) fn fields(mode: SignOnMode, form: &Fields, errors: &FieldErrors) -> Markup {
    match mode {
        SignOnMode::Saml2 => saml::fields(form, errors),
        SignOnMode::OpenIdConnect => oidc::fields(form, errors),
        SignOnMode::AutoLogin => swa::fields(form, errors),
        SignOnMode::WsFederation => wsfed::fields(form, errors),
        SignOnMode::Bookmark => bookmark::fields(form, errors),
    }
}

/// A form value as a JSON string.
fn text(form: &Fields, path: &str) -> Value {
    Value::String(form.get(path).to_owned())
}

/// Sets `key` to the form value at `path` when it is not empty.
fn optional(form: &Fields, map: &mut Map<String, Value>, key: &str, path: &str) {
    if !form.get(path).is_empty() {
        map.insert(key.to_owned(), text(form, path));
    }
}
