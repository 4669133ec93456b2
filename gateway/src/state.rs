//! What every request handler shares: configuration, the store, the clock,
//! the caches and the metrics. Passed explicitly; there are no globals.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use vestibule_core::Clock;

use crate::config::Config;
use crate::crypto::Vault;
use crate::metrics::Metrics;
use crate::passwords::Hasher;
use crate::store::{ApiTokenRecord, LogWriter, SessionRecord, Store};
use crate::syslog::{Actor, ClientInfo, LogEvent, Outcome, Target};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub store: Store,
    /// The System Log's single writer (group commit); see [`AppState::log`].
    pub syslog: LogWriter,
    pub clock: Arc<dyn Clock>,
    pub vault: Vault,
    pub hasher: Hasher,
    pub metrics: Metrics,
    pub caches: Caches,
    pub catalog: crate::apps::catalog::CatalogHandle,
    /// The authorization servers and their key rings (loaded on first use).
    pub oauth: Arc<crate::oauth::Runtime>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(
        config: Config,
        store: Store,
        syslog: LogWriter,
        clock: Arc<dyn Clock>,
        vault: Vault,
        metrics: Metrics,
        catalog: crate::apps::catalog::CatalogHandle,
    ) -> Self {
        let hasher = Hasher::new(config.passwords.hashers, config.passwords.queue);
        let caches = Caches::new(store.backend() == crate::store::Backend::Postgres);
        let oauth = Arc::new(crate::oauth::Runtime::new());
        Self { inner: Arc::new(Inner { config, store, syslog, clock, vault, hasher, metrics, caches, catalog, oauth }) }
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Applies an invalidation to this node's caches. Every write that
    /// changes cached state calls this, so that one mechanism can later also
    /// carry invalidations to the other nodes sharing the database.
    pub async fn invalidate(&self, what: Invalidation) {
        match what {
            Invalidation::Session { cookie_digest } => self.caches.sessions.invalidate(&cookie_digest).await,
            Invalidation::ApiToken { digest } => self.caches.api_tokens.invalidate(&digest).await,
            // Sessions and tokens hold only ids; a user's status and roles are
            // read per request through the principal cache.
            Invalidation::User { id } => self.caches.principals.invalidate(&id).await,
            Invalidation::App { id } => {
                self.caches.apps.invalidate(&id).await;
                self.caches.saml_apps.invalidate(&id).await;
                self.caches.oauth_clients.invalidate(&id).await;
            }
            Invalidation::SigningKey { kid } => self.caches.saml_keys.invalidate(&kid).await,
            Invalidation::Assignments { user_id } => self.caches.assignments.invalidate(&user_id).await,
            Invalidation::Memberships { user_id } => self.caches.user_groups.invalidate(&user_id).await,
            Invalidation::AllMemberships => self.caches.user_groups.invalidate_all(),
        }
    }

    /// Writes a System Log event and returns once it is committed, so a read
    /// that follows sees it. Events logged at the same time share one commit
    /// (the writer's group commit). A failure to log is itself logged and does
    /// not fail the request that caused it (the write it records has happened).
    pub async fn log(&self, event: EventBuilder) {
        let event_type = event.event_type;
        let event = event.build(self.now());
        if let Err(e) = self.syslog.append(event).await {
            tracing::error!(error = %e, event_type, "could not append to the System Log");
        }
    }
}

/// A change that cached state must forget.
#[derive(Debug, Clone)]
pub enum Invalidation {
    Session { cookie_digest: String },
    ApiToken { digest: String },
    User { id: String },
    /// An app's configuration (settings, status, keys).
    App { id: String },
    /// One person's assignments.
    Assignments { user_id: String },
    /// A signing key that was deleted: its parsed form must go.
    SigningKey { kid: String },
    /// One person's group memberships.
    Memberships { user_id: String },
    /// A group renamed or deleted: every person's groups.
    AllMemberships,
}

/// A user as the permission checks see them: status and admin roles.
#[derive(Debug, Clone)]
pub struct CachedPrincipal {
    pub user: crate::directory::User,
    pub roles: Vec<crate::directory::AdminRole>,
}

