//! Mutated inputs must come back as errors, never panics: a cheap, seeded
//! stand-in for fuzzing every entry point that reads attacker bytes.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use base64::Engine as _;
use common::*;
use rand::{Rng, RngCore};
use saml::{
    check_authn_request, check_logout_request, parse_sp_metadata, redirect_url, AlgorithmPolicy,
    AssertionConsumerService, AuthnRequest, Binding, InboundMessage, LogoutRequest, LogoutResponse, MessageKind,
    NameIdFormat, ParseLimits, ReplayCache, RequestPolicy, ServiceProvider, SignatureAlgorithm, TrustedKey, XmlSigner,
};
use time::OffsetDateTime;

struct NoReplay(Mutex<HashSet<String>>);

impl ReplayCache for NoReplay {
    fn first_use(&self, _: &str, id: &str, _: OffsetDateTime) -> bool {
        self.0.lock().unwrap().insert(id.to_owned())
    }
}

fn mutate(input: &[u8], rng: &mut impl RngCore) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.gen_range(1..6) {
        if out.is_empty() {
            break;
        }
        let at = rng.gen_range(0..out.len());
        match rng.gen_range(0..6) {
            0 => out[at] = rng.gen(),
            1 => {
                out.remove(at);
            }
            2 => out.insert(at, *b"<>&;\"'=/:!-?[]#x ".get(rng.gen_range(0..17)).unwrap()),
            3 => out.truncate(at),
            4 => {
                let end = (at + rng.gen_range(1..64)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
            _ => {
                let end = (at + rng.gen_range(1..32)).min(out.len());
                out.drain(at..end);
            }
        }
    }
    out
}

fn exercise(message: &InboundMessage, sp: &ServiceProvider, policy: &RequestPolicy) {
    let replay = NoReplay(Mutex::new(HashSet::new()));
    let _ = AuthnRequest::from_message(message);
    let _ = LogoutRequest::from_message(message);
    let _ = LogoutResponse::from_message(message);
    let _ = message.issuer();
    let _ = message.verify_signature(&sp.signing_keys, &AlgorithmPolicy { allow_sha1: true });
    let _ = check_authn_request(message, sp, policy, &clock(), &replay);
    let _ = check_logout_request(message, sp, policy, &clock(), &replay);
}

#[test]
fn mutated_messages_never_panic() {
    let sp = ServiceProvider {
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
    };
    let policy = RequestPolicy {
        endpoints: vec!["https://idp.example.com/app/acme/exk1/sso/saml".into()],
        ..Default::default()
    };
    let limits = ParseLimits::default();
    let seeds = [
        read_fixture("authn-request-signed-xmlsec1.xml"),
        read_fixture("logout-request-signed-xmlsec1.xml"),
        read_fixture("attack-two-signatures.xml"),
    ];
    let mut rng = rng();
    for round in 0..1500 {
        let seed = &seeds[round % seeds.len()];
        let xml = mutate(seed, &mut rng);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&xml);
        if let Ok(message) = InboundMessage::from_post(MessageKind::Request, &encoded, None, &limits) {
            exercise(&message, &sp, &policy);
        }
        let _ = parse_sp_metadata(&xml);
    }

    // Redirect binding: mutate a genuine signed query string.
    let key = sp_key();
    let xml = String::from_utf8(read_fixture("authn-request.xml")).unwrap().replace("@SIGNATURE@\n", "");
    let url = redirect_url(
        "https://idp.example.com/sso",
        MessageKind::Request,
        &xml,
        Some("relay"),
        Some((&key as &dyn XmlSigner, SignatureAlgorithm::RsaSha256)),
    )
    .unwrap();
    let query = url.split_once('?').unwrap().1.as_bytes().to_vec();
    for _ in 0..1500 {
        let mutated = mutate(&query, &mut rng);
        let Ok(mutated) = String::from_utf8(mutated) else { continue };
        if let Ok(message) = InboundMessage::from_redirect_query(&mutated, &limits) {
            exercise(&message, &sp, &policy);
        }
    }
}
