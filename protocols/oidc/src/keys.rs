//! Signing keys, the key ring the server signs and verifies with, its JWKS
//! and its rotation.
//!
//! Each algorithm has three slots: `next` (published, not yet signing),
//! `current` (signing) and `previous` (published so that tokens it signed
//! still validate). A rotation moves every key one slot on. Because `next` is
//! in the JWKS before it signs anything, a relying party that refreshed its
//! cached JWKS at any time in the overlap already knows the key when the
//! switch happens: no validation fails at the switch.
//!
//! Keys are parsed once, when the ring is built; signing and verifying reuse
//! the parsed keys. A ring is an immutable value; the gateway swaps the whole
//! ring atomically after a rotation.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{JwsSigner, JwsVerifier, EdDSA, ES256, RS256};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};
use time::{Duration, OffsetDateTime};
use vestibule_core::Secret;

use crate::error::Error;

/// The JWS algorithms the server signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256; the default, required by OIDC Core §15.1.
    Rs256,
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` value; `none`, HMAC and anything else are refused.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The left half of the hash the algorithm uses, base64url-encoded: the
    /// `at_hash` and `c_hash` of OIDC Core §3.1.3.6 and §3.3.2.11. For
    /// Ed25519 the hash is SHA-512, as relying parties (openidconnect-rs,
    /// node-oidc-provider) compute it.
    pub fn half_hash(self, value: &str) -> String {
        let digest: Vec<u8> = match self {
            Self::Rs256 | Self::Es256 => Sha256::digest(value.as_bytes()).to_vec(),
            Self::EdDsa => Sha512::digest(value.as_bytes()).to_vec(),
        };
        B64.encode(&digest[..digest.len() / 2])
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One private signing key, parsed once.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
    public_jwk: Map<String, Value>,
    private_pem: Secret,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Makes a new key: RSA 2048, P-256 or Ed25519.
    pub fn generate(kid: impl Into<String>, alg: SigningAlg) -> Result<Self, Error> {
        let kid = kid.into();
        let key_error = |source| Error::Key { kid: kid.clone(), what: "generate", source: Some(source) };
        let pem = match alg {
            SigningAlg::Rs256 => RS256.generate_key_pair(2048).map_err(key_error)?.to_pem_private_key(),
            SigningAlg::Es256 => ES256.generate_key_pair().map_err(key_error)?.to_pem_private_key(),
            SigningAlg::EdDsa => {
                EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519).map_err(key_error)?.to_pem_private_key()
            }
        };
        let pem = String::from_utf8(pem).map_err(|_| Error::Key { kid: kid.clone(), what: "PEM is not UTF-8", source: None })?;
        Self::from_pem(kid, alg, &Secret::new(pem))
    }

    /// Parses a PKCS#8 PEM private key (as [`SigningKey::private_pem`] returns it).
    pub fn from_pem(kid: impl Into<String>, alg: SigningAlg, pem: &Secret) -> Result<Self, Error> {
        let kid = kid.into();
        let key_error = |what: &'static str| {
            let kid = kid.clone();
            move |source| Error::Key { kid, what, source: Some(source) }
        };
        let bytes = pem.expose().as_bytes();
        let (signer, public): (Box<dyn JwsSigner>, Jwk) = match alg {
            SigningAlg::Rs256 => (
                Box::new(RS256.signer_from_pem(bytes).map_err(key_error("parse RSA key"))?),
                RS256.key_pair_from_pem(bytes).map_err(key_error("parse RSA key"))?.to_jwk_public_key(),
            ),
            SigningAlg::Es256 => (
                Box::new(ES256.signer_from_pem(bytes).map_err(key_error("parse P-256 key"))?),
                ES256.key_pair_from_pem(bytes).map_err(key_error("parse P-256 key"))?.to_jwk_public_key(),
            ),
            SigningAlg::EdDsa => (
                Box::new(EdDSA.signer_from_pem(bytes).map_err(key_error("parse Ed25519 key"))?),
                EdDSA.key_pair_from_pem(bytes).map_err(key_error("parse Ed25519 key"))?.to_jwk_public_key(),
            ),
        };
        let mut public = public;
        public.set_key_id(kid.clone());
        public.set_algorithm(alg.as_str());
        public.set_key_use("sig");
        let verifier: Box<dyn JwsVerifier> = match alg {
            SigningAlg::Rs256 => Box::new(RS256.verifier_from_jwk(&public).map_err(key_error("public key"))?),
            SigningAlg::Es256 => Box::new(ES256.verifier_from_jwk(&public).map_err(key_error("public key"))?),
            SigningAlg::EdDsa => Box::new(EdDSA.verifier_from_jwk(&public).map_err(key_error("public key"))?),
        };
        let public_jwk: Map<String, Value> = public.into();
        Ok(Self { kid, alg, signer, verifier, public_jwk, private_pem: pem.clone() })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The public key as a JWK with `kid`, `alg` and `use`.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.public_jwk
    }

    /// The private key in PKCS#8 PEM, for the gateway to store encrypted.
    pub fn private_pem(&self) -> &Secret {
        &self.private_pem
    }

    /// Signs raw bytes (the JWS signing input).
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.signer.sign(message).map_err(|source| Error::Sign { kid: self.kid.clone(), source })
    }

    /// Signs `claims` as a compact JWS with the given `typ` header
    /// (`JWT` for ID tokens, `at+jwt` for access tokens per RFC 9068 §2.1).
    pub fn sign_jwt(&self, typ: &str, claims: &Map<String, Value>) -> Result<String, Error> {
        let header = serde_json::json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let mut out = String::with_capacity(512);
        out.push_str(&B64.encode(header.to_string()));
        out.push('.');
        out.push_str(&B64.encode(Value::Object(claims.clone()).to_string()));
        let signature = self.sign_raw(out.as_bytes())?;
        out.push('.');
        out.push_str(&B64.encode(signature));
        Ok(out)
    }

    fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify(message, signature).is_ok()
    }
}

/// The keys of one algorithm in their three slots.
#[derive(Debug, Clone)]
pub struct KeySlots {
    pub previous: Option<Arc<SigningKey>>,
    pub current: Arc<SigningKey>,
    pub next: Arc<SigningKey>,
    /// When `next` first appeared in the JWKS.
    pub next_published_at: OffsetDateTime,
}

/// Every key the server publishes, signs and verifies with. Immutable.
#[derive(Debug, Clone)]
pub struct KeyRing {
    slots: Vec<(SigningAlg, KeySlots)>,
}

impl KeyRing {
    /// Builds a ring. RS256 must be present (OIDC Core §15.1); kids must be
    /// unique across the ring; each slot's keys must be of its algorithm.
    pub fn new(slots: Vec<KeySlots>) -> Result<Self, Error> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            let alg = slot.current.alg();
            for key in [Some(&slot.current), Some(&slot.next), slot.previous.as_ref()].into_iter().flatten() {
                if key.alg() != alg {
                    return Err(Error::KeyRing("a slot mixes algorithms"));
                }
                if !seen.insert(key.kid().to_owned()) {
                    return Err(Error::KeyRing("a kid appears twice"));
                }
            }
            if out.iter().any(|(a, _)| *a == alg) {
                return Err(Error::KeyRing("an algorithm has two slots"));
            }
            out.push((alg, slot));
        }
        if !out.iter().any(|(a, _)| *a == SigningAlg::Rs256) {
            return Err(Error::KeyRing("RS256 is required"));
        }
        out.sort_by_key(|(a, _)| *a);
        Ok(Self { slots: out })
    }

    /// Generates a fresh ring with a current and a next key for each of `algs`
    /// (kids from `kid`), for first start and for tests.
    pub fn generate(algs: &[SigningAlg], now: OffsetDateTime, mut kid: impl FnMut() -> String) -> Result<Self, Error> {
        let mut slots = Vec::new();
        for &alg in algs {
            slots.push(KeySlots {
                previous: None,
                current: Arc::new(SigningKey::generate(kid(), alg)?),
                next: Arc::new(SigningKey::generate(kid(), alg)?),
                next_published_at: now,
            });
        }
        Self::new(slots)
    }

    /// The algorithms the ring can sign with.
    pub fn algorithms(&self) -> impl Iterator<Item = SigningAlg> + '_ {
        self.slots.iter().map(|(a, _)| *a)
    }

    pub fn slots(&self, alg: SigningAlg) -> Option<&KeySlots> {
        self.slots.iter().find(|(a, _)| *a == alg).map(|(_, s)| s)
    }

    /// The key that signs now for `alg`.
    pub fn signing_key(&self, alg: SigningAlg) -> Option<&SigningKey> {
        self.slots(alg).map(|s| &*s.current)
    }

    /// Any published key with this kid: next, current or previous.
    pub fn key(&self, kid: &str) -> Option<&SigningKey> {
        self.slots
            .iter()
            .flat_map(|(_, s)| [Some(&s.current), Some(&s.next), s.previous.as_ref()])
            .flatten()
            .find(|k| k.kid() == kid)
            .map(|k| &**k)
    }

    /// The JWKS document (RFC 7517 §5): for each algorithm the current,
    /// next and previous keys, public parts only.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .slots
            .iter()
            .flat_map(|(_, s)| [Some(&s.current), Some(&s.next), s.previous.as_ref()])
            .flatten()
            .map(|k| Value::Object(k.public_jwk().clone()))
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// Moves `alg`'s keys one slot on: next signs, current becomes previous,
    /// the old previous is dropped and `new_next` is published.
    ///
    /// Refused while `next` has been published for less than `overlap` (at
    /// least the JWKS cache lifetime relying parties are told), so that no
    /// relying party meets a kid it has not seen. Dropping the old previous
    /// key is safe when rotations are at least one token lifetime apart.
    pub fn rotate(&self, alg: SigningAlg, new_next: SigningKey, now: OffsetDateTime, overlap: Duration) -> Result<Self, Error> {
        let slot = self.slots(alg).ok_or(Error::KeyRing("no slot for this algorithm"))?;
        let published_for = now - slot.next_published_at;
        if published_for < overlap {
            return Err(Error::RotationTooEarly { kid: slot.next.kid().to_owned(), published_for, required: overlap });
        }
        if new_next.alg() != alg {
            return Err(Error::KeyRing("a slot mixes algorithms"));
        }
        let rotated = KeySlots {
            previous: Some(slot.current.clone()),
            current: slot.next.clone(),
            next: Arc::new(new_next),
            next_published_at: now,
        };
        let slots = self
            .slots
            .iter()
            .map(|(a, s)| if *a == alg { rotated.clone() } else { s.clone() })
            .collect();
        Self::new(slots)
    }

    /// Verifies a compact JWS made by one of our keys and returns its header
    /// and claims. See [`verify_compact`].
    pub fn verify(&self, token: &str) -> Result<VerifiedJwt, JwtError> {
        verify_compact(token, |kid, alg| self.key(kid?).filter(|k| k.alg() == alg).map(|k| k as &dyn JwtVerifier))
    }
}

/// Something that checks a JWS signature.
pub trait JwtVerifier {
    fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool;
}

impl JwtVerifier for SigningKey {
    fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_raw(message, signature)
    }
}

/// A JWT whose signature has been checked; its claims have not.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub alg: SigningAlg,
}

/// Why a JWT was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("alg is not RS256, ES256 or EdDSA")]
    UnsupportedAlg,
    #[error("no key with this kid and alg")]
    UnknownKey,
    #[error("signature does not verify")]
    BadSignature,
}

/// Upper bound on a token we will look at: far above any token we issue,
/// low enough that a hostile one costs nothing to refuse.
const MAX_JWT_LEN: usize = 16 * 1024;

/// Verifies a compact JWS (RFC 7515 §5.2). The header's `alg` must be one we
/// sign with (never `none` or HMAC: RFC 8725 §3.1), and `find_key` must
/// return a key registered for exactly that alg, so a key can never be used
/// with an algorithm it was not published for (RFC 8725 §3.2).
pub fn verify_compact<'k>(
    token: &str,
    find_key: impl FnOnce(Option<&str>, SigningAlg) -> Option<&'k dyn JwtVerifier>,
) -> Result<VerifiedJwt, JwtError> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header = decode_json_object(h)?;
    let alg = header.get("alg").and_then(Value::as_str).and_then(SigningAlg::parse).ok_or(JwtError::UnsupportedAlg)?;
    if header.contains_key("crit") {
        // RFC 7515 §4.1.11: we understand no extension, so must refuse.
        return Err(JwtError::Malformed);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let key = find_key(kid, alg).ok_or(JwtError::UnknownKey)?;
    let signature = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    if !key.verify_signature(signing_input.as_bytes(), &signature) {
        return Err(JwtError::BadSignature);
    }
    let claims = decode_json_object(p)?;
    Ok(VerifiedJwt { header, claims, alg })
}

fn decode_json_object(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = B64.decode(part).map_err(|_| JwtError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed),
    }
}

/// A client's registered public keys (its `jwks`), parsed once, for
/// `private_key_jwt` (RFC 7523 §3) and signed request objects.
pub struct ClientJwks {
    keys: Vec<ClientKey>,
}

struct ClientKey {
    kid: Option<String>,
    alg: SigningAlg,
    verifier: Box<dyn JwsVerifier>,
}

impl JwtVerifier for ClientKey {
    fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify(message, signature).is_ok()
    }
}

impl std::fmt::Debug for ClientJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|k| (&k.kid, k.alg))).finish()
    }
}

impl ClientJwks {
    /// Parses a JWKS document. Keys for encryption and of other types are
    /// skipped; a key without `alg` is taken for the algorithm its type
    /// implies (RSA → RS256, EC P-256 → ES256, OKP Ed25519 → EdDSA).
    pub fn parse(jwks: &Value) -> Result<Self, Error> {
        let keys = jwks.get("keys").and_then(Value::as_array).ok_or(Error::ClientJwks("no keys array", None))?;
        let mut out = Vec::new();
        for key in keys {
            let Value::Object(map) = key else { return Err(Error::ClientJwks("a key is not an object", None)) };
            if map.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
                continue;
            }
            let jwk = Jwk::from_map(map.clone()).map_err(|e| Error::ClientJwks("a key is not a JWK", Some(e)))?;
            let alg = match (jwk.algorithm(), jwk.key_type(), jwk.curve()) {
                (Some(a), _, _) => match SigningAlg::parse(a) {
                    Some(alg) => alg,
                    None => continue,
                },
                (None, "RSA", _) => SigningAlg::Rs256,
                (None, "EC", Some("P-256")) => SigningAlg::Es256,
                (None, "OKP", Some("Ed25519")) => SigningAlg::EdDsa,
                _ => continue,
            };
            let verifier: Box<dyn JwsVerifier> = match alg {
                SigningAlg::Rs256 => RS256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
                SigningAlg::Es256 => ES256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
                SigningAlg::EdDsa => EdDSA.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
            }
            .map_err(|e| Error::ClientJwks("a key cannot verify", Some(e)))?;
            out.push(ClientKey { kid: jwk.key_id().map(str::to_owned), alg, verifier });
        }
        Ok(Self { keys: out })
    }

    /// Verifies a JWS signed by one of these keys. With a `kid` the key must
    /// carry it; without one, a key is chosen only if exactly one has the alg.
    pub fn verify(&self, token: &str) -> Result<VerifiedJwt, JwtError> {
        verify_compact(token, |kid, alg| {
            let mut candidates = self.keys.iter().filter(|k| k.alg == alg);
            let found = match kid {
                Some(kid) => candidates.find(|k| k.kid.as_deref() == Some(kid)),
                None => {
                    let first = candidates.next();
                    if candidates.next().is_some() {
                        None
                    } else {
                        first
                    }
                }
            };
            found.map(|k| k as &dyn JwtVerifier)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{keys, T0};
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("sub".into(), json!("x"));
        c
    }

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in SigningAlg::ALL {
            let key = keys().signing_key(alg).unwrap();
            let jwt = key.sign_jwt("JWT", &claims()).unwrap();
            let verified = keys().verify(&jwt).unwrap();
            assert_eq!((verified.alg, verified.claims["sub"].clone()), (alg, json!("x")), "{alg}");
        }
    }

    #[test]
    fn jwks_publishes_current_and_next_public_keys_only() {
        let jwks = keys().jwks();
        let published = jwks["keys"].as_array().unwrap();
        assert_eq!(published.len(), 6);
        for k in published {
            assert!(k.get("d").is_none(), "no private part: {k}");
            assert!(k["kid"].is_string() && k["alg"].is_string() && k["use"] == "sig");
        }
    }

    #[test]
    fn refused_tokens() {
        let rs = keys().signing_key(SigningAlg::Rs256).unwrap();
        let good = rs.sign_jwt("JWT", &claims()).unwrap();
        let (h, rest) = good.split_once('.').unwrap();
        let header = |v: Value| B64.encode(v.to_string());
        let stranger = SigningKey::generate("kid-1", SigningAlg::Rs256).unwrap();
        let cases: Vec<(&str, String, JwtError)> = vec![
            ("unknown kid", header(json!({"alg": "RS256", "kid": "nope"})) + "." + rest, JwtError::UnknownKey),
            ("known kid, other key's signature", stranger.sign_jwt("JWT", &claims()).unwrap(), JwtError::BadSignature),
            ("alg none", header(json!({"alg": "none", "kid": rs.kid()})) + "." + rest, JwtError::UnsupportedAlg),
            ("HS256 with the public key", header(json!({"alg": "HS256", "kid": rs.kid()})) + "." + rest, JwtError::UnsupportedAlg),
            ("alg other than the key's", header(json!({"alg": "ES256", "kid": rs.kid()})) + "." + rest, JwtError::UnknownKey),
            ("crit header", header(json!({"alg": "RS256", "kid": rs.kid(), "crit": ["x"]})) + "." + rest, JwtError::Malformed),
            ("tampered payload", format!("{h}.{}.{}", B64.encode(r#"{"sub":"y"}"#), good.rsplit('.').next().unwrap()), JwtError::BadSignature),
            ("two parts", format!("{h}.x"), JwtError::Malformed),
            ("oversize", "a".repeat(MAX_JWT_LEN + 1), JwtError::Malformed),
        ];
        for (name, token, expected) in cases {
            assert_eq!(keys().verify(&token).unwrap_err(), expected, "{name}");
        }
    }

    #[test]
    fn rotation_never_fails_a_validation_at_the_switch() {
        let overlap = Duration::hours(24);
        let ring = keys().clone();
        let before = ring.signing_key(SigningAlg::Rs256).unwrap().sign_jwt("JWT", &claims()).unwrap();
        // A relying party's JWKS cached just before the switch.
        let cached_jwks = ring.jwks();
        let early = ring.rotate(SigningAlg::Rs256, SigningKey::generate("new-1", SigningAlg::Rs256).unwrap(), T0 - Duration::hours(1), overlap);
        assert!(matches!(early, Err(Error::RotationTooEarly { .. })), "{early:?}");
        let rotated = ring
            .rotate(SigningAlg::Rs256, SigningKey::generate("new-1", SigningAlg::Rs256).unwrap(), T0, overlap)
            .unwrap();
        let after = rotated.signing_key(SigningAlg::Rs256).unwrap().sign_jwt("JWT", &claims()).unwrap();
        // Tokens from before the switch still verify (previous slot) ...
        assert!(rotated.verify(&before).is_ok());
        // ... and the new signing key was in the JWKS the relying party already had.
        let new_kid = rotated.signing_key(SigningAlg::Rs256).unwrap().kid().to_owned();
        assert!(cached_jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == new_kid.as_str()));
        assert!(rotated.verify(&after).is_ok());
        let slots = rotated.slots(SigningAlg::Rs256).unwrap();
        assert_eq!(slots.next.kid(), "new-1");
        assert_eq!(slots.next_published_at, T0);
        // The next rotation drops the oldest key.
        let twice = rotated
            .rotate(SigningAlg::Rs256, SigningKey::generate("new-2", SigningAlg::Rs256).unwrap(), T0 + overlap, overlap)
            .unwrap();
        assert_eq!(twice.verify(&before).unwrap_err(), JwtError::UnknownKey);
        assert!(twice.verify(&after).is_ok());
    }

    #[test]
    fn ring_invariants() {
        let es = || Arc::new(SigningKey::generate("e1", SigningAlg::Es256).unwrap());
        let es2 = Arc::new(SigningKey::generate("e2", SigningAlg::Es256).unwrap());
        let no_rs256 = KeyRing::new(vec![KeySlots { previous: None, current: es(), next: es2.clone(), next_published_at: T0 }]);
        assert!(matches!(no_rs256, Err(Error::KeyRing("RS256 is required"))));
        let rs = keys().slots(SigningAlg::Rs256).unwrap().clone();
        let dup = KeyRing::new(vec![rs, KeySlots { previous: None, current: es(), next: es(), next_published_at: T0 }]);
        assert!(matches!(dup, Err(Error::KeyRing("a kid appears twice"))));
    }

    #[test]
    fn keys_round_trip_through_pem() {
        for alg in SigningAlg::ALL {
            let key = keys().signing_key(alg).unwrap();
            let again = SigningKey::from_pem(key.kid(), alg, key.private_pem()).unwrap();
            assert_eq!(again.public_jwk(), key.public_jwk(), "{alg}");
            let jwt = again.sign_jwt("JWT", &claims()).unwrap();
            assert!(keys().verify(&jwt).is_ok(), "{alg}");
        }
        assert!(SigningKey::from_pem("x", SigningAlg::Rs256, &Secret::new("not pem")).is_err());
        assert_eq!(format!("{:?}", keys().signing_key(SigningAlg::Rs256).unwrap().private_pem()), "[redacted]");
    }

    #[test]
    fn half_hash_matches_oidc_core_example() {
        // OIDC Core §A.3/A.4 style check: at_hash of a known access token with RS256.
        assert_eq!(SigningAlg::Rs256.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(SigningAlg::EdDsa.half_hash("x").len(), 43);
    }
}
