//! The OpenID Connect / OAuth 2.0 authorization server of Vestibule, without
//! I/O: each endpoint takes a parsed request and returns a decision or a
//! description of the response, which the gateway turns into HTTP.
//!
//! Every endpoint is a table of checks run in order, one function per check,
//! each naming the section of the specification it enforces (the shape of
//! node-oidc-provider's `lib/actions`). State lives behind the traits in
//! [`store`] and [`client`]; time, randomness and keys come in through
//! [`Provider`].
//!
//! How the gateway maps Okta's paths (`{base}` is `{issuer}/oauth2/v1` for
//! the org server, `{issuer}/v1` for a custom one; see
//! [`AuthorizationServer::endpoint`]):
//!
//! | path | call | response |
//! | --- | --- | --- |
//! | `{issuer}/.well-known/openid-configuration` | [`discovery::openid_configuration`] | JSON |
//! | `{issuer}/.well-known/oauth-authorization-server` | [`discovery::oauth_authorization_server`] | JSON |
//! | `{base}/keys` | [`KeyRing::jwks`] | JSON |
//! | `{base}/authorize` (GET, POST) | [`authorize::authorize`], then [`authorize::complete`] | [`authorize::AuthorizeDecision`] |
//! | `{base}/token` | [`token::token`] | [`token::TokenResponse::body`] or [`OAuthError::body`], both no-store |
//! | `{base}/introspect` | [`introspect::introspect`] | JSON |
//! | `{base}/revoke` | [`revoke::revoke`] | 200, empty |
//! | `{base}/userinfo` | [`userinfo::userinfo`] | JSON, or a bearer error |
//! | `{base}/logout` | [`logout::logout`] | [`logout::LogoutDecision`] |
//! | portal tile of an OIDC app | [`initiate_login::initiate_login_redirect`] | redirect URL |
//! | `/api/v1/*` with a bearer token | [`management::authenticate`], [`management::require_scope`] | |
//!
//! Errors are [`OAuthError`]: a wire code, a description safe to show, the
//! HTTP status and, for 401 and 403, the `WWW-Authenticate` value.
//! Internal failures ([`Error`]) reach the client as `server_error` only.

#![forbid(unsafe_code)]
// Tests are tables of cases; their tuple types are long by design.
#![cfg_attr(test, allow(clippy::type_complexity))]

pub mod authorize;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod initiate_login;
pub mod introspect;
pub mod issue;
pub mod keys;
pub mod logout;
pub mod management;
pub mod pkce;
pub mod policy;
pub mod request;
pub mod revoke;
pub mod scope;
pub mod server;
pub mod store;
pub mod token;
pub mod userinfo;

#[cfg(test)]
pub(crate) mod testing;

pub use claims::{Address, UserClaims};
pub use client::{ApplicationType, Client, ClientLookup, GrantType, GroupsClaim, TokenEndpointAuthMethod};
pub use error::{Error, ErrorCode, OAuthError};
pub use issue::{validate_access_token, AccessToken};
pub use keys::{ClientJwks, KeyRing, KeySlots, SigningAlg, SigningKey};
pub use scope::Scopes;
pub use server::{AuthorizationServer, GroupFilter, Lifetimes, ServerKind};
pub use policy::{AccessPolicy, PolicyRule, TokenPolicy};
pub use store::{
    AuthorizationCode, AuthorizationCodeStore, CodeRedemption, ConsentStore, GrantStore, JtiReplayCache, OsRandom, RandomSource,
    RefreshToken, RefreshTokenStore, UserDirectory,
};

use vestibule_core::Clock;

/// Everything an endpoint needs besides its request: one authorization
/// server's configuration and keys, the clock, randomness and the state
/// traits. Cheap to build per request from references.
#[derive(Clone, Copy)]
pub struct Provider<'a> {
    pub server: &'a AuthorizationServer,
    pub keys: &'a KeyRing,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn RandomSource,
    pub clients: &'a dyn ClientLookup,
    pub users: &'a dyn UserDirectory,
    pub codes: &'a dyn AuthorizationCodeStore,
    pub refresh_tokens: &'a dyn RefreshTokenStore,
    pub grants: &'a dyn GrantStore,
    pub jtis: &'a dyn JtiReplayCache,
    pub consents: &'a dyn ConsentStore,
}
