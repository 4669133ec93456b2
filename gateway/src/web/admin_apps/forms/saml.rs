//! The SAML 2.0 settings form: every setting of a SAML app, named by its API
//! path under `settings.signOn` (Okta's keys, as `saml_idp::settings` reads
//! them), so that the API's causes land next to their fields. Create App
//! Integration and the Sign On tab's "Edit SAML settings" both draw it.
//!
//! Lists (further ACS URLs, attribute statements, group attribute
//! statements) are drawn as rows, the filled ones and then empty ones up to
//! [`ROWS`]; a row without a URL or name is ignored. Certificates are pasted
//! as PEM (one or more blocks) or bare base64.
//!
//! "Import SP metadata" reads the SP's metadata (`saml_idp::sign_on_from_sp_metadata`,
//! the hardened parser: no DTDs, bounded size) and fills the fields from it;
//! the form is then shown again for review, never saved in the same step.

use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{field_id, group_error, text_field, FieldErrors, Fields, Input};
use crate::apps::NAME_ID_FORMATS;

/// Empty rows offered for each list.
pub(in crate::web::admin_apps) const ROWS: usize = 3;
/// The longest metadata document accepted from the form (bytes).
const MAX_METADATA: usize = 256 * 1024;

const P: &str = "settings.signOn.";

const SIGNATURE_ALGORITHMS: [(&str, &str); 4] = [
    ("RSA_SHA256", "RSA-SHA256 (recommended)"),
    ("RSA_SHA384", "RSA-SHA384"),
    ("RSA_SHA512", "RSA-SHA512"),
    ("RSA_SHA1", "RSA-SHA1 (weak: needs the opt-in below)"),
];
const ENCRYPTION_ALGORITHMS: [(&str, &str); 2] = [("AES256_GCM", "AES-256-GCM (recommended)"), ("AES256_CBC", "AES-256-CBC")];
const KEY_TRANSPORTS: [(&str, &str); 2] = [("RSA_OAEP", "RSA-OAEP (MGF1 with SHA-1, the common choice)"), ("RSA_OAEP_SHA256", "RSA-OAEP with SHA-256")];
const NAME_FORMATS: [(&str, &str); 3] = [
    ("urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", "Unspecified"),
    ("urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "Basic"),
    ("urn:oasis:names:tc:SAML:2.0:attrname-format:uri", "URI reference"),
];
const GROUP_FILTERS: [(&str, &str); 4] = [("STARTS_WITH", "Starts with"), ("EQUALS", "Equals"), ("CONTAINS", "Contains"), ("REGEX", "Matches regex")];
const CLASS_REFS: [(&str, &str); 6] = [
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", "Password over a protected channel (PasswordProtectedTransport)"),
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:Password", "Password"),
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:X509", "X.509 certificate"),
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient", "TLS client certificate"),
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos", "Kerberos"),
    ("urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified", "Unspecified"),
];
const BINDINGS: [(&str, &str); 2] = [("REDIRECT", "HTTP-Redirect"), ("POST", "HTTP-POST")];

fn path(key: &str) -> String {
    format!("{P}{key}")
}

pub(in crate::web::admin_apps) fn labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.signOn.ssoAcsUrl", "Single sign-on URL (ACS URL)"),
        ("settings.signOn.recipient", "Recipient URL"),
        ("settings.signOn.destination", "Destination URL"),
        ("settings.signOn.acsEndpoints", "Other requestable SSO URLs"),
        ("settings.signOn.audience", "Audience URI (SP entity ID)"),
        ("settings.signOn.defaultRelayState", "Default relay state"),
        ("settings.signOn.subjectNameIdFormat", "Name ID format"),
        ("settings.signOn.responseSigned", "Signatures"),
        ("settings.signOn.assertionSigned", "Signatures"),
        ("settings.signOn.signatureAlgorithm", "Signature algorithm"),
        ("settings.signOn.allowWeakSignatureAlgorithm", "Allow RSA-SHA1"),
        ("settings.signOn.digestAlgorithm", "Digest algorithm"),
        ("settings.signOn.assertionEncryption.encryptionAlgorithm", "Encryption algorithm"),
        ("settings.signOn.assertionEncryption.keyTransportAlgorithm", "Key transport algorithm"),
        ("settings.signOn.assertionEncryption.x5c", "SP encryption certificate"),
        ("settings.signOn.attributeStatements", "Attribute statements"),
        ("settings.signOn.authnContextClassRef", "Authentication context class"),
        ("settings.signOn.spCertificate.x5c", "SP signing certificate"),
        ("settings.signOn.slo.logoutUrl", "SP single logout URL"),
        ("settings.signOn.slo.issuer", "SP issuer"),
        ("settings.signOn.participateSlo.logoutRequestUrl", "SP logout request URL"),
        ("settings.signOn.participateSlo.bindingType", "Logout request binding"),
        ("settings.signOn.samlAssertionLifetimeSeconds", "Assertion validity (seconds)"),
        ("spMetadata", "SP metadata"),
    ]
}

