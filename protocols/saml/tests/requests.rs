//! Requests signed by xmlsec1 verify here; attack fixtures are refused; our
//! logout messages verify with xmlsec1.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use common::*;
use saml::{
    build_logout_request, build_logout_response, check_authn_request, check_logout_request, AlgorithmPolicy,
    AssertionConsumerService, Binding, InboundMessage, LogoutRequestSpec, LogoutResponse, LogoutResponseSpec,
    MessageKind, NameIdFormat, ParseLimits, ReceivedNameId, ReplayCache, RequestPolicy, SamlError, ServiceProvider,
    SignatureAlgorithm, StatusCode, TrustedKey, XmlSigner,
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
            name_id: ReceivedNameId {
                value: "ada@example.com".into(),
                format: Some(NameIdFormat::EmailAddress.uri().into()),
            },
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
        &InboundMessage::from_post(
            MessageKind::Response,
            &response.to_post(None).unwrap(),
            None,
            &ParseLimits::default(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!((parsed.status, parsed.sub_status), (StatusCode::Responder, Some(StatusCode::PartialLogout)));
    assert_eq!(parsed.in_response_to.as_deref(), Some("_xmlsec1logout"));
}

#[test]
fn logout_response_from_the_sp_is_checked() {
    // The SP answers our LogoutRequest `_ours`, signed with its key, by Redirect.
    let answer = |in_response_to: &str, issuer: &str| {
        let message = build_logout_response(
            &LogoutResponseSpec {
                issuer: issuer.into(),
                destination: SLO.into(),
                in_response_to: Some(in_response_to.into()),
                status: StatusCode::Success,
            },
            &clock(),
            &mut rng(),
        );
        let key = sp_key();
        let url = message.to_redirect_url(None, Some((&key as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap();
        InboundMessage::from_redirect_query(url.split_once('?').unwrap().1, &ParseLimits::default()).unwrap()
    };
    let check = |message: &InboundMessage| saml::check_logout_response(message, &sp(), &policy(), &clock(), "_ours");
    assert_eq!(check(&answer("_ours", "https://sp.example.com")).unwrap().status, StatusCode::Success);
    assert!(matches!(check(&answer("_other", "https://sp.example.com")), Err(SamlError::Invalid { .. })));
    assert!(matches!(check(&answer("_ours", "https://evil.example.com")), Err(SamlError::IssuerMismatch(_))));
}

/// A signature template in the given layout, for xmlsec1 to fill in.
fn signature_template(ds_prefix: &str, id: &str, prefix_list: Option<&str>, method: &str, digest: &str) -> String {
    let p = if ds_prefix.is_empty() { String::new() } else { format!("{ds_prefix}:") };
    let xmlns = if ds_prefix.is_empty() { "xmlns".to_owned() } else { format!("xmlns:{ds_prefix}") };
    let inclusive = prefix_list
        .map(|list| {
            format!(
                r#"<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{list}"/>"#
            )
        })
        .unwrap_or_default();
    format!(
        r##"<{p}Signature {xmlns}="http://www.w3.org/2000/09/xmldsig#"><{p}SignedInfo>
<{p}CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{inclusive}</{p}CanonicalizationMethod>
<{p}SignatureMethod Algorithm="{method}"/>
<{p}Reference URI="#{id}"><{p}Transforms>
<{p}Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<{p}Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{inclusive}</{p}Transform>
</{p}Transforms><{p}DigestMethod Algorithm="{digest}"/><{p}DigestValue/></{p}Reference>
</{p}SignedInfo><{p}SignatureValue/></{p}Signature>"##
    )
}

/// Namespace layouts and encodings SP toolkits produce, each signed by the
/// installed xmlsec1 and verified by our canonicalizer.
#[test]
fn canonicalization_matches_xmlsec1_on_varied_layouts() {
    if !have_xmlsec1() {
        return;
    }
    const SHA256: (&str, &str) =
        ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256");
    const SHA512: (&str, &str) =
        ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/2001/04/xmlenc#sha512");
    const SHA1: (&str, &str) = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1");
    let dest = format!(r#"Destination="{SSO}" AssertionConsumerServiceURL="https://sp.example.com/acs""#);
    // (name, message with @SIG@, ds prefix, InclusiveNamespaces, (signature, digest) algorithms)
    type Layout<'a> = (&'a str, String, &'a str, Option<&'a str>, (&'a str, &'a str));
    let cases: Vec<Layout> = vec![
        (
            "default namespaces everywhere, ds as default too",
            format!(
                r#"<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="_v1" Version="2.0" IssueInstant="2026-03-01T11:59:30Z" {dest}>
  <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.example.com</Issuer>@SIG@
  <NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/>
</AuthnRequest>"#
            ),
            "",
            None,
            SHA256,
        ),
        (
            "unused declarations, InclusiveNamespaces, foreign attributes, escapes, comments, CDATA, CRLF",
            format!(
                "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:unused=\"urn:unused\" xmlns:ext=\"urn:ext\" ext:z=\"1\" ext:a=\"&#xD;&#9;x&quot;&lt;&gt;\" xml:lang=\"en\" ID=\"_v2\" Version=\"2.0\" IssueInstant=\"2026-03-01T11:59:30Z\" {dest}\r\n   ProviderName=\"a\r\nb\tc\">\r\n  <!-- a comment -->\r\n  <saml:Issuer>https://sp.example.com</saml:Issuer>@SIG@\r\n  <samlp:Extensions xmlns=\"urn:default\"><e xmlns=\"\" k=\"v\">x &amp; <![CDATA[<y> & z]]> &#x10000; &gt;</e><unused:u/></samlp:Extensions>\r\n</samlp:AuthnRequest>"
            ),
            "ds",
            Some("saml xs #default"),
            SHA512,
        ),
        (
            "SHA-1 with an app that allows it",
            authn_like("_v3", &dest),
            "dsig",
            None,
            SHA1,
        ),
    ];
    let keys = format!("{},{}", fixture("sp-key.pem").display(), fixture("sp-cert.pem").display());
    for (name, message, ds_prefix, prefix_list, (method, digest)) in cases {
        let id = message.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let template = message.replace("@SIG@", &signature_template(ds_prefix, &id, prefix_list, method, digest));
        let path = scratch(&format!("layout{id}.xml"), template.as_bytes());
        let mut args = vec!["--sign", "--privkey-pem", &keys];
        args.extend(ID_ATTRS);
        args.push(path.to_str().unwrap());
        let (ok, signed, stderr) = xmlsec1(&args);
        assert!(ok, "{name}: xmlsec1 could not sign: {stderr}\n{template}");
        let message = post(&signed).unwrap();
        let policy = AlgorithmPolicy { allow_sha1: method == SHA1.0 };
        message
            .verify_signature(&sp().signing_keys, &policy)
            .unwrap_or_else(|e| panic!("{name}: {e:?}\n{}", String::from_utf8_lossy(&signed)));
        if method == SHA1.0 {
            assert!(message.verify_signature(&sp().signing_keys, &AlgorithmPolicy::default()).is_err());
        }
    }
}

fn authn_like(id: &str, dest: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{id}" Version="2.0" IssueInstant="2026-03-01T11:59:30Z" {dest}><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://sp.example.com</saml:Issuer>@SIG@</samlp:AuthnRequest>"#
    )
}
