//! AuthnRequests: reading them, and the checks an identity provider runs
//! before answering one (SAML core §3.4, profiles §4.1.4.1).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use vestibule_core::Clock;

use crate::binding::{Binding, InboundMessage};
use crate::dsig::VerifiedSignature;
use crate::xml::{Element, NS_SAML, NS_SAMLP};
use crate::{AlgorithmPolicy, NameIdFormat, SamlError, TrustedKey};

/// Remembers message IDs so each is used once while it could still be
/// accepted (SAML core §1.3.4 uniqueness; profiles §4.1.4.5 replay).
///
/// The gateway implements it over its cache; tests use a `HashMap`.
pub trait ReplayCache: Send + Sync {
    /// Records `id` from `issuer` until `expires_at`. Returns `false` if it
    /// was already recorded and has not expired, i.e. this is a replay.
    fn first_use(&self, issuer: &str, id: &str, expires_at: OffsetDateTime) -> bool;
}

/// One of an SP's AssertionConsumerService endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionConsumerService {
    pub url: String,
    pub index: Option<u16>,
    pub binding: Binding,
    pub is_default: bool,
}

/// What the gateway knows about the app an AuthnRequest is for.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    /// The SP's entity ID, which must be the request's Issuer.
    pub entity_id: String,
    /// The registered ACS endpoints; the first is the default unless one is marked.
    pub assertion_consumer_services: Vec<AssertionConsumerService>,
    /// Keys the SP signs requests with, from our store.
    pub signing_keys: Vec<TrustedKey>,
    /// Reject unsigned requests (Okta's `Signed Requests`).
    pub require_signed_requests: bool,
    pub algorithms: AlgorithmPolicy,
    /// NameID formats this app can produce; a NameIDPolicy asking for another
    /// is refused. `unspecified` is always acceptable.
    pub name_id_formats: Vec<NameIdFormat>,
}

/// Identity-provider-wide settings for request checks.
#[derive(Debug, Clone)]
pub struct RequestPolicy {
    /// How far IssueInstant may be from our clock, either way.
    pub clock_skew: Duration,
    /// How long after IssueInstant a request may be answered; its ID is
    /// remembered this long (plus the skew).
    pub max_request_age: Duration,
    /// Our endpoint URLs a Destination may name (SSO or SLO, by binding).
    pub endpoints: Vec<String>,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy { clock_skew: Duration::minutes(3), max_request_age: Duration::minutes(5), endpoints: Vec::new() }
    }
}

/// `RequestedAuthnContext` (SAML core §3.3.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    /// `exact` (the default), `minimum`, `maximum` or `better`.
    pub comparison: String,
    pub class_refs: Vec<String>,
}

/// The fields of an AuthnRequest an IdP acts on (SAML core §3.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub version: String,
    pub issue_instant: OffsetDateTime,
    pub issuer: Option<String>,
    pub destination: Option<String>,
    pub assertion_consumer_service_url: Option<String>,
    pub assertion_consumer_service_index: Option<u16>,
    pub protocol_binding: Option<Binding>,
    pub name_id_policy_format: Option<String>,
    pub allow_create: Option<bool>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub requested_authn_context: Option<RequestedAuthnContext>,
}

pub(crate) fn expect_root<'m>(message: &'m InboundMessage, local: &'static str) -> Result<&'m Element, SamlError> {
    let root = &message.root;
    if root.is(NS_SAMLP, local) {
        Ok(root)
    } else {
        Err(SamlError::UnexpectedMessage { expected: local, found: format!("{{{}}}{}", root.ns, root.local_name()) })
    }
}

pub(crate) fn required<'a>(element: &'a Element, name: &'static str) -> Result<&'a str, SamlError> {
    element.get(name).ok_or(SamlError::Missing(name))
}

pub(crate) fn parse_instant(value: &str, field: &'static str) -> Result<OffsetDateTime, SamlError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| SamlError::Invalid { field, value: value.to_owned() })
}