pub(in crate::web::admin_apps) fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("settings.signOn.subjectNameIdFormat", NAME_ID_FORMATS[0]),
        ("useAcsForRecipient", "true"),
        ("settings.signOn.responseSigned", "true"),
        ("settings.signOn.assertionSigned", "true"),
        ("settings.signOn.signatureAlgorithm", "RSA_SHA256"),
        ("settings.signOn.digestAlgorithm", "SHA256"),
        ("settings.signOn.assertionEncryption.encryptionAlgorithm", "AES256_GCM"),
        ("settings.signOn.assertionEncryption.keyTransportAlgorithm", "RSA_OAEP"),
        ("settings.signOn.authnContextClassRef", CLASS_REFS[0].0),
        ("settings.signOn.honorForceAuthn", "true"),
        ("settings.signOn.allowSpInitiated", "true"),
        ("settings.signOn.participateSlo.bindingType", "REDIRECT"),
        ("settings.signOn.samlAssertionLifetimeSeconds", "300"),
    ]
}

/// Certificates pasted as PEM blocks (one or more) or one bare base64 value,
/// as an Okta `x5c` list of base64 DER.
fn certificates(text: &str) -> Vec<Value> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let compact = |block: &str| -> String {
        block.lines().filter(|l| !l.starts_with("-----")).flat_map(str::chars).filter(|c| !c.is_ascii_whitespace()).collect()
    };
    if text.contains("-----BEGIN") {
        text.split("-----END CERTIFICATE-----").map(compact).filter(|c| !c.is_empty()).map(Value::from).collect()
    } else {
        vec![Value::from(compact(text))]
    }
}

