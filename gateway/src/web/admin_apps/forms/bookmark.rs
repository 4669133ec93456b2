//! The bookmark settings form: a URL, and whether people may ask IT for a
//! real integration of the app.

use maud::{html, Markup};
use serde_json::{json, Value};

use super::super::{field_id, group_error, text_field, FieldErrors, Fields, Input};

pub(super) fn labels() -> Vec<(&'static str, &'static str)> {
    vec![("settings.app.url", "URL"), ("settings.app.requestIntegration", "Request integration")]
}

pub(super) fn settings(form: &Fields) -> Value {
    json!({ "app": { "url": form.get("settings.app.url"), "requestIntegration": form.checked("settings.app.requestIntegration") } })
}

pub(super) fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![]
}

pub(super) fn fields(form: &Fields, errors: &FieldErrors) -> Markup {
    html! {
        (text_field("settings.app.url", "URL", form.get("settings.app.url"), Input::Url, true, false, errors))
        fieldset id=(field_id("settings.app.requestIntegration")) {
            legend { "Request integration" }
            (group_error("settings.app.requestIntegration", errors))
            label class="choice" {
                input type="checkbox" name="settings.app.requestIntegration" value="true" checked[form.checked("settings.app.requestIntegration")];
                " This bookmark stands in for an app that should get single sign-on: mark it as requested"
            }
        }
    }
}