/// `xs:boolean`: `true`, `false`, `1` or `0`.
pub(crate) fn parse_bool(value: Option<&str>, field: &'static str) -> Result<Option<bool>, SamlError> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(SamlError::Invalid { field, value: other.to_owned() }),
    }
}

impl AuthnRequest {
    /// Reads an AuthnRequest. Nothing in it is trusted until
    /// [`check_authn_request`] has run.
    pub fn from_message(message: &InboundMessage) -> Result<Self, SamlError> {
        let root = expect_root(message, "AuthnRequest")?;
        let index = root
            .get("AssertionConsumerServiceIndex")
            .map(|v| {
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| SamlError::Invalid { field: "AssertionConsumerServiceIndex", value: v.to_owned() })
            })
            .transpose()?;
        let policy = root.find(NS_SAMLP, "NameIDPolicy");
        let requested = root.find(NS_SAMLP, "RequestedAuthnContext").map(|e| RequestedAuthnContext {
            comparison: e.get("Comparison").unwrap_or("exact").to_owned(),
            class_refs: e
                .find_all(NS_SAML, "AuthnContextClassRef")
                .map(|c| c.text_content().trim().to_owned())
                .collect(),
        });
        Ok(AuthnRequest {
            id: required(root, "ID")?.to_owned(),
            version: required(root, "Version")?.to_owned(),
            issue_instant: parse_instant(required(root, "IssueInstant")?, "IssueInstant")?,
            issuer: root.child_text(NS_SAML, "Issuer"),
            destination: root.get("Destination").map(str::to_owned),
            assertion_consumer_service_url: root.get("AssertionConsumerServiceURL").map(str::to_owned),
            assertion_consumer_service_index: index,
            protocol_binding: root.get("ProtocolBinding").map(Binding::from_uri),
            name_id_policy_format: policy.and_then(|p| p.get("Format")).map(str::to_owned),
            allow_create: parse_bool(policy.and_then(|p| p.get("AllowCreate")), "AllowCreate")?,
            force_authn: parse_bool(root.get("ForceAuthn"), "ForceAuthn")?.unwrap_or(false),
            is_passive: parse_bool(root.get("IsPassive"), "IsPassive")?.unwrap_or(false),
            requested_authn_context: requested,
        })
    }
}

/// An AuthnRequest that passed every check, with what the response needs.
#[derive(Debug, Clone)]
pub struct AcceptedAuthnRequest {
    pub request: AuthnRequest,
    /// Where to post the Response: a registered ACS URL.
    pub acs_url: String,
    /// The NameID format asked for, if any other than unspecified.
    pub name_id_format: Option<NameIdFormat>,
    /// How it was signed, if it was.
    pub signature: Option<VerifiedSignature>,
    pub relay_state: Option<String>,
}

/// What the checks read.
struct Context<'a> {
    message: &'a InboundMessage,
    request: &'a AuthnRequest,
    sp: &'a ServiceProvider,
    now: OffsetDateTime,
}

/// SAML core §3.2.1: only Version 2.0 is understood.
fn check_version(c: &Context<'_>) -> Result<(), SamlError> {
    if c.request.version == "2.0" {
        Ok(())
    } else {
        Err(SamlError::VersionMismatch(c.request.version.clone()))
    }
}

/// SAML profiles §4.1.4.1: the Issuer must be present and name the SP.
pub(crate) fn check_issuer(issuer: Option<&str>, sp: &ServiceProvider) -> Result<(), SamlError> {
    match issuer {
        Some(issuer) if issuer == sp.entity_id => Ok(()),
        Some(other) => Err(SamlError::IssuerMismatch(other.to_owned())),
        None => Err(SamlError::Missing("Issuer")),
    }
}

/// SAML bindings §3.4.4.1 and §3.5.4 with SAML core §5: a signed message must
/// verify with the SP's keys; an unsigned one only passes when the app does not
/// require signatures.
pub(crate) fn check_signature(
    message: &InboundMessage,
    sp: &ServiceProvider,
) -> Result<Option<VerifiedSignature>, SamlError> {
    if message.is_signed() {
        message.verify_signature(&sp.signing_keys, &sp.algorithms).map(Some)
    } else if sp.require_signed_requests {
        Err(SamlError::SignatureMissing)
    } else {
        Ok(None)
    }
}