/// An `x5c` list drawn as PEM blocks, for the textareas.
fn pem_blocks(x5c: Option<&Value>) -> String {
    let mut out = String::new();
    for der in x5c.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let compact: String = der.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for chunk in compact.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

fn string_or_null(form: &Fields, key: &str) -> Value {
    match form.get(&path(key)) {
        "" => Value::Null,
        text => Value::from(text),
    }
}

/// `settings.signOn` from the form, in the Apps API's shape. Settings the
/// form leaves empty are null, so that an edit can clear them.
pub(in crate::web::admin_apps) fn sign_on(form: &Fields) -> Map<String, Value> {
    let mut s = Map::new();
    let checked = |key: &str| Value::Bool(form.checked(&path(key)));
    for key in ["ssoAcsUrl", "audience", "subjectNameIdFormat"] {
        s.insert(key.into(), Value::from(form.get(&path(key))));
    }
    for key in ["defaultRelayState", "signatureAlgorithm", "digestAlgorithm", "authnContextClassRef"] {
        s.insert(key.into(), string_or_null(form, key));
    }
    if form.checked("useAcsForRecipient") {
        s.insert("recipient".into(), Value::Null);
        s.insert("destination".into(), Value::Null);
    } else {
        s.insert("recipient".into(), string_or_null(form, "recipient"));
        s.insert("destination".into(), string_or_null(form, "destination"));
    }
    for key in ["responseSigned", "assertionSigned", "allowWeakSignatureAlgorithm", "honorForceAuthn", "allowSpInitiated", "samlSignedRequestEnabled", "allowMultipleAcsEndpoints"] {
        s.insert(key.into(), checked(key));
    }
    s.insert("requestCompressed".into(), Value::Bool(false));
    let mut endpoints = Vec::new();
    for i in 0..rows(form, "acsEndpoints") {
        let url = form.get(&path(&format!("acsEndpoints[{i}].url")));
        if url.is_empty() {
            continue;
        }
        // An index left blank is the row's position; a wrong one is the API's to name.
        let index = form.get(&path(&format!("acsEndpoints[{i}].index")));
        let index = if index.is_empty() { Value::from(i) } else { index.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(index)) };
        endpoints.push(json!({ "url": url, "index": index }));
    }
    s.insert("acsEndpoints".into(), Value::Array(endpoints));
    let encryption_certificates = certificates(form.get(&path("assertionEncryption.x5c")));
    s.insert(
        "assertionEncryption".into(),
        json!({
            "enabled": form.checked(&path("assertionEncryption.enabled")),
            "encryptionAlgorithm": form.get(&path("assertionEncryption.encryptionAlgorithm")),
            "keyTransportAlgorithm": form.get(&path("assertionEncryption.keyTransportAlgorithm")),
            "x5c": encryption_certificates,
        }),
    );
    let sp_certificates = certificates(form.get(&path("spCertificate.x5c")));
    s.insert("spCertificate".into(), if sp_certificates.is_empty() { Value::Null } else { json!({ "x5c": sp_certificates }) });
    let mut statements = Vec::new();
    for i in 0..rows(form, "attributeStatements") {
        let name = form.get(&path(&format!("attributeStatements[{i}].name")));
        if name.is_empty() {
            continue;
        }
        let value = form.get(&path(&format!("attributeStatements[{i}].values")));
        statements.push(json!({
            "type": "EXPRESSION",
            "name": name,
            "namespace": form.get(&path(&format!("attributeStatements[{i}].namespace"))),
            "values": if value.is_empty() { vec![] } else { vec![value] },
        }));
    }
    for i in 0..rows(form, "groupAttributeStatements") {
        let name = form.get(&path(&format!("groupAttributeStatements[{i}].name")));
        if name.is_empty() {
            continue;
        }
        statements.push(json!({
            "type": "GROUP",
            "name": name,
            "namespace": form.get(&path(&format!("groupAttributeStatements[{i}].namespace"))),
            "filterType": form.get(&path(&format!("groupAttributeStatements[{i}].filterType"))),
            "filterValue": form.get(&path(&format!("groupAttributeStatements[{i}].filterValue"))),
        }));
    }
    s.insert("attributeStatements".into(), Value::Array(statements));
    s.insert(
        "slo".into(),
        json!({
            "enabled": form.checked(&path("slo.enabled")),
            "logoutUrl": form.get(&path("slo.logoutUrl")),
            "issuer": form.get(&path("slo.issuer")),
        }),
    );
    s.insert(
        "participateSlo".into(),
        json!({
            "enabled": form.checked(&path("participateSlo.enabled")),
            "logoutRequestUrl": form.get(&path("participateSlo.logoutRequestUrl")),
            "bindingType": form.get(&path("participateSlo.bindingType")),
            "sessionIndexRequired": true,
        }),
    );
    let lifetime = form.get(&path("samlAssertionLifetimeSeconds"));
    s.insert(
        "samlAssertionLifetimeSeconds".into(),
        match lifetime {
            "" => Value::Null,
            // Not a number: passed on as text for the API to refuse by name.
            text => text.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(text)),
        },
    );
    s
}

pub(super) fn settings(form: &Fields) -> Value {
    json!({ "signOn": sign_on(form) })
}

/// How many rows of a list the form carries.
fn rows(form: &Fields, list: &str) -> usize {
    let prefix = format!("{P}{list}[");
    form.0
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split(']').next()?.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
        .min(100)
}

