//! Okta-style object identifiers: a three-character type prefix and 17
//! base-62 characters (e.g. `00u1a2b3c4d5e6f7g8h` for a user).

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Returns a new identifier with the given prefix and 17 random base-62 characters.
pub fn generate(prefix: &str, rng: &mut impl Rng) -> String {
    let mut id = String::with_capacity(prefix.len() + 17);
    id.push_str(prefix);
    for _ in 0..17 {
        id.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    id
}

/// Returns `len` random base-62 characters, for tokens that people copy.
pub fn random_token(len: usize, rng: &mut impl Rng) -> String {
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Whether `s` could be an identifier this module generated with `prefix`.
pub fn looks_like(prefix: &str, s: &str) -> bool {
    s.len() == prefix.len() + 17 && s.starts_with(prefix) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Identifier prefixes, as Okta uses them.
pub mod prefix {
    pub const USER: &str = "00u";
    pub const GROUP: &str = "00g";
    pub const APP: &str = "0oa";
    pub const SESSION: &str = "102";
    pub const API_TOKEN: &str = "00T";
    pub const ROLE_ASSIGNMENT: &str = "irb";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_okta_shape() {
        let id = generate(prefix::USER, &mut rand::thread_rng());
        assert!(looks_like(prefix::USER, &id), "{id}");
        assert!(!looks_like(prefix::GROUP, &id));
        assert!(!looks_like(prefix::USER, "00u../../etc/passwd"));
    }
}
