//! An app's SAML options, read from Okta's `settings.signOn` shape into the
//! types the `saml` crate decides with. Read on each request from the cached
//! app, so an update takes effect as soon as the app cache is invalidated.

use saml::{
    AlgorithmPolicy, AssertionConsumerService, AssertionEncryption, Binding, ContentEncryption, GroupFilter,
    KeyTransport, NameIdFormat, SamlError, ServiceProvider, SignatureAlgorithm, SignaturePolicy, TrustedKey,
};
use serde_json::{Map, Value};

use crate::apps::AppInstance;

/// Okta's default AuthnContextClassRef: a password over TLS.
pub const PASSWORD_PROTECTED_TRANSPORT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// One `attributeStatements` entry.
#[derive(Debug, Clone)]
pub enum AttributeStatement {
    /// Values are profile expressions (`user.email`, `${source.login}`) or literal text.
    Expression { name: String, name_format: Option<String>, values: Vec<String> },
    /// The names of the person's groups that pass the filter.
    Group { name: String, name_format: Option<String>, filter: GroupFilter },
}

/// Where and how the app receives LogoutResponses (`settings.signOn.slo`).
#[derive(Debug, Clone)]
pub struct SingleLogout {
    /// The SP's SLO URL our LogoutResponse goes to.
    pub logout_url: String,
    /// The SP's Issuer on logout messages (`slo.issuer`, else the audience).
    pub issuer: String,
}

/// Where we send our LogoutRequest when the person signs out of Vestibule
/// (`settings.signOn.participateSlo`).
#[derive(Debug, Clone)]
pub struct ParticipateSlo {
    pub logout_request_url: String,
    /// HTTP-Redirect (`bindingType: REDIRECT`, the default), else HTTP-POST.
    pub redirect: bool,
}

/// The opt-in that lets an app use RSA-SHA1 (Okta style; Okta itself has no
/// such flag): SHA-1 signatures are forgeable in principle, so choosing them
/// must be a separate, deliberate act, and the Admin Console warns about it.
pub const ALLOW_WEAK_SIGNATURE: &str = "allowWeakSignatureAlgorithm";

/// Okta's `samlAssertionLifetimeSeconds`, bounded here: long enough for a
/// slow SP and its clock, short enough that a captured assertion is soon
/// useless.
pub const ASSERTION_LIFETIME_SECONDS: std::ops::RangeInclusive<u64> = 60..=3600;
pub const DEFAULT_ASSERTION_LIFETIME_SECONDS: u64 = 300;