/// The form's values for a stored `settings.signOn`: the inverse of [`sign_on`].
pub(in crate::web::admin_apps) fn from_sign_on(s: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut put = |key: String, value: String| out.push((key, value));
    let text = |v: Option<&Value>| match v {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let bool_of = |v: Option<&Value>, default: bool| v.and_then(Value::as_bool).unwrap_or(default);
    for key in ["ssoAcsUrl", "audience", "defaultRelayState", "recipient", "destination", "samlAssertionLifetimeSeconds"] {
        put(path(key), text(s.get(key)));
    }
    let with_default = |key: &str, default: &str| {
        let t = text(s.get(key));
        if t.is_empty() { default.to_owned() } else { t }
    };
    put(path("subjectNameIdFormat"), with_default("subjectNameIdFormat", NAME_ID_FORMATS[0]));
    put(path("signatureAlgorithm"), with_default("signatureAlgorithm", "RSA_SHA256"));
    put(path("digestAlgorithm"), with_default("digestAlgorithm", "SHA256"));
    put(path("authnContextClassRef"), with_default("authnContextClassRef", CLASS_REFS[0].0));
    let acs = text(s.get("ssoAcsUrl"));
    let recipient = text(s.get("recipient"));
    let destination = text(s.get("destination"));
    if (recipient.is_empty() || recipient == acs) && (destination.is_empty() || destination == acs) {
        put("useAcsForRecipient".into(), "true".into());
    }
    for (key, default) in [
        ("responseSigned", true),
        ("assertionSigned", true),
        ("allowWeakSignatureAlgorithm", false),
        ("honorForceAuthn", true),
        ("allowSpInitiated", true),
        ("samlSignedRequestEnabled", false),
        ("allowMultipleAcsEndpoints", false),
    ] {
        if bool_of(s.get(key), default) {
            put(path(key), "true".into());
        }
    }
    let endpoints = s.get("acsEndpoints").and_then(Value::as_array).cloned().unwrap_or_default();
    for i in 0..(endpoints.len() + 1).max(ROWS) {
        let e = endpoints.get(i);
        put(path(&format!("acsEndpoints[{i}].index")), text(e.and_then(|e| e.get("index"))));
        put(path(&format!("acsEndpoints[{i}].url")), text(e.and_then(|e| e.get("url"))));
    }
    let empty = Map::new();
    let encryption = s.get("assertionEncryption").and_then(Value::as_object).unwrap_or(&empty);
    if bool_of(encryption.get("enabled"), false) {
        put(path("assertionEncryption.enabled"), "true".into());
    }
    let enc = text(encryption.get("encryptionAlgorithm"));
    put(path("assertionEncryption.encryptionAlgorithm"), if enc.is_empty() { "AES256_GCM".into() } else { enc });
    let transport = text(encryption.get("keyTransportAlgorithm"));
    put(path("assertionEncryption.keyTransportAlgorithm"), if transport.is_empty() { "RSA_OAEP".into() } else { transport });
    put(path("assertionEncryption.x5c"), pem_blocks(encryption.get("x5c")));
    put(path("spCertificate.x5c"), pem_blocks(s.get("spCertificate").and_then(|c| c.get("x5c"))));
    let statements = s.get("attributeStatements").and_then(Value::as_array).cloned().unwrap_or_default();
    let (groups, expressions): (Vec<&Value>, Vec<&Value>) =
        statements.iter().partition(|st| st.get("type").and_then(Value::as_str) == Some("GROUP"));
    for i in 0..(expressions.len() + 1).max(ROWS) {
        let st = expressions.get(i);
        put(path(&format!("attributeStatements[{i}].name")), text(st.and_then(|st| st.get("name"))));
        put(path(&format!("attributeStatements[{i}].namespace")), text(st.and_then(|st| st.get("namespace"))));
        put(path(&format!("attributeStatements[{i}].values")), text(st.and_then(|st| st.get("values")).and_then(|v| v.get(0))));
    }
    for i in 0..(groups.len() + 1).max(ROWS) {
        let st = groups.get(i);
        put(path(&format!("groupAttributeStatements[{i}].name")), text(st.and_then(|st| st.get("name"))));
        put(path(&format!("groupAttributeStatements[{i}].namespace")), text(st.and_then(|st| st.get("namespace"))));
        put(path(&format!("groupAttributeStatements[{i}].filterType")), text(st.and_then(|st| st.get("filterType"))));
        put(path(&format!("groupAttributeStatements[{i}].filterValue")), text(st.and_then(|st| st.get("filterValue"))));
    }
    let slo = s.get("slo").and_then(Value::as_object).unwrap_or(&empty);
    if bool_of(slo.get("enabled"), false) {
        put(path("slo.enabled"), "true".into());
    }
    put(path("slo.logoutUrl"), text(slo.get("logoutUrl")));
    put(path("slo.issuer"), text(slo.get("issuer")));
    let participate = s.get("participateSlo").and_then(Value::as_object).unwrap_or(&empty);
    if bool_of(participate.get("enabled"), false) {
        put(path("participateSlo.enabled"), "true".into());
    }
    put(path("participateSlo.logoutRequestUrl"), text(participate.get("logoutRequestUrl")));
    let binding = text(participate.get("bindingType"));
    put(path("participateSlo.bindingType"), if binding.is_empty() { "REDIRECT".into() } else { binding });
    out
}

/// "Import SP metadata": when the form carries metadata, the form filled
/// from it (other fields kept, the metadata itself dropped) and what to say,
/// for the admin to review. `None` when there is nothing to import.
pub(in crate::web::admin_apps) fn import_metadata(form: &Fields) -> Option<(Fields, FieldErrors)> {
    let metadata = form.get("spMetadata");
    let mut errors = FieldErrors::default();
    if metadata.is_empty() {
        // "Import and review" with nothing pasted must not save the form.
        if form.checked("importMetadata") {
            errors.add("spMetadata", "is empty: paste the SP's metadata XML, then choose Import and review");
            return Some((keep_without(form, &[]), errors));
        }
        return None;
    }
    if metadata.len() > MAX_METADATA {
        errors.add("spMetadata", format!("is larger than {} KiB; paste the SP's own metadata document only", MAX_METADATA / 1024));
        return Some((keep_without(form, &[]), errors));
    }
    let imported = match crate::saml_idp::sign_on_from_sp_metadata(metadata.as_bytes()) {
        Ok(imported) => imported,
        Err(e) => {
            errors.add("spMetadata", format!("could not be read as SAML SP metadata: {e}"));
            return Some((keep_without(form, &[]), errors));
        }
    };
    let mut merged = sign_on(form);
    for (key, value) in imported {
        merged.insert(key, value);
    }
    let mut fields = keep_without(form, &[P, "useAcsForRecipient", "spMetadata"]);
    fields.0.extend(from_sign_on(&merged));
    fields.0.push(("importedFromMetadata".into(), "true".into()));
    Some((fields, errors))
}

/// The form's fields except those starting with any of `prefixes` (and the metadata).
fn keep_without(form: &Fields, prefixes: &[&str]) -> Fields {
    Fields(
        form.0
            .iter()
            .filter(|(k, _)| k != "spMetadata" && k != "importedFromMetadata" && !prefixes.iter().any(|p| k.starts_with(p)))
            .cloned()
            .collect(),
    )
}

/// A `<select>` with its label, error and hint.
fn select(form: &Fields, errors: &FieldErrors, key: &str, label: &str, hint: Option<&str>, options: &[(&str, &str)]) -> Markup {
    let name = path(key);
    let id = field_id(&name);
    let error = errors.get(&name);
    let described: Vec<String> = [hint.map(|_| format!("{id}-hint")), error.map(|_| format!("{id}-error"))].into_iter().flatten().collect();
    let current = form.get(&name);
    html! {
        div class="field" {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id=(format!("{id}-hint")) { (h) } }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] aria-describedby=[(!described.is_empty()).then(|| described.join(" "))] {
                @if !options.iter().any(|(v, _)| *v == current) && !current.is_empty() {
                    option value=(current) selected { (current) }
                }
                @for (value, text) in options {
                    option value=(value) selected[current == *value] { (text) }
                }
            }
        }
    }
}

