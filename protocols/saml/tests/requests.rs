//! Requests signed by xmlsec1 verify here; attack fixtures are refused; our
//! logout messages verify with xmlsec1.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use common::*;
use saml::{
    build_logout_request, build_logout_response, check_authn_request, check_logout_request, AlgorithmPolicy,
    AssertionConsumerService, Binding, InboundMessage, LogoutRequestSpec, LogoutResponse, LogoutResponseSpec,
    MessageKind, NameIdFormat, ParseLimits, ReceivedNameId, ReplayCache, RequestPolicy, SamlError,
    ServiceProvider, SignatureAlgorithm, StatusCode, TrustedKey, XmlSigner,
};
use time::OffsetDateTime;

const SSO: &str = "https://idp.example.com/app/acme/exk1/sso/saml";
const SLO: &str = "https://idp.example.com/app/acme/exk1/slo/saml";

#[derive(Default)]
struct FakeReplayCache(Mutex<HashSet<(String, String)>>);

impl ReplayCache for FakeReplayCache {
    fn first_use(&self, issuer: &str, id: &str, _expires_at: OffsetDateTime) -> bool {
        self.0.lock().unwrap().insert((issuer.to_owned(), id.to_owned()))
    }
}

fn sp() -> ServiceProvider {
    ServiceProvider {
        entity_id: "https://sp.example.com".into(),
        assertion_consumer_services: vec![AssertionConsumerService {
            url: "https://sp.example.com/acs".into(),
            index: Some(0),
            binding: Binding::HttpPost,
            is_default: true,
        }],
        signing_keys: vec![TrustedKey::from_certificate_pem(&read_fixture("sp-cert.pem")).unwrap()],
        require_signed_requests: true,
        algorithms: AlgorithmPolicy::default(),
        name_id_formats: vec![NameIdFormat::EmailAddress],
    }
}

fn policy() -> RequestPolicy {
    RequestPolicy { endpoints: vec![SSO.into(), SLO.into()], ..Default::default() }
}

fn post(xml: &[u8]) -> Result<InboundMessage, SamlError> {
    InboundMessage::from_post(MessageKind::Request, &base64_encode(xml), None, &ParseLimits::default())
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn check_authn(xml: &[u8]) -> Result<saml::AcceptedAuthnRequest, SamlError> {
    check_authn_request(&post(xml)?, &sp(), &policy(), &clock(), &FakeReplayCache::default())
}

/// The template a fixture was signed from, as make.sh builds it.
fn template(message: &str, id: &str) -> String {
    let signature = String::from_utf8(read_fixture("signature-template.inc")).unwrap().replace("@ID@", id);
    String::from_utf8(read_fixture(message)).unwrap().replace("@SIGNATURE@\n", &signature)
}

#[test]
fn authn_request_signed_by_xmlsec1_verifies() {
    let accepted = check_authn(&read_fixture("authn-request-signed-xmlsec1.xml")).unwrap();
    assert!(accepted.signature.is_some());
    assert!(accepted.request.force_authn);
    assert_eq!(accepted.acs_url, "https://sp.example.com/acs");
}

#[test]
fn freshly_signed_by_installed_xmlsec1_verifies() {
    if !have_xmlsec1() {
        return;
    }
    let cases = [("authn-request.xml", "_xmlsec1req"), ("logout-request.xml", "_xmlsec1logout")];
    for (message, id) in cases {
        let path = scratch(&format!("template-{message}"), template(message, id).as_bytes());
        let keys = format!("{},{}", fixture("sp-key.pem").display(), fixture("sp-cert.pem").display());
        let mut args = vec!["--sign", "--privkey-pem", &keys];
        args.extend(ID_ATTRS);
        args.extend(["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest", path.to_str().unwrap()]);
        let (ok, signed, stderr) = xmlsec1(&args);
        assert!(ok, "{stderr}");
        let message = post(&signed).unwrap();
        message.verify_signature(&sp().signing_keys, &AlgorithmPolicy::default()).unwrap();
    }
}

#[test]
fn logout_request_signed_by_xmlsec1_verifies_and_comments_cannot_truncate_nameid() {
    for fixture in ["logout-request-signed-xmlsec1.xml", "attack-comment-in-nameid.xml"] {
        let message = post(&read_fixture(fixture)).unwrap();
        let accepted = check_logout_request(&message, &sp(), &policy(), &clock(), &FakeReplayCache::default())
            .unwrap_or_else(|e| panic!("{fixture}: {e:?}"));
        assert_eq!(accepted.request.name_id.value, "ada@example.com.evil.com", "{fixture}");
        assert_eq!(accepted.request.session_indexes, ["_session-1"]);
    }
}

#[test]
fn attack_fixtures_are_refused() {
    type Expect = fn(&SamlError) -> bool;
    let cases: [(&str, Expect); 5] = [
        ("attack-wrapping-other-root.xml", |e| matches!(e, SamlError::SignatureStructure(_))),
        ("attack-wrapping-duplicate-id.xml", |e| matches!(e, SamlError::SignatureStructure(_))),
        ("attack-two-signatures.xml", |e| matches!(e, SamlError::SignatureStructure(_))),
        ("attack-billion-laughs.xml", |e| matches!(e, SamlError::Doctype)),
        ("attack-xxe.xml", |e| matches!(e, SamlError::Doctype)),
    ];
    for (fixture, expect) in cases {
        let error = check_authn(&read_fixture(fixture)).unwrap_err();
        assert!(expect(&error), "{fixture}: {error:?}");
        assert_ne!(error.status_code(), StatusCode::Success);
    }
}

#[test]
fn oversize_and_deflate_bombs_are_refused() {
    let limits = ParseLimits::default();
    let big = format!("<a>{}</a>", "x".repeat(limits.max_bytes));
    assert!(matches!(post(big.as_bytes()), Err(SamlError::TooLarge { .. })));

    // 16 MiB of zeros inflate from about 16 KiB.
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &vec![0u8; 16 << 20]).unwrap();
    let bomb = encoder.finish().unwrap();
    let query = format!("SAMLRequest={}", urlencoding::encode(&base64_encode(&bomb)));
    assert!(matches!(InboundMessage::from_redirect_query(&query, &limits), Err(SamlError::TooLarge { .. })));
}

