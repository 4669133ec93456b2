//! The `oidc` crate's state traits over the store and the caches.
//!
//! The traits are synchronous (the crate does no I/O) and the store is
//! not, so each call runs its query with `block_in_place`: the worker
//! thread hands its other tasks to the rest of the pool while it waits.
//! The gateway always runs on the multi-threaded runtime. Atomicity is
//! the store's: a code is redeemed and a refresh token rotated by one
//! conditional UPDATE each.

use std::future::Future;
use std::sync::Arc;

use oidc::store::{AuthorizationCode, CodeRedemption, RefreshToken};
use oidc::{
    Address, ApplicationType, AuthorizationCodeStore, Client, ClientJwks, ClientLookup, ConsentStore, GrantStore, GrantType,
    JtiReplayCache, OsRandom, Provider, RefreshTokenStore, Scopes, SigningAlg, TokenEndpointAuthMethod, UserClaims, UserDirectory,
};
use serde_json::Value;
use time::OffsetDateTime;
use vestibule_core::Secret;

use super::runtime::{LoadedServer, ORG};
use crate::apps::{AppInstance, AppStatus, SignOnMode};
use crate::state::AppState;

/// Runs a store call from synchronous code on a worker thread.
pub fn block<F: Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// One server's view of the store.
pub struct Backing<'a> {
    pub state: &'a AppState,
    pub loaded: &'a LoadedServer,
}

static RANDOM: OsRandom = OsRandom;

impl<'a> Backing<'a> {
    pub fn new(state: &'a AppState, loaded: &'a LoadedServer) -> Self {
        Self { state, loaded }
    }

    pub fn provider(&'a self) -> Provider<'a> {
        Provider {
            server: &self.loaded.server,
            keys: &self.loaded.keys,
            clock: &*self.state.clock,
            random: &RANDOM,
            clients: self,
            users: self,
            codes: self,
            refresh_tokens: self,
            grants: self,
            jtis: self,
            consents: self,
        }
    }

    fn server_id(&self) -> &str {
        &self.loaded.record.id
    }
}

fn log_store_error(what: &str, e: &dyn std::fmt::Display) {
    tracing::error!(error = %e, "{what}");
}

impl ClientLookup for Backing<'_> {
    fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        if client_id.is_empty() || client_id.len() > 64 {
            return None;
        }
        let app = block(crate::apps::cache::app(self.state, client_id)).ok()??;
        if app.status != AppStatus::Active || app.sign_on_mode != SignOnMode::OpenIdConnect {
            return None;
        }
        let facts = block(client_facts(self.state, &app.id)).ok()?;
        let client = if self.server_id() == ORG {
            let mut client = client_from_app(&app, self.loaded, &facts.granted_scopes);
            client.groups_claim = facts.groups_claim.clone();
            client
        } else {
            client_from_app(&app, self.loaded, &[])
        };
        Some(Arc::new(client))
    }

    fn verify_secret(&self, client: &Client, presented: &Secret) -> bool {
        let facts = match block(client_facts(self.state, &client.client_id)) {
            Ok(f) => f,
            Err(e) => {
                log_store_error("could not read a client secret", &e);
                return false;
            }
        };
        let digest = crate::crypto::digest_token(presented.expose());
        // Every active secret is compared, each in constant time.
        facts.secret_digests.iter().fold(false, |found, stored| vestibule_core::secret::ct_eq_bytes(stored.as_bytes(), digest.as_bytes()) | found)
    }
}

/// What a client needs beyond its app, read once and cached by app id
/// (`Caches.oauth_clients`); every change to a grant, the groups claim or
/// the secret invalidates the app, which drops this too.
#[derive(Debug)]
pub struct ClientFacts {
    /// Okta management scopes granted to the app (org server only).
    pub granted_scopes: Vec<String>,
    /// The app's groups claim on the org server.
    pub groups_claim: Option<oidc::GroupsClaim>,
    /// The digests of the active client secrets (two while one is rotated).
    pub secret_digests: Vec<String>,
}

