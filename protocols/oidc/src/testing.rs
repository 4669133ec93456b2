//! In-memory fakes of the state traits, and a test bed that wires them.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use time::macros::datetime;
use time::OffsetDateTime;
use vestibule_core::{FixedClock, Secret};

use crate::claims::UserClaims;
use crate::client::{Client, ClientLookup};
use crate::keys::{KeyRing, SigningAlg};
use crate::server::AuthorizationServer;
use crate::store::*;
use crate::Provider;

pub const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

#[derive(Default)]
pub struct FakeClients {
    pub clients: Mutex<HashMap<String, (Arc<Client>, Option<Secret>)>>,
}

impl ClientLookup for FakeClients {
    fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.lock().unwrap().get(client_id).map(|(c, _)| c.clone())
    }

    fn verify_secret(&self, client: &Client, presented: &Secret) -> bool {
        let clients = self.clients.lock().unwrap();
        clients
            .get(&client.client_id)
            .and_then(|(_, s)| s.as_ref())
            .is_some_and(|stored| stored.ct_eq(presented.expose()))
    }
}

#[derive(Default)]
pub struct FakeUsers(pub Mutex<HashMap<String, UserClaims>>);

impl UserDirectory for FakeUsers {
    fn user(&self, user_id: &str) -> Option<UserClaims> {
        self.0.lock().unwrap().get(user_id).cloned()
    }
}

#[derive(Default)]
pub struct FakeCodes(pub Mutex<HashMap<String, (AuthorizationCode, bool)>>);

impl AuthorizationCodeStore for FakeCodes {
    fn insert(&self, code_hash: &str, code: AuthorizationCode) {
        self.0.lock().unwrap().insert(code_hash.to_owned(), (code, false));
    }

    fn redeem(&self, code_hash: &str) -> Option<CodeRedemption> {
        let mut codes = self.0.lock().unwrap();
        let (code, used) = codes.get_mut(code_hash)?;
        let was_used = std::mem::replace(used, true);
        Some(if was_used { CodeRedemption::Replayed(code.clone()) } else { CodeRedemption::First(code.clone()) })
    }
}

#[derive(Default)]
pub struct FakeRefreshTokens(pub Mutex<HashMap<String, RefreshToken>>);

impl RefreshTokenStore for FakeRefreshTokens {
    fn insert(&self, token_hash: &str, token: RefreshToken) {
        self.0.lock().unwrap().insert(token_hash.to_owned(), token);
    }

    fn find(&self, token_hash: &str) -> Option<RefreshToken> {
        self.0.lock().unwrap().get(token_hash).cloned()
    }

    fn mark_rotated(&self, token_hash: &str, at: OffsetDateTime, successor_hash: &str) -> bool {
        let mut tokens = self.0.lock().unwrap();
        match tokens.get_mut(token_hash) {
            Some(t) if t.rotated.is_none() => {
                t.rotated = Some((at, successor_hash.to_owned()));
                true
            }
            _ => false,
        }
    }
}

#[derive(Default)]
pub struct FakeGrants {
    pub revoked_grants: Mutex<HashSet<String>>,
    pub revoked_jtis: Mutex<HashSet<String>>,
}

impl GrantStore for FakeGrants {
    fn revoke_grant(&self, grant_id: &str) {
        self.revoked_grants.lock().unwrap().insert(grant_id.to_owned());
    }

    fn is_grant_revoked(&self, grant_id: &str) -> bool {
        self.revoked_grants.lock().unwrap().contains(grant_id)
    }

    fn revoke_access_token(&self, jti: &str, _: OffsetDateTime) {
        self.revoked_jtis.lock().unwrap().insert(jti.to_owned());
    }

    fn is_access_token_revoked(&self, jti: &str) -> bool {
        self.revoked_jtis.lock().unwrap().contains(jti)
    }
}

/// Consents by (user, client).
#[derive(Default)]
pub struct FakeConsents(pub Mutex<HashMap<(String, String), crate::scope::Scopes>>);

impl FakeConsents {
    pub fn remember(&self, user_id: &str, client_id: &str, scopes: &str) {
        let scopes = crate::scope::Scopes::parse(scopes).unwrap();
        self.0.lock().unwrap().insert((user_id.to_owned(), client_id.to_owned()), scopes);
    }
}

impl ConsentStore for FakeConsents {
    fn consented_scopes(&self, user_id: &str, client_id: &str) -> crate::scope::Scopes {
        self.0.lock().unwrap().get(&(user_id.to_owned(), client_id.to_owned())).cloned().unwrap_or_default()
    }
}

#[derive(Default)]
pub struct FakeJtis(pub Mutex<HashSet<String>>);

impl JtiReplayCache for FakeJtis {
    fn first_use(&self, key: &str, _: OffsetDateTime) -> bool {
        self.0.lock().unwrap().insert(key.to_owned())
    }
}

/// Distinct, predictable "random" tokens.
#[derive(Default)]
pub struct CountingRandom(AtomicU64);

impl RandomSource for CountingRandom {
    fn token(&self) -> String {
        format!("rnd{:040}", self.0.fetch_add(1, Ordering::SeqCst))
    }
}

/// One key ring for every test: RSA key generation is slow.
pub fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut n = 0;
        KeyRing::generate(&SigningAlg::ALL, T0 - time::Duration::days(1), || {
            n += 1;
            format!("kid-{n}")
        })
        .expect("keys")
    })
}

