//! The state the authorization server keeps, behind one small trait per
//! stored object (as fosite does). The gateway implements them over its
//! caches and store; tests use the in-memory fakes in `testing`.
//!
//! Codes and refresh tokens are stored under [`token_hash`] of their value,
//! so a copy of the store does not yield usable credentials.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::claims::UserClaims;
use crate::scope::Scopes;

/// The key under which a code or refresh token is stored: base64url SHA-256.
pub fn token_hash(token: &str) -> String {
    B64.encode(Sha256::digest(token.as_bytes()))
}

/// Identifies everything issued from one authorization: the code, the
/// tokens from its exchange and every refresh token rotated from them.
pub type GrantId = String;

/// What an authorization code stands for (RFC 6749 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub grant_id: GrantId,
    pub client_id: String,
    /// The `redirect_uri` of the authorization request, which the token
    /// request must repeat (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub user_id: String,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub session_id: Option<String>,
    pub nonce: Option<String>,
    /// The S256 `code_challenge` (RFC 7636 §4.3), if one was sent.
    pub code_challenge: Option<String>,
    pub expires_at: OffsetDateTime,
}

/// The outcome of redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First redemption; the code is now spent.
    First(AuthorizationCode),
    /// The code had been redeemed before: an attacker or a confused client
    /// holds it, and everything issued from it must be revoked (RFC 6749 §4.1.2).
    Replayed(AuthorizationCode),
}

/// Authorization codes. Redemption must be atomic: of two concurrent
/// redemptions exactly one sees [`CodeRedemption::First`]. A spent code
/// must be kept (as spent) until it expires, so a replay is recognised.
pub trait AuthorizationCodeStore: Send + Sync {
    fn insert(&self, code_hash: &str, code: AuthorizationCode);
    fn redeem(&self, code_hash: &str) -> Option<CodeRedemption>;
}

/// A refresh token (RFC 6749 §6), stored under its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub grant_id: GrantId,
    pub client_id: String,
    pub user_id: String,
    pub scopes: Scopes,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub session_id: Option<String>,
    pub issued_at: OffsetDateTime,
    /// The grant's absolute end; rotation does not move it.
    pub grant_expires_at: OffsetDateTime,
    /// The token expires when not used for this long after `issued_at`:
    /// the refresh window of the access policy rule it was issued under.
    pub idle_window: time::Duration,
    /// When this token was exchanged for a successor, and the successor's hash.
    pub rotated: Option<(OffsetDateTime, String)>,
}

/// Refresh tokens.
pub trait RefreshTokenStore: Send + Sync {
    fn insert(&self, token_hash: &str, token: RefreshToken);
    fn find(&self, token_hash: &str) -> Option<RefreshToken>;
    /// Records that the token was exchanged for `successor_hash`, atomically:
    /// returns false (and changes nothing) if it had already been rotated.
    fn mark_rotated(&self, token_hash: &str, at: OffsetDateTime, successor_hash: &str) -> bool;
}

/// Grants and access-token revocation. Access tokens are self-contained
/// JWTs, so revoking one means remembering its `jti` until it expires.
pub trait GrantStore: Send + Sync {
    /// Revokes a grant: its refresh tokens and its access tokens stop working.
    fn revoke_grant(&self, grant_id: &str);
    fn is_grant_revoked(&self, grant_id: &str) -> bool;
    fn revoke_access_token(&self, jti: &str, expires_at: OffsetDateTime);
    fn is_access_token_revoked(&self, jti: &str) -> bool;
}

/// Consent the user has given before (Okta's `OAuth2ScopeConsentGrant`s
/// with source `END_USER`), per user, client and authorization server.
/// The gateway records a consent when the user allows a request; this
/// trait only reads, so that an authorization whose scopes are all covered
/// does not ask again (unless `prompt=consent`).
pub trait ConsentStore: Send + Sync {
    /// The scopes `user_id` has consented to for `client_id` on this server.
    fn consented_scopes(&self, user_id: &str, client_id: &str) -> Scopes;
}

/// Remembers the `jti` of client assertions until they expire (RFC 7523 §3
/// item 7).
pub trait JtiReplayCache: Send + Sync {
    /// Records `key`; true if it was not already there. Must be atomic.
    fn first_use(&self, key: &str, expires_at: OffsetDateTime) -> bool;
}

/// Users, for the claims the tokens and userinfo carry.
pub trait UserDirectory: Send + Sync {
    /// The user's claims, or `None` if the user is gone or not active
    /// (then grants stop working: RFC 6749 §5.2 invalid_grant).
    fn user(&self, user_id: &str) -> Option<UserClaims>;
}

/// Randomness, passed in like the clock.
pub trait RandomSource: Send + Sync {
    /// A fresh unguessable token: at least 256 bits, URL-safe.
    fn token(&self) -> String;
}

/// Randomness from the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn token(&self) -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        B64.encode(bytes)
    }
}