/// Everything a SAML launch of this app needs from its settings.
#[derive(Debug)]
pub struct SamlApp {
    pub acs_url: String,
    pub recipient: String,
    pub destination: String,
    pub audience: String,
    pub default_relay_state: Option<String>,
    pub name_id_format: NameIdFormat,
    pub signing: SignaturePolicy,
    pub allow_sha1: bool,
    pub honor_force_authn: bool,
    /// `allowSpInitiated` (default true): false answers AuthnRequests with a
    /// refusal, so the app can only be launched from the dashboard.
    pub allow_sp_initiated: bool,
    /// NotOnOrAfter of the assertion's conditions and subject confirmation.
    pub assertion_lifetime: time::Duration,
    pub authn_context_class_ref: String,
    pub attribute_statements: Vec<AttributeStatement>,
    pub acs_endpoints: Vec<AssertionConsumerService>,
    pub require_signed_requests: bool,
    /// The SP's certificates (base64 DER), for its signed requests and logout messages.
    pub sp_certificates: Vec<String>,
    pub encryption: Option<AssertionEncryption>,
    pub slo: Option<SingleLogout>,
    pub participate_slo: Option<ParticipateSlo>,
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn flag(map: &Map<String, Value>, key: &str, default: bool) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

/// The first certificate of an Okta `x5c` array, as compact base64 DER.
fn x5c(map: Option<&Map<String, Value>>) -> Vec<String> {
    map.and_then(|m| m.get("x5c"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(pem_or_base64)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Accepts a certificate pasted as PEM or as bare base64 DER.
fn pem_or_base64(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_ascii_whitespace())
        .collect()
}

pub fn signature_algorithm(name: Option<&str>) -> Result<SignatureAlgorithm, String> {
    match name.unwrap_or("RSA_SHA256") {
        "RSA_SHA256" => Ok(SignatureAlgorithm::RsaSha256),
        "RSA_SHA384" => Ok(SignatureAlgorithm::RsaSha384),
        "RSA_SHA512" => Ok(SignatureAlgorithm::RsaSha512),
        "RSA_SHA1" => Ok(SignatureAlgorithm::RsaSha1),
        other => Err(format!("signatureAlgorithm {other:?} is not RSA_SHA256, RSA_SHA384, RSA_SHA512 or RSA_SHA1")),
    }
}

impl SamlApp {
    /// Reads the app's SAML settings. An error names the setting that is wrong.
    pub fn from_app(app: &AppInstance) -> Result<Self, String> {
        let empty = Map::new();
        let sign_on = object(&app.settings, "signOn").unwrap_or(&empty);
        let acs_url = text(sign_on, "ssoAcsUrl").ok_or("settings.signOn.ssoAcsUrl is not set")?;
        let audience = text(sign_on, "audience").ok_or("settings.signOn.audience is not set")?;
        let name_id_format = match text(sign_on, "subjectNameIdFormat") {
            None => NameIdFormat::Unspecified,
            // Okta writes x509SubjectName with a lower-case x.
            Some(uri) => NameIdFormat::ALL
                .into_iter()
                .find(|f| f.uri().eq_ignore_ascii_case(&uri))
                .ok_or_else(|| format!("subjectNameIdFormat {uri:?} is not supported"))?,
        };
        let algorithm = signature_algorithm(sign_on.get("signatureAlgorithm").and_then(Value::as_str))?;
        let allow_sha1 = flag(sign_on, ALLOW_WEAK_SIGNATURE, false);
        if algorithm == SignatureAlgorithm::RsaSha1 && !allow_sha1 {
            return Err(format!("signatureAlgorithm RSA_SHA1 needs {ALLOW_WEAK_SIGNATURE}: true"));
        }
        let lifetime = match sign_on.get("samlAssertionLifetimeSeconds") {
            None | Some(Value::Null) => DEFAULT_ASSERTION_LIFETIME_SECONDS,
            Some(v) => v
                .as_u64()
                .filter(|n| ASSERTION_LIFETIME_SECONDS.contains(n))
                .ok_or("samlAssertionLifetimeSeconds is not a number of seconds from 60 to 3600")?,
        };
        let mut signing = SignaturePolicy {
            sign_assertion: flag(sign_on, "assertionSigned", true),
            sign_response: flag(sign_on, "responseSigned", true),
            algorithm,
        };
        if !signing.sign_assertion && !signing.sign_response {
            // Okta requires one of the two; never send an unsigned assertion.
            signing.sign_assertion = true;
        }
        let mut acs_endpoints = vec![AssertionConsumerService {
            url: acs_url.clone(),
            index: None,
            binding: Binding::HttpPost,
            is_default: true,
        }];
        if flag(sign_on, "allowMultipleAcsEndpoints", false) {
            for endpoint in sign_on.get("acsEndpoints").and_then(Value::as_array).into_iter().flatten() {
                let Some(url) = endpoint.get("url").and_then(Value::as_str) else { continue };
                let index = endpoint.get("index").and_then(Value::as_u64).and_then(|i| u16::try_from(i).ok());
                if url == acs_url {
                    // The default ACS also answers to its index.
                    acs_endpoints[0].index = acs_endpoints[0].index.or(index);
                    continue;
                }
                acs_endpoints.push(AssertionConsumerService {
                    url: url.to_owned(),
                    index,
                    binding: Binding::HttpPost,
                    is_default: false,
                });
            }
        }
        let sp_certificates = x5c(object(sign_on, "spCertificate"));
        let encryption = match object(sign_on, "assertionEncryption") {
            Some(e) if flag(e, "enabled", false) => {
                let content = match e.get("encryptionAlgorithm").and_then(Value::as_str).unwrap_or("AES256_GCM") {
                    "AES256_GCM" => ContentEncryption::Aes256Gcm,
                    "AES256_CBC" => ContentEncryption::Aes256Cbc,
                    other => return Err(format!("assertionEncryption.encryptionAlgorithm {other:?} is not AES256_GCM or AES256_CBC")),
                };
                let transport = match e.get("keyTransportAlgorithm").and_then(Value::as_str).unwrap_or("RSA_OAEP") {
                    "RSA_OAEP" => KeyTransport::RsaOaepMgf1p,
                    "RSA_OAEP_SHA256" => KeyTransport::RsaOaep,
                    other => return Err(format!("assertionEncryption.keyTransportAlgorithm {other:?} is not RSA_OAEP")),
                };
                let certificate = x5c(Some(e))
                    .into_iter()
                    .next()
                    .or_else(|| sp_certificates.first().cloned())
                    .ok_or("assertionEncryption.x5c: the SP's encryption certificate is not set")?;
                Some(
                    AssertionEncryption::from_certificate_base64(&certificate, content, transport)
                        .map_err(|e| format!("assertionEncryption.x5c: {e}"))?,
                )
            }
            _ => None,
        };
        let mut attribute_statements = Vec::new();
        for statement in sign_on.get("attributeStatements").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = statement.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
            let name_format = statement.get("namespace").and_then(Value::as_str).map(str::to_owned);
            let kind = statement.get("type").and_then(Value::as_str).unwrap_or("EXPRESSION");
            if kind == "GROUP" {
                let value = statement.get("filterValue").and_then(Value::as_str).unwrap_or("").to_owned();
                let kind = statement.get("filterType").and_then(Value::as_str).unwrap_or("REGEX");
                let filter = GroupFilter::new(kind, &value)
                    .map_err(|e| format!("attributeStatements {name}: {e}"))?;
                attribute_statements.push(AttributeStatement::Group { name: name.to_owned(), name_format, filter });
            } else {
                let values = statement
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default();
                attribute_statements.push(AttributeStatement::Expression { name: name.to_owned(), name_format, values });
            }
        }
        let slo = match object(sign_on, "slo") {
            Some(s) if flag(s, "enabled", false) => Some(SingleLogout {
                logout_url: text(s, "logoutUrl").ok_or("settings.signOn.slo.logoutUrl is not set")?,
                issuer: text(s, "issuer").or_else(|| text(sign_on, "spIssuer")).unwrap_or_else(|| audience.clone()),
            }),
            _ => None,
        };
        let participate_slo = match object(sign_on, "participateSlo") {
            Some(p) if flag(p, "enabled", false) => Some(ParticipateSlo {
                logout_request_url: text(p, "logoutRequestUrl")
                    .ok_or("settings.signOn.participateSlo.logoutRequestUrl is not set")?,
                redirect: p.get("bindingType").and_then(Value::as_str) != Some("POST"),
            }),
            _ => None,
        };
        Ok(SamlApp {
            participate_slo,
            recipient: text(sign_on, "recipient").unwrap_or_else(|| acs_url.clone()),
            destination: text(sign_on, "destination").unwrap_or_else(|| acs_url.clone()),
            default_relay_state: text(sign_on, "defaultRelayState"),
            allow_sha1,
            honor_force_authn: flag(sign_on, "honorForceAuthn", true),
            allow_sp_initiated: flag(sign_on, "allowSpInitiated", true),
            assertion_lifetime: time::Duration::seconds(i64::try_from(lifetime).unwrap_or(300)),
            authn_context_class_ref: text(sign_on, "authnContextClassRef")
                .unwrap_or_else(|| PASSWORD_PROTECTED_TRANSPORT.to_owned()),
            require_signed_requests: flag(sign_on, "samlSignedRequestEnabled", false),
            acs_url,
            audience,
            name_id_format,
            signing,
            attribute_statements,
            acs_endpoints,
            sp_certificates,
            encryption,
            slo,
        })
    }

    fn trusted_keys(&self) -> Result<Vec<TrustedKey>, SamlError> {
        self.sp_certificates.iter().map(|c| TrustedKey::from_certificate_base64(c)).collect()
    }

    /// The app as the AuthnRequest checks see it.
    pub fn service_provider(&self) -> Result<ServiceProvider, SamlError> {
        Ok(ServiceProvider {
            entity_id: self.audience.clone(),
            assertion_consumer_services: self.acs_endpoints.clone(),
            signing_keys: self.trusted_keys()?,
            require_signed_requests: self.require_signed_requests,
            algorithms: AlgorithmPolicy { allow_sha1: self.allow_sha1 },
            name_id_formats: vec![self.name_id_format],
        })
    }

    /// The app as the logout checks see it: the SP's logout Issuer, and
    /// signatures always required (a forged LogoutRequest would sign people out).
    pub fn logout_peer(&self) -> Result<ServiceProvider, SamlError> {
        let mut sp = self.service_provider()?;
        if let Some(slo) = &self.slo {
            sp.entity_id = slo.issuer.clone();
        }
        sp.require_signed_requests = true;
        Ok(sp)
    }

    /// Recipient and Destination for a response to `acs_url`: the configured
    /// ones for the default ACS, otherwise the ACS itself.
    pub fn recipient_and_destination(&self, acs_url: &str) -> (String, String) {
        if acs_url == self.acs_url {
            (self.recipient.clone(), self.destination.clone())
        } else {
            (acs_url.to_owned(), acs_url.to_owned())
        }
    }
}

const ATTRIBUTE_NAME_FORMATS: [&str; 3] = [
    "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
    "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
    "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
];

fn absolute_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some()) && text.len() <= 2048
}