pub struct Caches {
    /// Sessions by cookie digest.
    pub sessions: Cache<String, Arc<SessionRecord>>,
    /// API tokens by digest.
    pub api_tokens: Cache<String, Arc<ApiTokenRecord>>,
    /// Users with their roles, by user id.
    pub principals: Cache<String, Arc<CachedPrincipal>>,
    /// App integrations by id.
    pub apps: Cache<String, Arc<crate::apps::AppInstance>>,
    /// Each person's assignments, by user id.
    pub assignments: Cache<String, crate::apps::cache::AssignedApps>,
    /// SAML apps' parsed settings (regular expressions compiled) by app id,
    /// with the app version they were parsed from.
    pub saml_apps: Cache<String, (time::OffsetDateTime, Arc<crate::saml_idp::SamlApp>)>,
    /// Parsed SAML signing keys by kid: parsed once, at first use or rotation.
    pub saml_keys: Cache<String, Arc<saml::SigningKey>>,
    /// SAML AuthnRequest and LogoutRequest IDs seen while valid (replay defence).
    pub saml_replay: Cache<String, ()>,
    /// Each person's groups (ids and names), by user id, for group attribute
    /// statements and groups claims at launch.
    pub user_groups: Cache<String, Arc<[crate::directory::Group]>>,
    /// What an OIDC client needs beyond its app, by app id: management
    /// scope grants, groups claim and client secret digest.
    pub oauth_clients: Cache<String, Arc<crate::oauth::ClientFacts>>,
}

/// How long a node may serve an entry that another node could have changed.
/// With a shared PostgreSQL store, other nodes' revocations reach this node's
/// caches within this bound; with embedded SQLite there is one node and
/// entries live until invalidated or idle.
const SHARED_STORE_TTL: Duration = Duration::from_secs(30);

impl Caches {
    fn new(shared_store: bool) -> Self {
        fn cache<V: Clone + Send + Sync + 'static>(capacity: u64, shared_store: bool) -> Cache<String, V> {
            let builder = Cache::builder().max_capacity(capacity).time_to_idle(Duration::from_secs(3600));
            if shared_store { builder.time_to_live(SHARED_STORE_TTL).build() } else { builder.build() }
        }
        Self {
            sessions: cache(1_000_000, shared_store),
            api_tokens: cache(100_000, shared_store),
            principals: cache(1_000_000, shared_store),
            apps: cache(100_000, shared_store),
            assignments: cache(2_000_000, shared_store),
            saml_apps: cache(100_000, shared_store),
            saml_keys: Cache::builder().max_capacity(100_000).build(),
            saml_replay: Cache::builder().max_capacity(1_000_000).time_to_live(Duration::from_secs(15 * 60)).build(),
            user_groups: cache(1_000_000, shared_store),
            oauth_clients: cache(100_000, shared_store),
        }
    }
}

/// A System Log event under construction.
pub struct EventBuilder {
    event_type: &'static str,
    display_message: String,
    severity: &'static str,
    actor: Actor,
    targets: Vec<Target>,
    outcome: Outcome,
    client: ClientInfo,
    debug: serde_json::Map<String, serde_json::Value>,
}

impl EventBuilder {
    pub fn new(event_type: &'static str, display_message: impl Into<String>, actor: Actor, client: &ClientInfo) -> Self {
        Self {
            event_type,
            display_message: display_message.into(),
            severity: "INFO",
            actor,
            targets: Vec::new(),
            outcome: Outcome::success(),
            client: client.clone(),
            debug: serde_json::Map::new(),
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        if outcome.result != "SUCCESS" {
            self.severity = "WARN";
        }
        self.outcome = outcome;
        self
    }

    pub fn debug(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.debug.insert(key.to_owned(), value.into());
        self
    }

    fn build(self, now: time::OffsetDateTime) -> LogEvent {
        LogEvent {
            uuid: uuid::Uuid::new_v4().to_string(),
            published: crate::store::ts(now),
            event_type: self.event_type.to_owned(),
            severity: self.severity,
            display_message: self.display_message,
            actor: self.actor,
            targets: self.targets,
            outcome: self.outcome,
            client_ip: self.client.ip,
            user_agent: self.client.user_agent,
            request_id: self.client.request_id,
            debug: self.debug,
        }
    }
}
