//! Our ID tokens, discovery document and JWKS as a strict relying party
//! (openidconnect-rs 4) reads them.

mod common;

use common::*;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, IssuerUrl, Nonce};
use oidc::{discovery, SigningAlg, SigningKey};
use std::str::FromStr;

fn rp_alg(alg: SigningAlg) -> CoreJwsSigningAlgorithm {
    match alg {
        SigningAlg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        SigningAlg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        SigningAlg::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
    }
}

fn jwks(bed: &Bed) -> CoreJsonWebKeySet {
    serde_json::from_value(bed.keys.jwks()).expect("the RP parses our JWKS")
}

fn verify(bed: &Bed, jwks: CoreJsonWebKeySet, client_id: &str, alg: SigningAlg, id_token: &str, access_token: &str, nonce: &str) {
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.into()),
        ClientSecret::new(format!("{client_id}-secret")),
        IssuerUrl::new(bed.server.issuer.clone()).unwrap(),
        jwks,
    )
    .set_allowed_algs([rp_alg(alg)]);
    let token = CoreIdToken::from_str(id_token).expect("the RP parses our ID token");
    let claims = token.claims(&verifier, &Nonce::new(nonce.into())).expect("the RP accepts our ID token");
    assert_eq!(claims.subject().as_str(), "00ualice");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    let signing_alg = token.signing_alg().unwrap();
    let key = token.signing_key(&verifier).unwrap();
    let expected = AccessTokenHash::from_token(&AccessToken::new(access_token.into()), signing_alg, key).unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash per the RP");
    // A wrong nonce must be refused by the RP: the nonce is really checked.
    assert!(token.claims(&verifier, &Nonce::new("other".into())).is_err());
}

#[test]
fn discovery_document_parses_as_provider_metadata() {
    let bed = Bed::new();
    let doc = discovery::openid_configuration(&bed.server, &bed.keys);
    let meta: CoreProviderMetadata = serde_json::from_value(doc).expect("the RP parses our discovery document");
    assert_eq!(meta.issuer().as_str(), "https://sso.example.com/oauth2/default");
    assert_eq!(meta.jwks_uri().as_str(), "https://sso.example.com/oauth2/default/v1/keys");
    assert_eq!(meta.token_endpoint().map(|u| u.as_str()), Some("https://sso.example.com/oauth2/default/v1/token"));
    let algs = meta.id_token_signing_alg_values_supported();
    for alg in SigningAlg::ALL {
        assert!(algs.contains(&rp_alg(alg)), "{alg}");
    }
}

#[test]
fn id_tokens_of_every_algorithm_pass_a_strict_relying_party() {
    let bed = Bed::new();
    for alg in SigningAlg::ALL {
        let client_id = format!("0oa{}", alg.as_str().to_lowercase());
        bed.add_client(&client_id, alg);
        let nonce = format!("nonce-{alg}");
        let r = bed.login(&client_id, &nonce);
        verify(&bed, jwks(&bed), &client_id, alg, r.id_token.as_deref().unwrap(), &r.access_token, &nonce);
    }
}

#[test]
fn tokens_after_a_rotation_verify_with_a_jwks_cached_before_it() {
    let mut bed = Bed::new();
    bed.add_client("0oarot", SigningAlg::Rs256);
    let cached = jwks(&bed);
    let overlap = time::Duration::hours(24);
    bed.clock.advance(overlap);
    bed.keys = bed.keys.rotate(SigningAlg::Rs256, SigningKey::generate("kid-new", SigningAlg::Rs256).unwrap(), bed.clock_now(), overlap).unwrap();
    // The RP's clock is the real one; move ours back so the token is current for it.
    bed.clock.advance(-overlap);
    let r = bed.login("0oarot", "n1");
    verify(&bed, cached, "0oarot", SigningAlg::Rs256, r.id_token.as_deref().unwrap(), &r.access_token, "n1");
}

#[test]
fn the_relying_party_refuses_a_token_for_another_client() {
    let bed = Bed::new();
    bed.add_client("0oaone", SigningAlg::Rs256);
    let r = bed.login("0oaone", "n");
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new("0oatwo".into()),
        ClientSecret::new("x".into()),
        IssuerUrl::new(bed.server.issuer.clone()).unwrap(),
        jwks(&bed),
    );
    let token = CoreIdToken::from_str(r.id_token.as_deref().unwrap()).unwrap();
    assert!(token.claims(&verifier, &Nonce::new("n".into())).is_err());
}