/// Checks the SAML options `apps::validate` leaves to this protocol, as
/// "path: problem" lines in the shape of `apps::Causes`: everything a launch
/// reads must be usable, so a bad value is refused when saved rather than
/// found at the first sign-in.
pub fn validate(app: &AppInstance) -> Vec<String> {
    let mut causes = Vec::new();
    let mut add = |path: &str, problem: &str| causes.push(format!("settings.signOn.{path}: {problem}"));
    let empty = Map::new();
    let sign_on = object(&app.settings, "signOn").unwrap_or(&empty);
    if let Some(Value::String(name)) = sign_on.get("signatureAlgorithm") {
        match signature_algorithm(Some(name)) {
            Err(_) => add("signatureAlgorithm", "must be RSA_SHA256, RSA_SHA384, RSA_SHA512 or RSA_SHA1"),
            Ok(SignatureAlgorithm::RsaSha1) if !flag(sign_on, ALLOW_WEAK_SIGNATURE, false) => add(
                "signatureAlgorithm",
                "RSA_SHA1 is weak: choose RSA_SHA256, or set allowWeakSignatureAlgorithm to true if the app accepts nothing else",
            ),
            Ok(_) => {}
        }
    }
    for key in [ALLOW_WEAK_SIGNATURE, "allowSpInitiated", "honorForceAuthn", "assertionSigned", "responseSigned", "samlSignedRequestEnabled", "allowMultipleAcsEndpoints"] {
        if sign_on.get(key).is_some_and(|v| !v.is_boolean() && !v.is_null()) {
            add(key, "must be true or false");
        }
    }
    if let Some(v) = sign_on.get("samlAssertionLifetimeSeconds").filter(|v| !v.is_null()) {
        if !v.as_u64().is_some_and(|n| ASSERTION_LIFETIME_SECONDS.contains(&n)) {
            add("samlAssertionLifetimeSeconds", "must be a number of seconds from 60 to 3600");
        }
    }
    for key in ["recipient", "destination"] {
        if let Some(v) = sign_on.get(key).filter(|v| !v.is_null()) {
            if !v.as_str().is_some_and(|t| t.trim().is_empty() || absolute_url(t.trim())) {
                add(key, "must be an absolute http or https URL");
            }
        }
    }
    if let Some(Value::String(name)) = sign_on.get("digestAlgorithm") {
        if name != "SHA256" {
            add("digestAlgorithm", "must be SHA256");
        }
    }
    if !flag(sign_on, "assertionSigned", true) && !flag(sign_on, "responseSigned", true) {
        add("assertionSigned", "the assertion, the response or both must be signed");
    }
    let mut indexes = std::collections::HashSet::new();
    for (i, endpoint) in sign_on.get("acsEndpoints").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if !endpoint.get("url").and_then(Value::as_str).is_some_and(absolute_url) {
            add(&format!("acsEndpoints[{i}].url"), "must be an absolute http or https URL");
        }
        match endpoint.get("index").and_then(Value::as_u64).and_then(|n| u16::try_from(n).ok()) {
            Some(index) if indexes.insert(index) => {}
            Some(_) => add(&format!("acsEndpoints[{i}].index"), "is used by another endpoint"),
            None => add(&format!("acsEndpoints[{i}].index"), "must be a number from 0 to 65535"),
        }
    }
    let certificates = |map: Option<&Map<String, Value>>| -> Result<usize, ()> {
        let list = x5c(map);
        for c in &list {
            TrustedKey::from_certificate_base64(c).map_err(|_| ())?;
        }
        Ok(list.len())
    };
    let sp_certificates = match certificates(object(sign_on, "spCertificate")) {
        Ok(n) => n,
        Err(()) => {
            add("spCertificate.x5c", "must hold X.509 certificates (base64 DER or PEM)");
            0
        }
    };
    if flag(sign_on, "samlSignedRequestEnabled", false) && sp_certificates == 0 {
        add("spCertificate.x5c", "signed requests need the SP's certificate");
    }
    if let Some(e) = object(sign_on, "assertionEncryption") {
        if e.get("encryptionAlgorithm").and_then(Value::as_str).is_some_and(|a| a != "AES256_GCM" && a != "AES256_CBC") {
            add("assertionEncryption.encryptionAlgorithm", "must be AES256_GCM or AES256_CBC");
        }
        if e.get("keyTransportAlgorithm").and_then(Value::as_str).is_some_and(|a| a != "RSA_OAEP" && a != "RSA_OAEP_SHA256") {
            add("assertionEncryption.keyTransportAlgorithm", "must be RSA_OAEP");
        }
        match certificates(Some(e)) {
            Err(()) => add("assertionEncryption.x5c", "must hold the SP's X.509 encryption certificate"),
            Ok(0) if flag(e, "enabled", false) && sp_certificates == 0 => {
                add("assertionEncryption.x5c", "encryption needs the SP's certificate")
            }
            Ok(_) => {}
        }
    }
    let mut names = std::collections::HashSet::new();
    for (i, statement) in sign_on.get("attributeStatements").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let path = format!("attributeStatements[{i}]");
        match statement.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
            Some(name) if names.insert(name.to_owned()) => {}
            Some(_) => add(&format!("{path}.name"), "must be unique across attribute statements"),
            None => add(&format!("{path}.name"), "The field cannot be left blank"),
        }
        if statement.get("namespace").and_then(Value::as_str).is_some_and(|n| !ATTRIBUTE_NAME_FORMATS.contains(&n)) {
            add(&format!("{path}.namespace"), "must be a SAML attrname-format (basic, uri or unspecified)");
        }
        match statement.get("type").and_then(Value::as_str).unwrap_or("EXPRESSION") {
            "EXPRESSION" => {
                if !statement.get("values").is_none_or(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string))) {
                    add(&format!("{path}.values"), "must be a list of strings");
                }
            }
            "GROUP" => {
                let kind = statement.get("filterType").and_then(Value::as_str).unwrap_or("REGEX");
                let value = statement.get("filterValue").and_then(Value::as_str).unwrap_or("");
                if GroupFilter::new(kind, value).is_err() {
                    add(&format!("{path}.filterValue"), "must be STARTS_WITH, EQUALS, CONTAINS or a valid REGEX");
                }
            }
            _ => add(&format!("{path}.type"), "must be EXPRESSION or GROUP"),
        }
    }
    if let Some(slo) = object(sign_on, "slo").filter(|s| flag(s, "enabled", false)) {
        if !slo.get("logoutUrl").and_then(Value::as_str).is_some_and(absolute_url) {
            add("slo.logoutUrl", "must be an absolute http or https URL");
        }
        if sp_certificates == 0 {
            add("spCertificate.x5c", "single logout needs the SP's certificate: logout requests must be signed");
        }
    }
    if let Some(participate) = object(sign_on, "participateSlo").filter(|p| flag(p, "enabled", false)) {
        if !participate.get("logoutRequestUrl").and_then(Value::as_str).is_some_and(absolute_url) {
            add("participateSlo.logoutRequestUrl", "must be an absolute http or https URL");
        }
        if participate.get("bindingType").and_then(Value::as_str).is_some_and(|b| b != "REDIRECT" && b != "POST") {
            add("participateSlo.bindingType", "must be REDIRECT or POST");
        }
        if sp_certificates == 0 {
            add("spCertificate.x5c", "single logout needs the SP's certificate: logout responses must be signed");
        }
    }
    if causes.is_empty() {
        if let Err(problem) = SamlApp::from_app(app) {
            causes.push(format!("settings.signOn: {problem}"));
        }
    }
    causes
}