/// A checkbox with its label (and a hint tied to it).
fn checkbox(form: &Fields, name: &str, label: &str, hint: Option<&str>) -> Markup {
    let id = field_id(name);
    html! {
        div class="field" {
            label class="choice" {
                input id=(id) type="checkbox" name=(name) value="true" checked[form.checked(name)]
                    aria-describedby=[hint.map(|_| format!("{id}-hint"))];
                " " (label)
            }
            @if let Some(h) = hint { p class="hint" id=(format!("{id}-hint")) { (h) } }
        }
    }
}

/// A textarea for certificates or metadata.
fn textarea(form: &Fields, errors: &FieldErrors, name: &str, label: &str, hint: &str, rows: u32) -> Markup {
    let id = field_id(name);
    let error = errors.get(name);
    let described = match error {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-hint"),
    };
    html! {
        div class="field" {
            label for=(id) { (label) }
            p class="hint" id=(format!("{id}-hint")) { (hint) }
            @if let Some(e) = error { p class="field-error" id=(format!("{id}-error")) { (e) } }
            textarea id=(id) name=(name) rows=(rows) spellcheck="false" aria-invalid=[error.map(|_| "true")] aria-describedby=(described) { (form.get(name)) }
        }
    }
}

/// A small text input inside a table row, labelled for screen readers.
fn cell(form: &Fields, name: &str, label: &str) -> Markup {
    html! { input type="text" name=(name) value=(form.get(name)) aria-label=(label); }
}

fn cell_select(form: &Fields, name: &str, label: &str, options: &[(&str, &str)]) -> Markup {
    let current = form.get(name);
    html! {
        select name=(name) aria-label=(label) {
            @for (value, text) in options {
                option value=(value) selected[current == *value] { (text) }
            }
        }
    }
}