pub struct TestBed {
    pub server: AuthorizationServer,
    pub keys: KeyRing,
    pub clock: FixedClock,
    pub random: CountingRandom,
    pub clients: FakeClients,
    pub users: FakeUsers,
    pub codes: FakeCodes,
    pub refresh_tokens: FakeRefreshTokens,
    pub grants: FakeGrants,
    pub jtis: FakeJtis,
    pub consents: FakeConsents,
}

impl TestBed {
    pub fn new() -> Self {
        let bed = Self {
            server: AuthorizationServer::custom("https://sso.example.com", "default", vec!["api://default".into()]),
            keys: keys().clone(),
            clock: FixedClock::new(T0),
            random: CountingRandom::default(),
            clients: FakeClients::default(),
            users: FakeUsers::default(),
            codes: FakeCodes::default(),
            refresh_tokens: FakeRefreshTokens::default(),
            grants: FakeGrants::default(),
            jtis: FakeJtis::default(),
            consents: FakeConsents::default(),
        };
        bed.users.0.lock().unwrap().insert(
            "00ualice".into(),
            UserClaims {
                sub: "00ualice".into(),
                name: Some("Alice Liddell".into()),
                email: Some("alice@example.com".into()),
                email_verified: Some(true),
                groups: vec!["Everyone".into(), "app-admins".into()],
                group_ids: vec!["00geveryone".into(), "00gadmins".into()],
                ..UserClaims::default()
            },
        );
        bed
    }

    pub fn add_client(&self, client: Client, secret: Option<&str>) {
        self.clients
            .clients
            .lock()
            .unwrap()
            .insert(client.client_id.clone(), (Arc::new(client), secret.map(Secret::new)));
    }

    pub fn provider(&self) -> Provider<'_> {
        Provider {
            server: &self.server,
            keys: &self.keys,
            clock: &self.clock,
            random: &self.random,
            clients: &self.clients,
            users: &self.users,
            codes: &self.codes,
            refresh_tokens: &self.refresh_tokens,
            grants: &self.grants,
            jtis: &self.jtis,
            consents: &self.consents,
        }
    }
}

pub const WEB: &str = "0oaweb";
pub const WEB_SECRET: &str = "s3cret-s3cret";
pub const WEB_REDIRECT: &str = "https://app.example.com/cb";
pub const NATIVE: &str = "0oanative";
pub const SERVICE: &str = "0oaservice";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn alice_session() -> crate::authorize::LoginSession {
    crate::authorize::LoginSession {
        user_id: "00ualice".into(),
        auth_time: T0 - time::Duration::minutes(5),
        amr: vec!["pwd".into()],
        session_id: Some("102session".into()),
    }
}

pub fn basic(client_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}")))
}

impl TestBed {
    /// A bed with a confidential web client, a public native client and a
    /// service client.
    pub fn with_clients() -> Self {
        use crate::client::{ApplicationType, GrantType, TokenEndpointAuthMethod};
        let bed = Self::new();
        let mut web = Client::web(WEB, vec![WEB_REDIRECT.into()]);
        web.post_logout_redirect_uris = vec!["https://app.example.com/bye".into()];
        bed.add_client(web, Some(WEB_SECRET));
        let mut native = Client::web(NATIVE, vec!["http://127.0.0.1/cb".into(), "com.example.app:/cb".into()]);
        native.application_type = ApplicationType::Native;
        native.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
        bed.add_client(native, None);
        let mut service = Client::web(SERVICE, vec![]);
        service.application_type = ApplicationType::Service;
        service.grant_types = vec![GrantType::ClientCredentials];
        service.allowed_scopes = Some(vec!["reports.read".into()]);
        bed.add_client(service, Some(WEB_SECRET));
        bed
    }

    pub fn with_custom_scope(mut self, scope: &str) -> Self {
        self.server.custom_scopes.push(crate::server::ScopeDefinition { name: scope.into(), description: String::new() });
        self
    }

    /// Runs an authorization request for alice to completion and returns the code.
    pub fn code(&self, params: &[(&str, &str)]) -> String {
        use crate::authorize::{authorize, complete, AuthorizationRequest, AuthorizeDecision, Interactions};
        let p = self.provider();
        let request = AuthorizationRequest::from_pairs(params.iter().copied());
        match authorize(&p, &request, Some(&alice_session()), Interactions::default()) {
            AuthorizeDecision::Ready(v) => complete(&p, &v, &alice_session()).param("code").unwrap().to_owned(),
            other => panic!("not ready: {other:?}"),
        }
    }

    /// The web client's usual code request.
    pub fn web_code(&self, scope: &str) -> String {
        self.code(&[
            ("client_id", WEB),
            ("redirect_uri", WEB_REDIRECT),
            ("response_type", "code"),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
    }

    /// Exchanges the web client's code.
    pub fn redeem_web_code(&self, code: &str) -> Result<crate::token::TokenResponse, crate::OAuthError> {
        let request = crate::request::FormRequest::new(
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", WEB_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&basic(WEB, WEB_SECRET)),
        );
        crate::token::token(&self.provider(), &request)
    }

    pub fn refresh_web(&self, refresh_token: &str) -> Result<crate::token::TokenResponse, crate::OAuthError> {
        let request = crate::request::FormRequest::new(
            [("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
            Some(&basic(WEB, WEB_SECRET)),
        );
        crate::token::token(&self.provider(), &request)
    }
}
