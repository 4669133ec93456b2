//! Fakes of the state traits for the integration tests, through the public API only.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use oidc::authorize::{authorize, complete, AuthorizationRequest, AuthorizeDecision, Interactions, LoginSession};
use oidc::request::FormRequest;
use oidc::*;
use time::OffsetDateTime;
use vestibule_core::{FixedClock, Secret};

#[derive(Default)]
pub struct Clients(pub Mutex<HashMap<String, (Arc<Client>, String)>>);

impl ClientLookup for Clients {
    fn client(&self, id: &str) -> Option<Arc<Client>> {
        self.0.lock().unwrap().get(id).map(|(c, _)| c.clone())
    }
    fn verify_secret(&self, client: &Client, presented: &Secret) -> bool {
        self.0.lock().unwrap().get(&client.client_id).is_some_and(|(_, s)| presented.ct_eq(s))
    }
}

pub struct Users;

impl UserDirectory for Users {
    fn user(&self, id: &str) -> Option<UserClaims> {
        (id == "00ualice").then(|| UserClaims {
            sub: id.into(),
            name: Some("Alice Liddell".into()),
            email: Some("alice@example.com".into()),
            email_verified: Some(true),
            ..UserClaims::default()
        })
    }
}

/// Nobody has consented to anything.
pub struct NoConsents;

impl ConsentStore for NoConsents {
    fn consented_scopes(&self, _: &str, _: &str) -> Scopes {
        Scopes::default()
    }
}

#[derive(Default)]
pub struct Codes(Mutex<HashMap<String, (AuthorizationCode, bool)>>);

impl AuthorizationCodeStore for Codes {
    fn insert(&self, h: &str, code: AuthorizationCode) {
        self.0.lock().unwrap().insert(h.into(), (code, false));
    }
    fn redeem(&self, h: &str) -> Option<CodeRedemption> {
        let mut m = self.0.lock().unwrap();
        let (code, used) = m.get_mut(h)?;
        Some(if std::mem::replace(used, true) { CodeRedemption::Replayed(code.clone()) } else { CodeRedemption::First(code.clone()) })
    }
}

#[derive(Default)]
pub struct Refresh(Mutex<HashMap<String, RefreshToken>>);

impl RefreshTokenStore for Refresh {
    fn insert(&self, h: &str, t: RefreshToken) {
        self.0.lock().unwrap().insert(h.into(), t);
    }
    fn find(&self, h: &str) -> Option<RefreshToken> {
        self.0.lock().unwrap().get(h).cloned()
    }
    fn mark_rotated(&self, h: &str, at: OffsetDateTime, succ: &str) -> bool {
        let mut m = self.0.lock().unwrap();
        match m.get_mut(h) {
            Some(t) if t.rotated.is_none() => {
                t.rotated = Some((at, succ.into()));
                true
            }
            _ => false,
        }
    }
}

#[derive(Default)]
pub struct Grants(Mutex<HashSet<String>>);

impl GrantStore for Grants {
    fn revoke_grant(&self, g: &str) {
        self.0.lock().unwrap().insert(g.into());
    }
    fn is_grant_revoked(&self, g: &str) -> bool {
        self.0.lock().unwrap().contains(g)
    }
    fn revoke_access_token(&self, jti: &str, _: OffsetDateTime) {
        self.0.lock().unwrap().insert(jti.into());
    }
    fn is_access_token_revoked(&self, jti: &str) -> bool {
        self.0.lock().unwrap().contains(jti)
    }
}

#[derive(Default)]
pub struct Jtis(Mutex<HashSet<String>>);

impl JtiReplayCache for Jtis {
    fn first_use(&self, key: &str, _: OffsetDateTime) -> bool {
        self.0.lock().unwrap().insert(key.into())
    }
}

#[derive(Default)]
pub struct Counter(AtomicU64);

impl RandomSource for Counter {
    fn token(&self) -> String {
        format!("tok{:040}", self.0.fetch_add(1, Ordering::SeqCst))
    }
}

pub const REDIRECT: &str = "https://rp.example.com/cb";

pub struct Bed {
    pub server: AuthorizationServer,
    pub keys: KeyRing,
    pub clock: FixedClock,
    pub random: Counter,
    pub clients: Clients,
    pub users: Users,
    pub codes: Codes,
    pub refresh: Refresh,
    pub grants: Grants,
    pub jtis: Jtis,
}

impl Bed {
    /// The clock starts at the real time, because the relying party under
    /// test reads the real clock; it then stands still.
    pub fn new() -> Self {
        let now = OffsetDateTime::now_utc();
        let mut n = 0;
        let keys = KeyRing::generate(&SigningAlg::ALL, now, || {
            n += 1;
            format!("kid-{n}")
        })
        .unwrap();
        Self {
            server: AuthorizationServer::custom("https://sso.example.com", "default", vec!["api://default".into()]),
            keys,
            clock: FixedClock::new(now),
            random: Counter::default(),
            clients: Clients::default(),
            users: Users,
            codes: Codes::default(),
            refresh: Refresh::default(),
            grants: Grants::default(),
            jtis: Jtis::default(),
        }
    }

    pub fn add_client(&self, id: &str, alg: SigningAlg) {
        let mut c = Client::web(id, vec![REDIRECT.into()]);
        c.id_token_signed_response_alg = alg;
        self.clients.0.lock().unwrap().insert(id.into(), (Arc::new(c), format!("{id}-secret")));
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
            refresh_tokens: &self.refresh,
            grants: &self.grants,
            jtis: &self.jtis,
            consents: &NoConsents,
        }
    }

    pub fn session(&self) -> LoginSession {
        LoginSession {
            user_id: "00ualice".into(),
            auth_time: self.clock_now() - time::Duration::minutes(1),
            amr: vec!["pwd".into()],
            session_id: Some("102abc".into()),
        }
    }

    pub fn clock_now(&self) -> OffsetDateTime {
        use vestibule_core::Clock;
        self.clock.now()
    }

    /// Authorization code flow for alice with the given nonce; returns the token response.
    pub fn login(&self, client_id: &str, nonce: &str) -> token::TokenResponse {
        let p = self.provider();
        let request = AuthorizationRequest::from_pairs([
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("nonce", nonce),
            ("state", "s"),
        ]);
        let AuthorizeDecision::Ready(v) = authorize(&p, &request, Some(&self.session()), Interactions::default()) else {
            panic!("not ready")
        };
        let code = complete(&p, &v, &self.session()).param("code").unwrap().to_owned();
        let secret = format!("{client_id}-secret");
        token::token(
            &p,
            &FormRequest::new(
                [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("client_id", client_id),
                ],
                Some(&basic(client_id, &secret)),
            ),
        )
        .unwrap()
    }
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}
