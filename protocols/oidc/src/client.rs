//! OAuth clients as the authorization server sees them, and the trait the
//! gateway implements to find them and check their secrets.

use std::sync::Arc;

use vestibule_core::Secret;

use crate::keys::{ClientJwks, SigningAlg};
use crate::server::GroupFilter;

/// OIDC Dynamic Client Registration §2 `application_type`, with Okta's
/// `browser` (single-page) and `service` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationType {
    Web,
    /// Installed apps: may use loopback redirect URIs with any port (RFC 8252 §7.3).
    Native,
    Browser,
    Service,
}

/// How a client authenticates at the token, introspection and revocation
/// endpoints (OIDC Core §9, RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A public client: no credentials, PKCE instead.
    None,
}

impl TokenEndpointAuthMethod {
    pub const ALL: [TokenEndpointAuthMethod; 4] =
        [Self::ClientSecretBasic, Self::ClientSecretPost, Self::PrivateKeyJwt, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

/// The grant types the server supports (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A registered client (Okta's `OpenIdConnectApplication`, reduced to what
/// the protocol needs). The gateway builds it once per catalog snapshot, so
/// its JWKS is parsed once.
#[derive(Debug)]
pub struct Client {
    pub client_id: String,
    pub application_type: ApplicationType,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Compared exactly (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3), except the
    /// loopback port for native apps.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// The scopes the client may be granted; `None` means any scope the
    /// server knows (user-facing flows only: client_credentials needs a list).
    pub allowed_scopes: Option<Vec<String>>,
    /// Okta's `pkce_required`: PKCE even for a confidential client.
    pub pkce_required: bool,
    /// OIDC Registration §2 `id_token_signed_response_alg`; RS256 by default.
    pub id_token_signed_response_alg: SigningAlg,
    /// Public keys for `private_key_jwt`.
    pub jwks: Option<ClientJwks>,
    /// OIDC Core §4 / Registration §2 `initiate_login_uri`.
    pub initiate_login_uri: Option<String>,
    /// Whether the user must be asked to consent (Okta's `consent_method`
    /// REQUIRED) rather than the app being trusted.
    pub consent_required: bool,
    /// The app's own groups claim for ID tokens of the org authorization
    /// server (Okta's "Groups claim filter" on the app's Sign On tab).
    pub groups_claim: Option<GroupsClaim>,
}

/// An app's groups claim: the claim's name and the filter of the groups it
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupsClaim {
    pub name: String,
    pub filter: GroupFilter,
}

impl Client {
    /// A client with the usual defaults: a confidential web app using
    /// `client_secret_basic` and the code and refresh grants.
    pub fn web(client_id: impl Into<String>, redirect_uris: Vec<String>) -> Self {
        Self {
            client_id: client_id.into(),
            application_type: ApplicationType::Web,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            redirect_uris,
            post_logout_redirect_uris: Vec::new(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            allowed_scopes: None,
            pkce_required: false,
            id_token_signed_response_alg: SigningAlg::Rs256,
            jwks: None,
            initiate_login_uri: None,
            consent_required: false,
            groups_claim: None,
        }
    }

    /// Public clients hold no credentials (RFC 6749 §2.1).
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }

    pub fn may_use(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn may_request_scope(&self, scope: &str) -> bool {
        self.allowed_scopes.as_ref().is_none_or(|allowed| allowed.iter().any(|s| s == scope))
    }
}

/// How the crate finds clients. The gateway implements it over its catalog
/// snapshot; lookups take no lock.
pub trait ClientLookup: Send + Sync {
    /// The active client with this id, or `None` (unknown or inactive).
    fn client(&self, client_id: &str) -> Option<Arc<Client>>;

    /// Whether `presented` is the client's secret. Secrets are stored hashed
    /// or encrypted, so only the gateway can check; it must do so in constant
    /// time (e.g. an Argon2 verify, or [`Secret::ct_eq`] after decryption).
    fn verify_secret(&self, client: &Client, presented: &Secret) -> bool;
}