pub(in crate::web::admin_apps) fn fields(form: &Fields, errors: &FieldErrors) -> Markup {
    let text = |key: &str, label: &str, input: Input, required: bool| text_field(&path(key), label, form.get(&path(key)), input, required, false, errors);
    let sha1 = form.get(&path("signatureAlgorithm")) == "RSA_SHA1";
    let acs_rows = rows(form, "acsEndpoints").max(ROWS);
    let attribute_rows = rows(form, "attributeStatements").max(ROWS);
    let group_rows = rows(form, "groupAttributeStatements").max(ROWS);
    html! {
        @if form.checked("importedFromMetadata") && errors.is_empty() {
            div class="notice" role="status" {
                p { strong { "Filled in from the SP's metadata. " } "Review the settings below, then save. Nothing has been saved yet." }
            }
        }
        fieldset {
            legend { "Import SP metadata (optional)" }
            (textarea(form, errors, "spMetadata", "SP metadata XML", "Paste the service provider's metadata to fill in the ACS URLs, entity ID, certificates, single logout and Name ID format. You can review everything before saving.", 6))
            // With the page's script, a metadata file can be chosen instead of
            // pasted: the script reads it into the box above (nothing is uploaded
            // by itself; the input has no name). Without the script it stays hidden.
            div id="spMetadata-file-box" hidden data-max-bytes=(MAX_METADATA) {
                label for="spMetadata-file" { "Or choose the SP's metadata file" }
                input id="spMetadata-file" type="file" accept=".xml,application/samlmetadata+xml,application/xml,text/xml" aria-describedby="spMetadata-file-status";
                p id="spMetadata-file-status" class="hint" role="status" {}
            }
            script src="/assets/admin-apps.js" defer {}
            div class="actions" { button type="submit" name="importMetadata" value="true" class="secondary" { "Import and review" } }
        }
        fieldset {
            legend { "Single sign-on" }
            (text("ssoAcsUrl", "Single sign-on URL (ACS URL)", Input::Hinted("Where the app receives assertions, e.g. https://app.example.com/saml/acs"), true))
            (checkbox(form, "useAcsForRecipient", "Use this for Recipient URL and Destination URL", Some("Uncheck to send a different Recipient or Destination (for example behind a proxy).")))
            (text("recipient", "Recipient URL", Input::Hinted("Only when the box above is unchecked."), false))
            (text("destination", "Destination URL", Input::Hinted("Only when the box above is unchecked."), false))
            (checkbox(form, &path("allowMultipleAcsEndpoints"), "Allow this app to request other SSO URLs", Some("The app may ask, in its AuthnRequest, for one of the URLs below by index or by URL. No other URL ever receives a response.")))
            (group_error(&path("acsEndpoints"), errors))
            table class="rows" id=(field_id(&path("acsEndpoints"))) {
                caption { "Other requestable SSO URLs" }
                thead { tr { th scope="col" { "Index" } th scope="col" { "URL" } } }
                tbody {
                    @for i in 0..acs_rows {
                        tr {
                            td { (cell(form, &path(&format!("acsEndpoints[{i}].index")), &format!("Index of URL {}", i + 1))) }
                            td { (cell(form, &path(&format!("acsEndpoints[{i}].url")), &format!("URL {}", i + 1))) }
                        }
                    }
                }
            }
            (text("audience", "Audience URI (SP entity ID)", Input::Hinted("The app's entity ID, e.g. https://app.example.com/saml/metadata"), true))
            (text("defaultRelayState", "Default relay state", Input::Hinted("Optional: where the app sends people after an IdP-initiated sign-in."), false))
            (select(form, errors, "subjectNameIdFormat", "Name ID format", Some("The NameID carries the person's application username."), &NAME_ID_FORMATS.map(|f| (f, f.rsplit(':').next().unwrap_or(f)))))
            (select(form, errors, "authnContextClassRef", "Authentication context class", None, &CLASS_REFS))
            (checkbox(form, &path("honorForceAuthn"), "Honor ForceAuthn", Some("When the app asks for ForceAuthn, the person signs in again.")))
            (checkbox(form, &path("allowSpInitiated"), "Allow SP-initiated sign-in", Some("Uncheck to accept sign-ins only from the dashboard.")))
            (text("samlAssertionLifetimeSeconds", "Assertion validity (seconds)", Input::Hinted("How long an assertion is valid after it is issued: 60 to 3600 seconds (default 300)."), false))
        }
        fieldset {
            legend { "Signatures" }
            (group_error(&path("responseSigned"), errors))
            (group_error(&path("assertionSigned"), errors))
            label class="choice" {
                input type="checkbox" name=(path("responseSigned")) value="true" checked[form.checked(&path("responseSigned"))];
                " Sign the response"
            }
            label class="choice" {
                input type="checkbox" name=(path("assertionSigned")) value="true" checked[form.checked(&path("assertionSigned"))];
                " Sign the assertion"
            }
            (select(form, errors, "signatureAlgorithm", "Signature algorithm", None, &SIGNATURE_ALGORITHMS))
            div class=(if sha1 { "warning" } else { "hint-box" }) role=[sha1.then_some("alert")] {
                p { strong { "RSA-SHA1 is weak. " } "SHA-1 collisions are practical, so SHA-1 signatures can in principle be forged. Use it only for an app that accepts nothing else, and only with this box checked." }
                (checkbox(form, &path("allowWeakSignatureAlgorithm"), "Allow RSA-SHA1 for this app (not recommended)", None))
            }
            (select(form, errors, "digestAlgorithm", "Digest algorithm", None, &[("SHA256", "SHA-256")]))
        }
        fieldset {
            legend { "Assertion encryption" }
            (checkbox(form, &path("assertionEncryption.enabled"), "Encrypt assertions", Some("To the SP's certificate, below (or its signing certificate if none is given).")))
            (select(form, errors, "assertionEncryption.encryptionAlgorithm", "Encryption algorithm", None, &ENCRYPTION_ALGORITHMS))
            (select(form, errors, "assertionEncryption.keyTransportAlgorithm", "Key transport algorithm", None, &KEY_TRANSPORTS))
            (textarea(form, errors, &path("assertionEncryption.x5c"), "SP encryption certificate", "PEM (-----BEGIN CERTIFICATE-----) or base64.", 5))
        }
        fieldset {
            legend { "Attribute statements" }
            (group_error(&path("attributeStatements"), errors))
            table class="rows" id=(field_id(&path("attributeStatements"))) {
                caption { "Attributes from the profile" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Name format" } th scope="col" { "Value" } } }
                tbody {
                    @for i in 0..attribute_rows {
                        tr {
                            td { (cell(form, &path(&format!("attributeStatements[{i}].name")), &format!("Attribute {} name", i + 1))) }
                            td { (cell_select(form, &path(&format!("attributeStatements[{i}].namespace")), &format!("Attribute {} name format", i + 1), &NAME_FORMATS)) }
                            td { (cell(form, &path(&format!("attributeStatements[{i}].values")), &format!("Attribute {} value (e.g. user.email)", i + 1))) }
                        }
                    }
                }
            }
            p class="hint" { "A value is a profile expression such as user.email or ${source.firstName}, or literal text." }
            table class="rows" {
                caption { "Group attribute statements" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Name format" } th scope="col" { "Filter" } th scope="col" { "Value" } } }
                tbody {
                    @for i in 0..group_rows {
                        tr {
                            td { (cell(form, &path(&format!("groupAttributeStatements[{i}].name")), &format!("Group attribute {} name", i + 1))) }
                            td { (cell_select(form, &path(&format!("groupAttributeStatements[{i}].namespace")), &format!("Group attribute {} name format", i + 1), &NAME_FORMATS)) }
                            td { (cell_select(form, &path(&format!("groupAttributeStatements[{i}].filterType")), &format!("Group attribute {} filter", i + 1), &GROUP_FILTERS)) }
                            td { (cell(form, &path(&format!("groupAttributeStatements[{i}].filterValue")), &format!("Group attribute {} filter value", i + 1))) }
                        }
                    }
                }
            }
        }
        fieldset {
            legend { "Signed requests" }
            (checkbox(form, &path("samlSignedRequestEnabled"), "Require signed AuthnRequests", Some("Requests must be signed with the SP certificate below.")))
            (textarea(form, errors, &path("spCertificate.x5c"), "SP signing certificate", "The certificate the SP signs requests and logout messages with: PEM or base64.", 5))
        }
        fieldset {
            legend { "Single logout" }
            (checkbox(form, &path("slo.enabled"), "Allow the app to send logout requests", Some("SP-initiated logout: the app's signed LogoutRequest ends the person's session here.")))
            (text("slo.logoutUrl", "SP single logout URL", Input::Hinted("Where our LogoutResponse goes."), false))
            (text("slo.issuer", "SP issuer", Input::Hinted("The Issuer on the app's logout messages; its entity ID if left empty."), false))
            (checkbox(form, &path("participateSlo.enabled"), "Sign the person out of this app when they sign out here", None))
            (text("participateSlo.logoutRequestUrl", "SP logout request URL", Input::Hinted("Where our LogoutRequest goes at dashboard sign-out."), false))
            (select(form, errors, "participateSlo.bindingType", "Logout request binding", None, &BINDINGS))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn the_form_round_trips_through_settings() {
        let mut pairs: Vec<(String, String)> = defaults().into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        pairs.extend([
            ("settings.signOn.ssoAcsUrl", "https://sp.example/acs"),
            ("settings.signOn.audience", "https://sp.example"),
            ("settings.signOn.allowMultipleAcsEndpoints", "true"),
            ("settings.signOn.acsEndpoints[0].index", "0"),
            ("settings.signOn.acsEndpoints[0].url", "https://sp.example/acs"),
            ("settings.signOn.acsEndpoints[1].index", ""),
            ("settings.signOn.acsEndpoints[1].url", "https://sp.example/acs2"),
            ("settings.signOn.attributeStatements[0].name", "email"),
            ("settings.signOn.attributeStatements[0].namespace", NAME_FORMATS[1].0),
            ("settings.signOn.attributeStatements[0].values", "user.email"),
            ("settings.signOn.groupAttributeStatements[0].name", "groups"),
            ("settings.signOn.groupAttributeStatements[0].namespace", NAME_FORMATS[0].0),
            ("settings.signOn.groupAttributeStatements[0].filterType", "STARTS_WITH"),
            ("settings.signOn.groupAttributeStatements[0].filterValue", "Eng"),
        ].map(|(k, v)| (k.to_owned(), v.to_owned())));
        let s = sign_on(&Fields(pairs));
        assert_eq!(s["acsEndpoints"], json!([{"url": "https://sp.example/acs", "index": 0}, {"url": "https://sp.example/acs2", "index": 1}]));
        assert_eq!(s["attributeStatements"][1], json!({"type": "GROUP", "name": "groups", "namespace": NAME_FORMATS[0].0, "filterType": "STARTS_WITH", "filterValue": "Eng"}));
        assert_eq!(s["recipient"], Value::Null);
        assert_eq!(s["samlAssertionLifetimeSeconds"], 300);
        assert_eq!(s["allowWeakSignatureAlgorithm"], false);
        // Drawn again from the stored settings, the form says the same.
        let again = sign_on(&Fields(from_sign_on(&s)));
        assert_eq!(Value::Object(again), Value::Object(s));
    }

    #[test]
    fn certificates_are_pem_blocks_or_base64() {
        assert_eq!(certificates("-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nR0hJ\n-----END CERTIFICATE-----"), vec![Value::from("QUJDREVG"), Value::from("R0hJ")]);
        assert_eq!(certificates(" QUJD REVG "), vec![Value::from("QUJDREVG")]);
        assert!(certificates("  ").is_empty());
    }

    #[test]
    fn metadata_import_fills_the_form_for_review() {
        let metadata = include_str!("../../../../../protocols/saml/tests/fixtures/sp-metadata.xml");
        let (fields, errors) = import_metadata(&form(&[("label", "Expenses"), ("spMetadata", metadata), ("settings.signOn.audience", "old")])).unwrap();
        assert!(errors.is_empty());
        assert_eq!(fields.get("label"), "Expenses");
        assert_eq!(fields.get("settings.signOn.audience"), "https://sp.example.com");
        assert_eq!(fields.get("settings.signOn.ssoAcsUrl"), "https://sp.example.com/acs");
        assert!(fields.checked("settings.signOn.samlSignedRequestEnabled"));
        assert!(fields.get("settings.signOn.spCertificate.x5c").starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(fields.get("spMetadata"), "");
        assert!(fields.checked("importedFromMetadata"));
        let (_, errors) = import_metadata(&form(&[("spMetadata", "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>")])).unwrap();
        assert!(errors.get("spMetadata").is_some(), "a DTD is refused, by field");
        assert!(import_metadata(&form(&[("label", "x")])).is_none());
        let (_, errors) = import_metadata(&form(&[("label", "x"), ("importMetadata", "true")])).unwrap();
        assert!(errors.get("spMetadata").is_some(), "the import button never saves");
    }
}
