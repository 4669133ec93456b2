//! Password hashing and the password policy.
//!
//! Hashing is argon2id at OWASP's recommended parameters (19 MiB, two
//! passes, one lane). It runs on tokio's blocking pool behind a semaphore, so
//! at most `hashers` hashes run at once and a storm of sign-ins queues there
//! instead of occupying the threads that serve every other request. When the
//! queue is full, new sign-ins are refused at once (HTTP 429).

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;
use vestibule_core::Secret;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many sign-ins are waiting for a hasher.
    #[error("too many password checks are waiting")]
    Busy,
}

/// The hashing pool.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    /// A hash of a random password, verified against when the login is unknown
    /// so that an unknown login costs as much as a known one.
    decoy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").field("available", &self.permits.available_permits()).finish()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes synchronously; call through [`Hasher`] on request paths.
pub fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::thread_rng());
    argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashing with valid parameters").to_string()
}

/// Verifies synchronously; a malformed stored hash verifies as false.
pub fn verify_blocking(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

impl Hasher {
    pub fn new(hashers: usize, queue: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(hashers)),
            waiting: Arc::new(Semaphore::new(queue + hashers)),
            decoy: Arc::new(hash_blocking(&crate::crypto::random_secret())),
        }
    }

    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Verifies `password` against `stored`, or against the decoy when there is
    /// no stored hash, so that the time taken does not tell the two apart.
    pub async fn verify(&self, password: &Secret, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.expose().to_owned();
        let known = stored.is_some();
        let stored = stored.map(str::to_owned).unwrap_or_else(|| self.decoy.as_str().to_owned());
        let ok = self.run(move || verify_blocking(&password, &stored)).await?;
        Ok(ok && known)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let _queued = self.waiting.clone().try_acquire_owned().map_err(|_| HashError::Busy)?;
        let _permit = self.permits.clone().acquire_owned().await.map_err(|_| HashError::Busy)?;
        tokio::task::spawn_blocking(work).await.map_err(|_| HashError::Busy)
    }
}

/// Passwords so common that attackers try them first. A short list, compiled
/// in; it catches the worst choices without shipping a large file.
const COMMON: &[&str] = &[
    "123456", "123456789", "12345678", "password", "qwerty", "123123", "1234567890", "1234567", "12345",
    "1234", "111111", "000000", "iloveyou", "abc123", "password1", "password123", "qwerty123", "qwertyuiop",
    "123321", "654321", "666666", "888888", "121212", "dragon", "monkey", "letmein", "football", "baseball",
    "sunshine", "princess", "welcome", "welcome1", "welcome123", "admin", "admin123", "administrator",
    "passw0rd", "p@ssw0rd", "p@ssword", "login", "master", "hello", "freedom", "whatever", "trustno1",
    "starwars", "superman", "batman", "shadow", "michael", "jennifer", "hunter2", "charlie", "donald",
    "1q2w3e4r", "1q2w3e4r5t", "zaq12wsx", "qazwsx", "asdfghjkl", "asdfgh", "zxcvbnm", "changeme",
    "changeme123", "secret", "letmein123", "iloveyou123", "password1234", "passwordpassword",
    "correcthorsebatterystaple", "123456789012", "1234567891011", "qwertyqwerty", "aaaaaaaaaaaa",
    "abcdefghijkl", "abcd1234abcd", "summer2024", "winter2024", "spring2024", "autumn2024",
];

/// A rule the password broke, phrased for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation(pub String);

/// The password policy: long enough, not common, not the person's own name or login.
pub fn check_policy(
    password: &str,
    min_length: usize,
    login: &str,
    names: &[&str],
) -> Result<(), PolicyViolation> {
    let length = password.chars().count();
    if length < min_length {
        return Err(PolicyViolation(format!("Password requirements: at least {min_length} characters.")));
    }
    if length > 256 {
        return Err(PolicyViolation("Password requirements: at most 256 characters.".into()));
    }
    let lower = password.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if COMMON.iter().any(|c| *c == lower || *c == squeezed) || lower.chars().all(|c| Some(c) == lower.chars().next()) {
        return Err(PolicyViolation("Password requirements: this password is too common.".into()));
    }
    let login_local = login.split('@').next().unwrap_or(login).to_lowercase();
    for part in std::iter::once(login_local.as_str()).chain(names.iter().map(|n| n.trim())) {
        let part = part.to_lowercase();
        if part.chars().count() >= 3 && lower.contains(&part) {
            return Err(PolicyViolation(
                "Password requirements: must not contain your username, first name or last name.".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let cases = [
            ("correct-horse-battery", true),
            ("short", false),
            ("password1234", false),
            ("Password1234", false),
            ("P@ssw0rd", false),
            ("aaaaaaaaaaaaaaa", false),
            ("jdoe-is-the-best", false),
            ("I like Smith a lot", false),
        ];
        for (password, ok) in cases {
            let result = check_policy(password, 12, "jdoe@example.com", &["Jane", "Smith"]);
            assert_eq!(result.is_ok(), ok, "{password}: {result:?}");
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_logins_fail() {
        let hasher = Hasher::new(1, 4);
        let secret = Secret::new("correct-horse-battery");
        let stored = hasher.hash(&secret).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&secret, Some(&stored)).await.unwrap());
        assert!(!hasher.verify(&Secret::new("wrong"), Some(&stored)).await.unwrap());
        assert!(!hasher.verify(&secret, None).await.unwrap());
        assert!(!hasher.verify(&secret, Some("not a hash")).await.unwrap());
    }
}