/// SAML core §1.3.3 and profiles §4.1.4.1: IssueInstant within the clock
/// skew of now, and not older than the request lifetime.
pub(crate) fn check_issue_instant(
    issue_instant: OffsetDateTime,
    policy: &RequestPolicy,
    now: OffsetDateTime,
) -> Result<(), SamlError> {
    // Checked arithmetic: an attacker's IssueInstant of 9999-12-31 must be a
    // refusal, not an overflow panic.
    let earliest = now.checked_sub(policy.max_request_age + policy.clock_skew);
    let latest = now.checked_add(policy.clock_skew);
    match (earliest, latest) {
        (Some(earliest), Some(latest)) if (earliest..=latest).contains(&issue_instant) => Ok(()),
        _ => Err(SamlError::IssueInstantOutOfRange),
    }
}

/// SAML bindings §3.4.5.2 and §3.5.5.2: a Destination, when present (it must
/// be for signed messages), names one of our endpoints.
pub(crate) fn check_destination(
    destination: Option<&str>,
    signed: bool,
    policy: &RequestPolicy,
) -> Result<(), SamlError> {
    match destination {
        Some(d) if policy.endpoints.iter().any(|e| e == d) => Ok(()),
        Some(d) => Err(SamlError::DestinationMismatch(d.to_owned())),
        None if signed => Err(SamlError::Missing("Destination")),
        None => Ok(()),
    }
}

/// SAML profiles §4.1.4.1: the response goes to a registered ACS, chosen by
/// URL or index, else the default. An unregistered URL is refused, never used.
fn resolve_acs(c: &Context<'_>) -> Result<String, SamlError> {
    let services = &c.sp.assertion_consumer_services;
    let chosen = match (&c.request.assertion_consumer_service_url, c.request.assertion_consumer_service_index) {
        (Some(_), Some(_)) => {
            return Err(SamlError::Invalid { field: "AssertionConsumerService", value: "both URL and index".into() })
        }
        (Some(url), None) => {
            services.iter().find(|s| &s.url == url).ok_or_else(|| SamlError::UnknownAcs(url.clone()))?
        }
        (None, Some(index)) => services
            .iter()
            .find(|s| s.index == Some(index))
            .ok_or_else(|| SamlError::UnknownAcs(format!("index {index}")))?,
        (None, None) => services
            .iter()
            .find(|s| s.is_default)
            .or_else(|| services.first())
            .ok_or_else(|| SamlError::UnknownAcs("no ACS registered".into()))?,
    };
    Ok(chosen.url.clone())
}

/// SAML profiles §4.1.2: responses are only sent with HTTP-POST here.
fn check_protocol_binding(c: &Context<'_>) -> Result<(), SamlError> {
    match &c.request.protocol_binding {
        None | Some(Binding::HttpPost) => Ok(()),
        Some(other) => Err(SamlError::UnsupportedBinding(other.uri().to_owned())),
    }
}

/// SAML core §3.4.1.1: a NameIDPolicy Format the app cannot produce is
/// answered with InvalidNameIDPolicy.
fn check_name_id_policy(c: &Context<'_>) -> Result<Option<NameIdFormat>, SamlError> {
    match c.request.name_id_policy_format.as_deref() {
        None => Ok(None),
        Some(uri) => match NameIdFormat::from_uri(uri) {
            Some(NameIdFormat::Unspecified) => Ok(None),
            Some(format) if c.sp.name_id_formats.contains(&format) => Ok(Some(format)),
            _ => Err(SamlError::InvalidNameIdPolicy(uri.to_owned())),
        },
    }
}