#[test]
fn logout_messages_we_sign_verify_with_xmlsec1_and_ourselves() {
    let key = idp_key();
    let request = build_logout_request(
        &LogoutRequestSpec {
            issuer: "http://www.okta.com/exk1vestibule".into(),
            destination: "https://sp.example.com/slo".into(),
            name_id: ReceivedNameId { value: "ada@example.com".into(), format: Some(NameIdFormat::EmailAddress.uri().into()) },
            session_indexes: vec!["_session-1".into()],
        },
        &clock(),
        &mut rng(),
    );
    let response = build_logout_response(
        &LogoutResponseSpec {
            issuer: "http://www.okta.com/exk1vestibule".into(),
            destination: "https://sp.example.com/slo".into(),
            in_response_to: Some("_xmlsec1logout".into()),
            status: StatusCode::PartialLogout,
        },
        &clock(),
        &mut rng(),
    );
    let idp_keys = [TrustedKey::from_certificate_pem(&read_fixture("idp-cert.pem")).unwrap()];
    let signer = Some((&key as &dyn XmlSigner, SignatureAlgorithm::RsaSha256));

    for (message, kind) in [(&request, MessageKind::Request), (&response, MessageKind::Response)] {
        // HTTP-POST: enveloped signature.
        let form_value = message.to_post(signer).unwrap();
        let inbound = InboundMessage::from_post(kind, &form_value, None, &ParseLimits::default()).unwrap();
        inbound.verify_signature(&idp_keys, &AlgorithmPolicy::default()).unwrap();
        if have_xmlsec1() {
            use base64::Engine as _;
            let xml = base64::engine::general_purpose::STANDARD.decode(&form_value).unwrap();
            let path = scratch(&format!("logout-{kind:?}.xml"), &xml);
            let cert = fixture("idp-cert.pem");
            let (ok, _, stderr) = xmlsec1(&[
                "--verify",
                "--pubkey-cert-pem",
                cert.to_str().unwrap(),
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
                path.to_str().unwrap(),
            ]);
            assert!(ok, "{kind:?}: {stderr}");
        }
        // HTTP-Redirect: query signature.
        let url = message.to_redirect_url(Some("state"), signer).unwrap();
        assert!(url.starts_with("https://sp.example.com/slo?"), "{url}");
        let inbound =
            InboundMessage::from_redirect_query(url.split_once('?').unwrap().1, &ParseLimits::default()).unwrap();
        inbound.verify_signature(&idp_keys, &AlgorithmPolicy::default()).unwrap();
        assert_eq!(inbound.relay_state.as_deref(), Some("state"));
    }
    let parsed = LogoutResponse::from_message(
        &InboundMessage::from_post(MessageKind::Response, &response.to_post(None).unwrap(), None, &ParseLimits::default())
            .unwrap(),
    )
    .unwrap();
    assert_eq!((parsed.status, parsed.sub_status), (StatusCode::Responder, Some(StatusCode::PartialLogout)));
    assert_eq!(parsed.in_response_to.as_deref(), Some("_xmlsec1logout"));
}