pub async fn client_facts(state: &AppState, app_id: &str) -> Result<Arc<ClientFacts>, crate::store::StoreError> {
    if let Some(found) = state.caches.oauth_clients.get(app_id).await {
        state.metrics.cache_lookup("oauth_clients", true);
        return Ok(found);
    }
    state.metrics.cache_lookup("oauth_clients", false);
    let facts = Arc::new(ClientFacts {
        granted_scopes: state.store.app_scope_grants(app_id).await?.into_iter().map(|g| g.scope_id).collect(),
        groups_claim: state.store.app_groups_claim(app_id).await?.as_ref().and_then(super::app_claims::groups_claim_of),
        secret_digests: state.store.client_secrets(app_id).await?.into_iter().filter(|s| s.active).map(|s| s.digest).collect(),
    });
    state.caches.oauth_clients.insert(app_id.to_owned(), facts.clone()).await;
    Ok(facts)
}

/// Reads an OIDC app's Okta settings into the protocol's client.
pub fn client_from_app(app: &AppInstance, loaded: &LoadedServer, granted_scopes: &[String]) -> Client {
    let empty = serde_json::Map::new();
    let settings = app.settings.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let credentials = app.credentials.get("oauthClient").and_then(Value::as_object).unwrap_or(&empty);
    let text = |m: &serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let list = |k: &str| -> Vec<String> {
        settings.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
    };
    let application_type = match text(settings, "application_type").as_deref() {
        Some("native") => ApplicationType::Native,
        Some("browser") => ApplicationType::Browser,
        Some("service") => ApplicationType::Service,
        _ => ApplicationType::Web,
    };
    let public_by_default = matches!(application_type, ApplicationType::Native | ApplicationType::Browser);
    let token_endpoint_auth_method = match text(credentials, "token_endpoint_auth_method").as_deref() {
        Some("client_secret_post") => TokenEndpointAuthMethod::ClientSecretPost,
        Some("private_key_jwt") => TokenEndpointAuthMethod::PrivateKeyJwt,
        Some("none") => TokenEndpointAuthMethod::None,
        Some("client_secret_basic") => TokenEndpointAuthMethod::ClientSecretBasic,
        _ if public_by_default => TokenEndpointAuthMethod::None,
        _ => TokenEndpointAuthMethod::ClientSecretBasic,
    };
    let grant_types = list("grant_types").iter().filter_map(|g| GrantType::parse(g)).collect();
    let pkce_required = credentials.get("pkce_required").and_then(Value::as_bool).unwrap_or(public_by_default);
    let jwks = settings.get("jwks").and_then(|j| ClientJwks::parse(j).ok());
    let id_token_signed_response_alg =
        text(settings, "id_token_signed_response_alg").as_deref().and_then(SigningAlg::parse).unwrap_or(SigningAlg::Rs256);
    // On the org server an app may be granted Okta's management scopes;
    // a service app gets exactly its grants. On a custom server a service
    // app may ask for the server's custom scopes.
    let allowed_scopes = if loaded.record.id == ORG {
        let mut allowed: Vec<String> = if application_type == ApplicationType::Service {
            Vec::new()
        } else {
            oidc::server::OIDC_SCOPES.iter().map(|s| (*s).to_owned()).collect()
        };
        allowed.extend(granted_scopes.iter().cloned());
        Some(allowed)
    } else if application_type == ApplicationType::Service {
        Some(loaded.server.custom_scopes.iter().map(|s| s.name.clone()).collect())
    } else {
        None
    };
    Client {
        client_id: app.id.clone(),
        application_type,
        token_endpoint_auth_method,
        redirect_uris: list("redirect_uris"),
        post_logout_redirect_uris: list("post_logout_redirect_uris"),
        grant_types,
        allowed_scopes,
        pkce_required,
        id_token_signed_response_alg,
        jwks,
        initiate_login_uri: text(settings, "initiate_login_uri"),
        consent_required: text(settings, "consent_method").as_deref() == Some("REQUIRED"),
        groups_claim: None,
    }
}

impl UserDirectory for Backing<'_> {
    fn user(&self, user_id: &str) -> Option<UserClaims> {
        block(user_claims(self.state, user_id))
    }
}