/// SAML core §1.3.4 and profiles §4.1.4.5: a request ID is used once while
/// the request could be accepted. Runs last, so a refused request does not
/// use up its ID.
pub(crate) fn check_replay(
    issuer: &str,
    id: &str,
    issue_instant: OffsetDateTime,
    policy: &RequestPolicy,
    replay: &dyn ReplayCache,
) -> Result<(), SamlError> {
    // The instant was checked to be near now, so this cannot overflow; fall
    // back to the instant itself rather than panic if it ever could.
    let expires_at = issue_instant.checked_add(policy.max_request_age + policy.clock_skew * 2).unwrap_or(issue_instant);
    if replay.first_use(issuer, id, expires_at) {
        Ok(())
    } else {
        Err(SamlError::Replay)
    }
}

/// Runs every check on an AuthnRequest, in this order:
///
/// | check | spec |
/// |---|---|
/// | it is an AuthnRequest, Version 2.0 | core §3.2.1 |
/// | Issuer is the SP | profiles §4.1.4.1 |
/// | signature, or unsigned allowed | bindings §3.4.4.1, §3.5.4 |
/// | IssueInstant within skew and age | core §1.3.3 |
/// | Destination is ours | bindings §3.4.5.2, §3.5.5.2 |
/// | ACS registered (URL, index or default) | profiles §4.1.4.1 |
/// | ProtocolBinding is HTTP-POST | profiles §4.1.2 |
/// | NameIDPolicy Format producible | core §3.4.1.1 |
/// | ID not seen before | profiles §4.1.4.5 |
///
/// `IsPassive` and `ForceAuthn` are left to the gateway, which knows the
/// session: answer [`SamlError::NoPassive`] when it would have to prompt.
pub fn check_authn_request(
    message: &InboundMessage,
    sp: &ServiceProvider,
    policy: &RequestPolicy,
    clock: &dyn Clock,
    replay: &dyn ReplayCache,
) -> Result<AcceptedAuthnRequest, SamlError> {
    let request = AuthnRequest::from_message(message)?;
    let c = Context { message, request: &request, sp, now: clock.now() };
    check_version(&c)?;
    check_issuer(request.issuer.as_deref(), sp)?;
    let signature = check_signature(c.message, sp)?;
    check_issue_instant(request.issue_instant, policy, c.now)?;
    check_destination(request.destination.as_deref(), signature.is_some(), policy)?;
    let acs_url = resolve_acs(&c)?;
    check_protocol_binding(&c)?;
    let name_id_format = check_name_id_policy(&c)?;
    check_replay(&sp.entity_id, &request.id, request.issue_instant, policy, replay)?;
    Ok(AcceptedAuthnRequest { acs_url, name_id_format, signature, relay_state: message.relay_state.clone(), request })
}

/// How strong an authentication context class is, for the comparisons of
/// SAML core §3.3.2.2.1. The ordering is ours to define; unknown classes
/// only ever match themselves.
fn authn_class_rank(class_ref: &str) -> Option<u8> {
    match class_ref.strip_prefix("urn:oasis:names:tc:SAML:2.0:ac:classes:") {
        Some("unspecified") => Some(0),
        Some("Password") => Some(1),
        Some("PasswordProtectedTransport") => Some(2),
        Some("TLSClient" | "X509" | "Smartcard" | "SmartcardPKI" | "MobileTwoFactorContract" | "TimeSyncToken") => {
            Some(3)
        }
        _ => None,
    }
}