/// The `settings.signOn` values an SP's metadata gives, in Okta's shape, for
/// the wizard's and the API's "import SP metadata" to merge into an app:
/// entity ID, the HTTP-POST ACS endpoints (others cannot receive our
/// responses), certificates, single logout (HTTP-Redirect preferred, else
/// HTTP-POST, for both directions) and the NameID format. Assertion
/// encryption gets the SP's certificate but stays off until an admin turns it on.
pub fn sign_on_from_sp_metadata(xml: &[u8]) -> Result<Map<String, Value>, SamlError> {
    let metadata = saml::parse_sp_metadata(xml)?;
    let posts: Vec<&AssertionConsumerService> =
        metadata.assertion_consumer_services.iter().filter(|a| a.binding == Binding::HttpPost).collect();
    let default = posts.iter().find(|a| a.is_default).or_else(|| posts.first()).ok_or(SamlError::Missing("HTTP-POST AssertionConsumerService"))?;
    let mut sign_on = Map::new();
    sign_on.insert("audience".into(), Value::from(metadata.entity_id.clone()));
    sign_on.insert("ssoAcsUrl".into(), Value::from(default.url.clone()));
    sign_on.insert("allowMultipleAcsEndpoints".into(), Value::from(posts.len() > 1));
    let endpoints: Vec<Value> = posts
        .iter()
        .enumerate()
        .map(|(i, a)| serde_json::json!({ "url": a.url, "index": a.index.map_or(i as u64, u64::from) }))
        .collect();
    sign_on.insert("acsEndpoints".into(), Value::from(endpoints));
    if let Some(format) = metadata.name_id_formats.iter().find_map(|f| NameIdFormat::ALL.into_iter().find(|n| n.uri().eq_ignore_ascii_case(f))) {
        sign_on.insert("subjectNameIdFormat".into(), Value::from(format.uri()));
    }
    if let Some(certificate) = metadata.signing_certificates.first() {
        sign_on.insert("spCertificate".into(), serde_json::json!({ "x5c": [certificate] }));
    }
    sign_on.insert(
        "samlSignedRequestEnabled".into(),
        Value::from(metadata.authn_requests_signed && !metadata.signing_certificates.is_empty()),
    );
    sign_on.insert("assertionSigned".into(), Value::from(true));
    if let Some(certificate) = metadata.encryption_certificates.first() {
        sign_on.insert(
            "assertionEncryption".into(),
            serde_json::json!({ "enabled": false, "encryptionAlgorithm": "AES256_GCM", "keyTransportAlgorithm": "RSA_OAEP", "x5c": [certificate] }),
        );
    }
    let slo = metadata
        .single_logout_services
        .iter()
        .find(|e| e.binding == Binding::HttpRedirect)
        .or_else(|| metadata.single_logout_services.iter().find(|e| e.binding == Binding::HttpPost));
    if let Some(endpoint) = slo {
        let response_url = endpoint.response_location.clone().unwrap_or_else(|| endpoint.location.clone());
        sign_on.insert("spIssuer".into(), Value::from(metadata.entity_id.clone()));
        sign_on.insert("slo".into(), serde_json::json!({ "enabled": true, "issuer": metadata.entity_id, "logoutUrl": response_url }));
        let binding = if endpoint.binding == Binding::HttpRedirect { "REDIRECT" } else { "POST" };
        sign_on.insert(
            "participateSlo".into(),
            serde_json::json!({ "enabled": true, "logoutRequestUrl": endpoint.location, "bindingType": binding, "sessionIndexRequired": true }),
        );
    }
    Ok(sign_on)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;

    fn app(sign_on: Value) -> AppInstance {
        AppInstance {
            id: "0oa1".into(),
            name: "x".into(),
            label: "X".into(),
            status: crate::apps::AppStatus::Active,
            sign_on_mode: crate::apps::SignOnMode::Saml2,
            catalog_name: None,
            settings: json!({ "signOn": sign_on }).as_object().cloned().unwrap_or_default(),
            credentials: crate::apps::default_credentials(),
            visibility: crate::apps::default_visibility(),
            accessibility: crate::apps::default_accessibility(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_updated: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn validation_names_each_field() {
        let base = json!({"ssoAcsUrl": "https://sp.example/acs", "audience": "https://sp.example"});
        let with = |extra: Value| {
            let mut s = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                s[k] = v.clone();
            }
            validate(&app(s)).into_iter().map(|c| c.split(':').next().unwrap().to_owned()).collect::<Vec<_>>()
        };
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({}), vec![]),
            (json!({"signatureAlgorithm": "RSA_MD5"}), vec!["settings.signOn.signatureAlgorithm"]),
            (json!({"assertionSigned": false, "responseSigned": false}), vec!["settings.signOn.assertionSigned"]),
            (json!({"acsEndpoints": [{"url": "https://a/acs", "index": 0}, {"url": "x", "index": 0}]}), vec!["settings.signOn.acsEndpoints[1].url", "settings.signOn.acsEndpoints[1].index"]),
            (json!({"samlSignedRequestEnabled": true}), vec!["settings.signOn.spCertificate.x5c"]),
            (json!({"spCertificate": {"x5c": ["bm90IGEgY2VydA=="]}}), vec!["settings.signOn.spCertificate.x5c"]),
            (json!({"assertionEncryption": {"enabled": true}}), vec!["settings.signOn.assertionEncryption.x5c"]),
            (json!({"attributeStatements": [{"name": "a", "values": ["user.email"]}, {"name": "a", "type": "GROUP", "filterType": "REGEX", "filterValue": "("}]}), vec!["settings.signOn.attributeStatements[1].name", "settings.signOn.attributeStatements[1].filterValue"]),
            (json!({"slo": {"enabled": true, "logoutUrl": "nope"}}), vec!["settings.signOn.slo.logoutUrl", "settings.signOn.spCertificate.x5c"]),
            (json!({"participateSlo": {"enabled": true, "bindingType": "ARTIFACT"}}), vec!["settings.signOn.participateSlo.logoutRequestUrl", "settings.signOn.participateSlo.bindingType", "settings.signOn.spCertificate.x5c"]),
            (json!({"signatureAlgorithm": "RSA_SHA1"}), vec!["settings.signOn.signatureAlgorithm"]),
            (json!({"signatureAlgorithm": "RSA_SHA1", "allowWeakSignatureAlgorithm": true}), vec![]),
            (json!({"allowWeakSignatureAlgorithm": "yes"}), vec!["settings.signOn.allowWeakSignatureAlgorithm"]),
            (json!({"samlAssertionLifetimeSeconds": 59}), vec!["settings.signOn.samlAssertionLifetimeSeconds"]),
            (json!({"samlAssertionLifetimeSeconds": 3601}), vec!["settings.signOn.samlAssertionLifetimeSeconds"]),
            (json!({"samlAssertionLifetimeSeconds": 600}), vec![]),
            (json!({"recipient": "not a url"}), vec!["settings.signOn.recipient"]),
        ];
        for (extra, expected) in cases {
            assert_eq!(with(extra.clone()), expected, "{extra}");
        }
    }

    #[test]
    fn sp_metadata_import_fills_the_settings() {
        let sign_on = sign_on_from_sp_metadata(include_bytes!("../../../protocols/saml/tests/fixtures/sp-metadata.xml")).unwrap();
        assert_eq!(sign_on["audience"], "https://sp.example.com");
        assert_eq!(sign_on["ssoAcsUrl"], "https://sp.example.com/acs", "the Artifact default cannot receive a POST");
        assert_eq!(sign_on["acsEndpoints"], json!([{"url": "https://sp.example.com/acs", "index": 0}]));
        assert_eq!(sign_on["subjectNameIdFormat"], NameIdFormat::EmailAddress.uri());
        assert_eq!(sign_on["samlSignedRequestEnabled"], true);
        assert_eq!(sign_on["slo"]["logoutUrl"], "https://sp.example.com/slo/done");
        assert_eq!(sign_on["participateSlo"]["logoutRequestUrl"], "https://sp.example.com/slo");
        assert_eq!(sign_on["assertionEncryption"]["enabled"], false);
        assert_eq!(sign_on["participateSlo"]["bindingType"], "REDIRECT");
        let imported = app(Value::Object(sign_on));
        assert_eq!(validate(&imported), Vec::<String>::new());
        assert!(SamlApp::from_app(&imported).unwrap().require_signed_requests);
        // An SP whose single logout takes only HTTP-POST gets our LogoutRequests by POST.
        let post_only = include_str!("../../../protocols/saml/tests/fixtures/sp-metadata.xml")
            .replace("SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\"", "SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"");
        let sign_on = sign_on_from_sp_metadata(post_only.as_bytes()).unwrap();
        assert_eq!(sign_on["participateSlo"]["bindingType"], "POST");
        assert!(!SamlApp::from_app(&app(Value::Object(sign_on))).unwrap().participate_slo.unwrap().redirect);
    }

    #[test]
    fn okta_defaults() {
        let saml = SamlApp::from_app(&app(json!({"ssoAcsUrl": "https://sp.example/acs", "audience": "urn:sp"}))).unwrap();
        assert!(saml.signing.sign_assertion && saml.signing.sign_response);
        assert_eq!(saml.signing.algorithm, SignatureAlgorithm::RsaSha256);
        assert_eq!(saml.name_id_format, NameIdFormat::Unspecified);
        assert_eq!(saml.recipient, "https://sp.example/acs");
        assert!(saml.honor_force_authn && !saml.require_signed_requests && saml.encryption.is_none() && saml.slo.is_none());
        assert!(saml.allow_sp_initiated && !saml.allow_sha1);
        assert_eq!(saml.assertion_lifetime, time::Duration::minutes(5));
        assert_eq!(saml.authn_context_class_ref, PASSWORD_PROTECTED_TRANSPORT);
        let x509 = SamlApp::from_app(&app(json!({"ssoAcsUrl": "https://sp.example/acs", "audience": "urn:sp", "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:x509SubjectName"}))).unwrap();
        assert_eq!(x509.name_id_format, NameIdFormat::X509SubjectName, "Okta's lower-case x");
    }
}
