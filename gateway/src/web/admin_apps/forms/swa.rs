//! The SWA (AUTO_LOGIN) settings form: the app's sign-in page, its form's
//! field names, and who sets the credentials (Okta's `credentials.scheme`).
//! A shared password is written once and never drawn back into the page.

use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{field_id, group_error, text_field, FieldErrors, Fields, Input};
use super::optional;
use crate::swa::Scheme;

fn describe(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::EditUsernameAndPassword => "Each person sets their own username and password (on first launch)",
        Scheme::EditPasswordOnly => "Each person sets their password; the username is their app username",
        Scheme::AdminSetsCredentials => "An administrator sets each person's username and password",
        Scheme::SharedUsernameAndPassword => "Everyone uses one shared username and password, set here and never shown to people",
    }
}

pub(super) fn labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.signOn.loginUrl", "Login page URL"),
        ("settings.signOn.redirectUrl", "Redirect URL"),
        ("settings.app.usernameField", "Username field name"),
        ("settings.app.passwordField", "Password field name"),
        ("settings.app.buttonField", "Sign-in button name"),
        ("settings.app.extraFieldSelector", "Extra field name"),
        ("settings.app.extraFieldValue", "Extra field value"),
        ("credentials.scheme", "Who sets the credentials"),
        ("credentials.userName", "Shared username"),
        ("credentials.password", "Shared password"),
        ("credentials.revealPassword", "Password reveal"),
    ]
}

/// The settings; the scheme, shared username and password go in `body`'s credentials.
pub(super) fn settings(form: &Fields, body: &mut Map<String, Value>) -> Value {
    let mut app = Map::new();
    for key in ["usernameField", "passwordField", "buttonField", "extraFieldSelector", "extraFieldValue"] {
        optional(form, &mut app, key, &format!("settings.app.{key}"));
    }
    let mut sign_on = Map::new();
    sign_on.insert("loginUrl".into(), Value::String(form.get("settings.signOn.loginUrl").to_owned()));
    optional(form, &mut sign_on, "redirectUrl", "settings.signOn.redirectUrl");
    let scheme = form.get("credentials.scheme");
    let mut credentials = Map::new();
    credentials.insert("scheme".into(), Value::String(scheme.to_owned()));
    if scheme == Scheme::SharedUsernameAndPassword.as_str() {
        credentials.insert("userName".into(), Value::String(form.get("credentials.userName").to_owned()));
        // The raw value: a password may begin or end with spaces.
        let password = form.0.iter().find(|(k, _)| k == "credentials.password").map(|(_, v)| v.as_str()).unwrap_or("");
        if !password.is_empty() {
            credentials.insert("password".into(), json!({ "value": password }));
        }
    } else {
        credentials.insert("revealPassword".into(), Value::Bool(form.checked("credentials.revealPassword")));
    }
    body.insert("credentials".into(), Value::Object(credentials));
    json!({ "signOn": sign_on, "app": app })
}

pub(super) fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.app.usernameField", "username"),
        ("settings.app.passwordField", "password"),
        ("credentials.scheme", Scheme::EditUsernameAndPassword.as_str()),
    ]
}

pub(super) fn fields(form: &Fields, errors: &FieldErrors) -> Markup {
    let text = |path: &str, label: &str, input: Input, required: bool| text_field(path, label, form.get(path), input, required, false, errors);
    let scheme = form.get("credentials.scheme");
    let password_id = field_id("credentials.password");
    let password_error = errors.get("credentials.password");
    html! {
        (text("settings.signOn.loginUrl", "Login page URL", Input::Hinted("Where the app's sign-in form posts to, e.g. https://app.example.com/login"), true))
        (text("settings.signOn.redirectUrl", "Redirect URL", Input::Hinted("Optional: a page to open after signing in, when the app does not go there itself."), false))
        (text("settings.app.usernameField", "Username field name", Input::Hinted("The name of the form's username input (Okta's selectors #name and input[name=\"name\"] work too)."), false))
        (text("settings.app.passwordField", "Password field name", Input::Hinted("The name of the form's password input."), false))
        (text("settings.app.buttonField", "Sign-in button name", Input::Hinted("Optional: the name of the button that submits the form, when the app expects it."), false))
        (text("settings.app.extraFieldSelector", "Extra field name", Input::Hinted("Optional: one more field the form needs, such as a company or tenant code."), false))
        (text("settings.app.extraFieldValue", "Extra field value", Input::Text, false))
        fieldset id=(field_id("credentials.scheme")) {
            legend { "Who sets the credentials" }
            (group_error("credentials.scheme", errors))
            @for s in Scheme::ALL {
                label class="choice" {
                    input type="radio" name="credentials.scheme" value=(s.as_str()) checked[scheme == s.as_str()];
                    " " (describe(s))
                }
            }
        }
        fieldset {
            legend { "Shared credentials (only with one shared username and password)" }
            (text("credentials.userName", "Shared username", Input::Text, false))
            div class="field" {
                label for=(password_id) { "Shared password" }
                p class="hint" id=(format!("{password_id}-hint")) { "Stored encrypted; never shown again, to anyone." }
                @if let Some(e) = password_error { p class="field-error" id=(format!("{password_id}-error")) { (e) } }
                // Never drawn back: a refused form asks for it again.
                input id=(password_id) name="credentials.password" type="password" autocomplete="new-password" value=""
                    aria-invalid=[password_error.map(|_| "true")]
                    aria-describedby=(if password_error.is_some() { format!("{password_id}-hint {password_id}-error") } else { format!("{password_id}-hint") });
            }
        }
        fieldset id=(field_id("credentials.revealPassword")) {
            legend { "Password reveal" }
            (group_error("credentials.revealPassword", errors))
            label class="choice" {
                input type="checkbox" name="credentials.revealPassword" value="true" checked[form.checked("credentials.revealPassword")];
                " People may see their stored password after re-entering their own (never with shared credentials)"
            }
        }
    }
}
