//! Proof Key for Code Exchange (RFC 7636), S256 only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use vestibule_core::secret::ct_eq_bytes;

/// RFC 7636 §4.1: `code_verifier = 43*128unreserved`; a `code_challenge`
/// has the same grammar (§4.2).
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: the server hashes the verifier and compares it with the
/// stored challenge, here in constant time.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    is_well_formed(verifier) && ct_eq_bytes(s256_challenge(verifier).as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let cases = [
            (verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", true),
            (verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", false),
            ("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", false),
            (verifier, verifier, false),
        ];
        for (v, c, ok) in cases {
            assert_eq!(verify_s256(v, c), ok, "{v} {c}");
        }
    }
}