/// The claims of an active person, from their profile and groups.
pub async fn user_claims(state: &AppState, user_id: &str) -> Option<UserClaims> {
    let principal = crate::auth::load_principal(state, user_id).await.ok()??;
    let user = &principal.user;
    if !user.status.may_sign_in() {
        return None;
    }
    let (groups, group_ids) = crate::apps::cache::groups_of_user(state, user_id).await.ok()?.iter().map(|g| (g.name.clone(), g.id.clone())).unzip();
    let p = |k: &str| user.profile.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
    let address = Address {
        formatted: None,
        street_address: p("streetAddress"),
        locality: p("city"),
        region: p("state"),
        postal_code: p("zipCode"),
        country: p("countryCode"),
    };
    let has_address = address != Address::default();
    Some(UserClaims {
        sub: user.id.clone(),
        name: Some(user.display_name()),
        given_name: p("firstName"),
        family_name: p("lastName"),
        middle_name: p("middleName"),
        nickname: p("nickName"),
        preferred_username: Some(user.login().to_owned()),
        profile: p("profileUrl"),
        picture: None,
        website: None,
        gender: None,
        birthdate: None,
        zoneinfo: p("timezone"),
        locale: p("locale"),
        updated_at: Some(user.last_updated),
        email: p("email"),
        email_verified: p("email").map(|_| true),
        address: has_address.then_some(address),
        phone_number: p("mobilePhone").or_else(|| p("primaryPhone")),
        phone_number_verified: None,
        groups,
        group_ids,
    })
}

impl AuthorizationCodeStore for Backing<'_> {
    fn insert(&self, code_hash: &str, code: AuthorizationCode) {
        if let Err(e) = block(self.state.store.insert_code(self.server_id(), code_hash, &code)) {
            // The client will get a code the token endpoint does not know:
            // invalid_grant there, which is what a lost code deserves.
            log_store_error("could not store an authorization code", &e);
        }
    }

    fn redeem(&self, code_hash: &str) -> Option<CodeRedemption> {
        match block(self.state.store.redeem_code(self.server_id(), code_hash)) {
            Ok(Some((code, true))) => Some(CodeRedemption::First(code)),
            Ok(Some((code, false))) => Some(CodeRedemption::Replayed(code)),
            Ok(None) => None,
            Err(e) => {
                log_store_error("could not redeem an authorization code", &e);
                None
            }
        }
    }
}

impl RefreshTokenStore for Backing<'_> {
    fn insert(&self, token_hash: &str, token: RefreshToken) {
        if let Err(e) = block(self.state.store.insert_refresh_token(self.server_id(), token_hash, &token)) {
            log_store_error("could not store a refresh token", &e);
        }
    }

    fn find(&self, token_hash: &str) -> Option<RefreshToken> {
        block(self.state.store.refresh_token(self.server_id(), token_hash)).unwrap_or_else(|e| {
            log_store_error("could not read a refresh token", &e);
            None
        })
    }

    fn mark_rotated(&self, token_hash: &str, at: OffsetDateTime, successor_hash: &str) -> bool {
        block(self.state.store.mark_refresh_rotated(token_hash, at, successor_hash)).unwrap_or_else(|e| {
            log_store_error("could not rotate a refresh token", &e);
            false
        })
    }
}

impl GrantStore for Backing<'_> {
    fn revoke_grant(&self, grant_id: &str) {
        if let Err(e) = block(self.state.store.revoke_grant(grant_id, self.state.now())) {
            log_store_error("could not revoke a grant", &e);
        }
    }

    /// A store failure counts as revoked: refusing is the safe answer.
    fn is_grant_revoked(&self, grant_id: &str) -> bool {
        block(self.state.store.is_grant_revoked(grant_id)).unwrap_or(true)
    }

    fn revoke_access_token(&self, jti: &str, expires_at: OffsetDateTime) {
        if let Err(e) = block(self.state.store.revoke_access_token(jti, expires_at)) {
            log_store_error("could not revoke an access token", &e);
        }
    }

    fn is_access_token_revoked(&self, jti: &str) -> bool {
        block(self.state.store.is_access_token_revoked(jti)).unwrap_or(true)
    }
}

impl ConsentStore for Backing<'_> {
    /// A store failure counts as no consent: the person is asked again.
    fn consented_scopes(&self, user_id: &str, client_id: &str) -> Scopes {
        match block(self.state.store.consents(user_id, Some(client_id), Some(self.server_id()))) {
            Ok(consents) => consents.into_iter().map(|c| c.scope).collect(),
            Err(e) => {
                log_store_error("could not read consents", &e);
                Scopes::default()
            }
        }
    }
}

impl JtiReplayCache for Backing<'_> {
    /// Stored by digest: the key joins client id and jti with a NUL, which
    /// PostgreSQL text refuses, and a digest also bounds its length.
    fn first_use(&self, key: &str, expires_at: OffsetDateTime) -> bool {
        block(self.state.store.first_use_of_jti(&crate::crypto::digest_token(key), expires_at)).unwrap_or(false)
    }
}