/// SAML core §3.3.2.2.1: picks which of `offered` (the classes the gateway
/// can truthfully assert for this login, in its order of preference) meets
/// the RequestedAuthnContext. `Ok(None)` when none was requested;
/// [`SamlError::NoAuthnContext`] when nothing offered meets it.
pub fn choose_authn_context(request: &AuthnRequest, offered: &[&str]) -> Result<Option<String>, SamlError> {
    let Some(requested) = &request.requested_authn_context else { return Ok(None) };
    let meets = |offer: &str, wanted: &str| {
        let (o, w) = (authn_class_rank(offer), authn_class_rank(wanted));
        match requested.comparison.as_str() {
            "exact" => offer == wanted,
            "minimum" => offer == wanted || matches!((o, w), (Some(o), Some(w)) if o >= w),
            "better" => matches!((o, w), (Some(o), Some(w)) if o > w),
            "maximum" => offer == wanted || matches!((o, w), (Some(o), Some(w)) if o <= w),
            _ => false,
        }
    };
    offered
        .iter()
        .find(|offer| requested.class_refs.iter().any(|wanted| meets(offer, wanted)))
        .map(|offer| Some((*offer).to_owned()))
        .ok_or(SamlError::NoAuthnContext)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use time::macros::datetime;
    use vestibule_core::FixedClock;

    use super::*;
    use crate::crypto::encode_base64;
    use crate::dsig::sign_enveloped;
    use crate::xml::{parse, ParseLimits};
    use crate::{redirect_url, MessageKind, SignatureAlgorithm, SigningKey};

    pub const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
    pub const SSO: &str = "https://idp.example.com/app/acme/exk1/sso/saml";

    #[derive(Default)]
    pub struct FakeReplayCache(Mutex<HashSet<(String, String)>>);

    impl ReplayCache for FakeReplayCache {
        fn first_use(&self, issuer: &str, id: &str, _expires_at: OffsetDateTime) -> bool {
            self.0.lock().unwrap().insert((issuer.to_owned(), id.to_owned()))
        }
    }

    pub fn sp_key() -> SigningKey {
        SigningKey::from_pem(
            include_bytes!("../tests/fixtures/sp-key.pem"),
            include_bytes!("../tests/fixtures/sp-cert.pem"),
        )
        .unwrap()
    }

    pub fn idp_key() -> SigningKey {
        SigningKey::from_pem(
            include_bytes!("../tests/fixtures/idp-key.pem"),
            include_bytes!("../tests/fixtures/idp-cert.pem"),
        )
        .unwrap()
    }

    pub fn sp() -> ServiceProvider {
        ServiceProvider {
            entity_id: "https://sp.example.com".into(),
            assertion_consumer_services: vec![
                AssertionConsumerService {
                    url: "https://sp.example.com/acs".into(),
                    index: Some(0),
                    binding: Binding::HttpPost,
                    is_default: false,
                },
                AssertionConsumerService {
                    url: "https://sp.example.com/acs2".into(),
                    index: Some(1),
                    binding: Binding::HttpPost,
                    is_default: true,
                },
            ],
            signing_keys: vec![
                TrustedKey::from_certificate_pem(include_bytes!("../tests/fixtures/sp-cert.pem")).unwrap()
            ],
            require_signed_requests: false,
            algorithms: AlgorithmPolicy::default(),
            name_id_formats: vec![NameIdFormat::EmailAddress],
        }
    }

    pub fn policy() -> RequestPolicy {
        RequestPolicy { endpoints: vec![SSO.into()], ..Default::default() }
    }

    pub fn authn_request_xml() -> String {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
    ID="_req1" Version="2.0" IssueInstant="2026-03-01T11:59:30Z" Destination="{SSO}"
    AssertionConsumerServiceURL="https://sp.example.com/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">
  <saml:Issuer>https://sp.example.com</saml:Issuer>
  <samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/>
  <samlp:RequestedAuthnContext Comparison="minimum">
    <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
  </samlp:RequestedAuthnContext>
</samlp:AuthnRequest>"#
        )
    }

    fn post(xml: &str) -> InboundMessage {
        InboundMessage::from_post(
            MessageKind::Request,
            &encode_base64(xml.as_bytes()),
            Some("rs"),
            &ParseLimits::default(),
        )
        .unwrap()
    }

    /// Signs `xml` with an enveloped signature after the Issuer, as an SP would.
    pub fn sign_xml(xml: &str, key: &SigningKey, algorithm: SignatureAlgorithm) -> String {
        let mut root = parse(xml.as_bytes(), &ParseLimits::default()).unwrap();
        // Leading whitespace text node, then Issuer: the signature goes after Issuer.
        let issuer_at = root
            .children
            .iter()
            .position(|n| matches!(n, crate::xml::Node::Element(e) if e.local_name() == "Issuer"))
            .unwrap();
        sign_enveloped(&mut root, "ID", issuer_at + 1, key, algorithm, &[]).unwrap();
        root.canonical()
    }

    fn check(message: &InboundMessage, sp: &ServiceProvider) -> Result<AcceptedAuthnRequest, SamlError> {
        check_authn_request(message, sp, &policy(), &FixedClock::new(NOW), &FakeReplayCache::default())
    }

    #[test]
    fn reads_every_field() {
        let request = AuthnRequest::from_message(&post(&authn_request_xml())).unwrap();
        assert_eq!(
            request,
            AuthnRequest {
                id: "_req1".into(),
                version: "2.0".into(),
                issue_instant: datetime!(2026-03-01 11:59:30 UTC),
                issuer: Some("https://sp.example.com".into()),
                destination: Some(SSO.into()),
                assertion_consumer_service_url: Some("https://sp.example.com/acs".into()),
                assertion_consumer_service_index: None,
                protocol_binding: Some(Binding::HttpPost),
                name_id_policy_format: Some(NameIdFormat::EmailAddress.uri().into()),
                allow_create: Some(true),
                force_authn: false,
                is_passive: false,
                requested_authn_context: Some(RequestedAuthnContext {
                    comparison: "minimum".into(),
                    class_refs: vec!["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into()],
                }),
            }
        );
    }

    #[test]
    fn checks_in_order() {
        type Expect = fn(&Result<AcceptedAuthnRequest, SamlError>) -> bool;
        let acs = r#"AssertionConsumerServiceURL="https://sp.example.com/acs""#;
        let cases: Vec<(&str, &str, &str, Expect)> = vec![
            ("accepted", "", "", |r| {
                r.as_ref().is_ok_and(|a| {
                    a.acs_url == "https://sp.example.com/acs" && a.name_id_format == Some(NameIdFormat::EmailAddress)
                })
            }),
            ("version", r#"Version="2.0""#, r#"Version="1.1""#, |r| matches!(r, Err(SamlError::VersionMismatch(_)))),
            ("issuer", ">https://sp.example.com<", ">https://evil.example.com<", |r| {
                matches!(r, Err(SamlError::IssuerMismatch(_)))
            }),
            ("future", "11:59:30Z", "12:03:30Z", |r| matches!(r, Err(SamlError::IssueInstantOutOfRange))),
            ("stale", "11:59:30Z", "11:45:00Z", |r| matches!(r, Err(SamlError::IssueInstantOutOfRange))),
            ("within skew", "11:59:30Z", "12:02:30Z", |r| r.is_ok()),
            ("end of time", "2026-03-01T11:59:30Z", "9999-12-31T23:59:59Z", |r| {
                matches!(r, Err(SamlError::IssueInstantOutOfRange))
            }),
            ("start of time", "2026-03-01T11:59:30Z", "0000-01-01T00:00:00Z", |r| {
                matches!(r, Err(SamlError::IssueInstantOutOfRange))
            }),
            ("offset", "2026-03-01T11:59:30Z", "2026-03-01T13:59:30+02:00", |r| r.is_ok()),
            ("bad instant", "2026-03-01T11:59:30Z", "yesterday", |r| matches!(r, Err(SamlError::Invalid { .. }))),
            ("destination", SSO, "https://idp.example.com/other", |r| {
                matches!(r, Err(SamlError::DestinationMismatch(_)))
            }),
            ("unregistered acs", "example.com/acs\"", "example.com/evil\"", |r| {
                matches!(r, Err(SamlError::UnknownAcs(_)))
            }),
            ("acs by index", acs, r#"AssertionConsumerServiceIndex="1""#, |r| {
                r.as_ref().is_ok_and(|a| a.acs_url == "https://sp.example.com/acs2")
            }),
            ("unknown index", acs, r#"AssertionConsumerServiceIndex="7""#, |r| {
                matches!(r, Err(SamlError::UnknownAcs(_)))
            }),
            ("default acs", acs, "", |r| r.as_ref().is_ok_and(|a| a.acs_url == "https://sp.example.com/acs2")),
            ("binding", "bindings:HTTP-POST", "bindings:HTTP-Artifact", |r| {
                matches!(r, Err(SamlError::UnsupportedBinding(_)))
            }),
            ("nameid policy", "1.1:nameid-format:emailAddress", "2.0:nameid-format:persistent", |r| {
                matches!(r, Err(SamlError::InvalidNameIdPolicy(_)))
            }),
            ("unspecified nameid", "1.1:nameid-format:emailAddress", "1.1:nameid-format:unspecified", |r| {
                r.as_ref().is_ok_and(|a| a.name_id_format.is_none())
            }),
            ("bad boolean", r#"AllowCreate="true""#, r#"AllowCreate="yes""#, |r| {
                matches!(r, Err(SamlError::Invalid { .. }))
            }),
            ("wrong message", "samlp:AuthnRequest", "samlp:LogoutRequest", |r| {
                matches!(r, Err(SamlError::UnexpectedMessage { .. }))
            }),
        ];
        for (name, from, to, expect) in cases {
            let xml = authn_request_xml().replace(from, to);
            let result = check(&post(&xml), &sp());
            assert!(expect(&result), "{name}: {result:?}");
        }
    }

    #[test]
    fn authn_context_comparisons() {
        const C: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:";
        let ppt = format!("{C}PasswordProtectedTransport");
        let password = format!("{C}Password");
        let x509 = format!("{C}X509");
        let cases: [(&str, &str, &[&str], Option<&str>); 9] = [
            ("exact", "PasswordProtectedTransport", &[&password, &ppt], Some(&ppt)),
            ("exact", "X509", &[&ppt], None),
            ("minimum", "Password", &[&ppt], Some(&ppt)),
            ("minimum", "X509", &[&ppt], None),
            ("better", "PasswordProtectedTransport", &[&ppt], None),
            ("better", "PasswordProtectedTransport", &[&ppt, &x509], Some(&x509)),
            ("maximum", "PasswordProtectedTransport", &[&x509, &password], Some(&password)),
            ("minimum", "urn:example:custom", &[&x509], None),
            ("sideways", "Password", &[&password], None),
        ];
        for (comparison, wanted, offered, expected) in cases {
            let mut request = AuthnRequest::from_message(&post(&authn_request_xml())).unwrap();
            let wanted = if wanted.contains(':') { wanted.to_owned() } else { format!("{C}{wanted}") };
            request.requested_authn_context =
                Some(RequestedAuthnContext { comparison: comparison.into(), class_refs: vec![wanted.clone()] });
            match (choose_authn_context(&request, offered), expected) {
                (Ok(Some(chosen)), Some(expected)) => assert_eq!(chosen, expected, "{comparison} {wanted}"),
                (Err(SamlError::NoAuthnContext), None) => {}
                (other, _) => panic!("{comparison} {wanted}: {other:?}"),
            }
        }
        let mut request = AuthnRequest::from_message(&post(&authn_request_xml())).unwrap();
        request.requested_authn_context = None;
        assert_eq!(choose_authn_context(&request, &[&ppt]).unwrap(), None);
    }

    #[test]
    fn ids_are_single_use() {
        let replay = FakeReplayCache::default();
        let message = post(&authn_request_xml());
        let clock = FixedClock::new(NOW);
        assert!(check_authn_request(&message, &sp(), &policy(), &clock, &replay).is_ok());
        let again = check_authn_request(&message, &sp(), &policy(), &clock, &replay).unwrap_err();
        assert!(matches!(again, SamlError::Replay));
        assert_eq!(again.status_code(), crate::StatusCode::RequestDenied);
    }

    #[test]
    fn post_signatures() {
        let mut strict = sp();
        strict.require_signed_requests = true;
        let signed = sign_xml(&authn_request_xml(), &sp_key(), SignatureAlgorithm::RsaSha256);
        type Expect = fn(&Result<AcceptedAuthnRequest, SamlError>) -> bool;
        let cases: Vec<(&str, String, Expect)> = vec![
            ("signed", signed.clone(), |r| r.as_ref().is_ok_and(|a| a.signature.is_some())),
            ("unsigned", authn_request_xml(), |r| matches!(r, Err(SamlError::SignatureMissing))),
            ("wrong key", sign_xml(&authn_request_xml(), &idp_key(), SignatureAlgorithm::RsaSha256), |r| {
                matches!(r, Err(SamlError::SignatureInvalid))
            }),
            ("tampered", signed.replace("https://sp.example.com/acs\"", "https://sp.example.com/acs2\""), |r| {
                matches!(r, Err(SamlError::DigestMismatch))
            }),
            ("sha1 refused", sign_xml(&authn_request_xml(), &sp_key(), SignatureAlgorithm::RsaSha1), |r| {
                matches!(r, Err(SamlError::AlgorithmNotAllowed(_)))
            }),
            ("sha512", sign_xml(&authn_request_xml(), &sp_key(), SignatureAlgorithm::RsaSha512), |r| r.is_ok()),
            ("reference elsewhere", signed.replace("URI=\"#_req1\"", "URI=\"#_other\""), |r| {
                matches!(r, Err(SamlError::SignatureStructure(_)))
            }),
        ];
        for (name, xml, expect) in cases {
            let result = check(&post(&xml), &strict);
            assert!(expect(&result), "{name}: {result:?}");
        }
    }

    #[test]
    fn redirect_signatures() {
        let mut strict = sp();
        strict.require_signed_requests = true;
        let xml = authn_request_xml();
        let url = |key: &SigningKey, algorithm| {
            redirect_url(
                SSO,
                MessageKind::Request,
                &xml,
                Some("/after login"),
                Some((key as &dyn crate::XmlSigner, algorithm)),
            )
            .unwrap()
        };
        let query = |url: String| url.split_once('?').unwrap().1.to_owned();
        let good = query(url(&sp_key(), SignatureAlgorithm::RsaSha256));
        type Expect = fn(&Result<AcceptedAuthnRequest, SamlError>) -> bool;
        let cases: Vec<(&str, String, Expect)> = vec![
            ("signed", good.clone(), |r| r.as_ref().is_ok_and(|a| a.relay_state.as_deref() == Some("/after login"))),
            ("relay state changed", good.replace("RelayState=%2Fafter", "RelayState=%2Fevil"), |r| {
                matches!(r, Err(SamlError::SignatureInvalid))
            }),
            (
                "parameters reordered",
                {
                    let mut parts: Vec<&str> = good.split('&').collect();
                    parts.reverse();
                    parts.join("&")
                },
                |r| r.is_ok(),
            ),
            ("wrong key", query(url(&idp_key(), SignatureAlgorithm::RsaSha256)), |r| {
                matches!(r, Err(SamlError::SignatureInvalid))
            }),
            ("sha1 refused", query(url(&sp_key(), SignatureAlgorithm::RsaSha1)), |r| {
                matches!(r, Err(SamlError::AlgorithmNotAllowed(_)))
            }),
            ("unsigned", query(redirect_url(SSO, MessageKind::Request, &xml, None, None).unwrap()), |r| {
                matches!(r, Err(SamlError::SignatureMissing))
            }),
            (
                "query-signed, XML signature kept inside (pysaml2)",
                {
                    let embedded = sign_xml(&xml, &sp_key(), SignatureAlgorithm::RsaSha256);
                    let signer = sp_key();
                    let signer = Some((&signer as &dyn crate::XmlSigner, SignatureAlgorithm::RsaSha256));
                    query(redirect_url(SSO, MessageKind::Request, &embedded, None, signer).unwrap())
                },
                |r| r.is_ok(),
            ),
            (
                "only an XML signature, by Redirect",
                {
                    let embedded = sign_xml(&xml, &sp_key(), SignatureAlgorithm::RsaSha256);
                    query(redirect_url(SSO, MessageKind::Request, &embedded, None, None).unwrap())
                },
                |r| matches!(r, Err(SamlError::SignatureMissing)),
            ),
        ];
        for (name, query, expect) in cases {
            let message = InboundMessage::from_redirect_query(&query, &ParseLimits::default()).unwrap();
            let result = check(&message, &strict);
            assert!(expect(&result), "{name}: {result:?}");
        }
    }
}
