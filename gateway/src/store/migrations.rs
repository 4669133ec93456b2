//! Versioned schema migrations, applied in order at start and by
//! `vestibule migrate`. A migration is never edited once released; a change
//! is a new migration. The SQL is written once for both backends.

use sqlx::Row;

use super::{Backend, Result, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "directory, sessions, tokens, system log",
    sql: r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    login_lower TEXT NOT NULL UNIQUE,
    email_lower TEXT NOT NULL,
    first_name_lower TEXT NOT NULL,
    last_name_lower TEXT NOT NULL,
    status TEXT NOT NULL,
    profile TEXT NOT NULL,
    password_hash TEXT,
    created TEXT NOT NULL,
    activated TEXT,
    status_changed TEXT,
    last_login TEXT,
    last_updated TEXT NOT NULL,
    password_changed TEXT,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT
);
CREATE INDEX users_status ON users (status);
CREATE INDEX users_email ON users (email_lower);
CREATE INDEX users_last_name ON users (last_name_lower);
CREATE INDEX users_first_name ON users (first_name_lower);

CREATE TABLE user_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    last_membership_updated TEXT NOT NULL
);

CREATE TABLE group_memberships (
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_memberships_user ON group_memberships (user_id);

CREATE TABLE admin_roles (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (user_id, role)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    last_used TEXT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    cookie_digest TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    last_active TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE one_time_tokens (
    digest TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE system_log (
    uuid TEXT PRIMARY KEY,
    published TEXT NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_login TEXT NOT NULL,
    target_ids TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    display_message TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX system_log_published ON system_log (published, uuid);
CREATE INDEX system_log_event_type ON system_log (event_type);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
}, Migration {
    version: 2,
    name: "app integrations, signing keys, assignments",
    sql: r#"
CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    label_lower TEXT NOT NULL,
    status TEXT NOT NULL,
    sign_on_mode TEXT NOT NULL,
    catalog_name TEXT,
    settings TEXT NOT NULL,
    credentials TEXT NOT NULL,
    visibility TEXT NOT NULL,
    accessibility TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX apps_name ON apps (name);
CREATE INDEX apps_label ON apps (label_lower);

CREATE TABLE app_keys (
    kid TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    certificate TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX app_keys_app ON app_keys (app_id);

CREATE TABLE app_group_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    profile TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_group_assignments_group ON app_group_assignments (group_id);

CREATE TABLE app_user_assignments (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    username TEXT,
    profile TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_user_assignments_user ON app_user_assignments (user_id);
"#,
}, Migration {
    version: 3,
    name: "authorization servers, signing keys, codes, refresh tokens, revocations, scope grants",
    sql: r#"
CREATE TABLE oauth_servers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    audiences TEXT NOT NULL,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);

CREATE TABLE oauth_keys (
    kid TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    alg TEXT NOT NULL,
    slot TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    published_at TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX oauth_keys_server ON oauth_keys (server_id, slot);

CREATE TABLE oauth_client_secrets (
    client_id TEXT PRIMARY KEY,
    secret_digest TEXT NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    data TEXT NOT NULL,
    redeemed BIGINT NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    data TEXT NOT NULL,
    rotated_at TEXT,
    successor_hash TEXT,
    expires_at TEXT NOT NULL
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE oauth_revoked_grants (
    grant_id TEXT PRIMARY KEY,
    revoked_at TEXT NOT NULL
);

CREATE TABLE oauth_revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE TABLE oauth_jtis (
    jti_key TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE TABLE oauth_transactions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE oauth_app_grants (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (app_id, issuer, scope_id)
);
"#,
}, Migration {
    version: 4,
    name: "SWA credential vault, WS-Federation sign-ins",
    sql: r#"
CREATE TABLE swa_credentials (
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    sealed_password TEXT NOT NULL,
    set_by TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX swa_credentials_user ON swa_credentials (user_id);

CREATE TABLE swa_shared_credentials (
    app_id TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    sealed_password TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);

CREATE TABLE wsfed_sign_ins (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    reply_url TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (session_id, app_id)
);
"#,
}, Migration {
    version: 7,
    name: "access policies of authorization servers, remembered consent, refresh tokens by person, apps' groups claims",
    sql: r#"
CREATE TABLE oauth_policies (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES oauth_servers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    system BIGINT NOT NULL,
    conditions TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX oauth_policies_server ON oauth_policies (server_id, priority);

CREATE TABLE oauth_policy_rules (
    id TEXT PRIMARY KEY,
    policy_id TEXT NOT NULL REFERENCES oauth_policies (id) ON DELETE CASCADE,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    system BIGINT NOT NULL,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX oauth_policy_rules_policy ON oauth_policy_rules (policy_id, priority);
CREATE INDEX oauth_policy_rules_server ON oauth_policy_rules (server_id);

INSERT INTO oauth_policies (id, server_id, name, description, status, priority, system, conditions, created, last_updated)
SELECT '00pdefaultpolicy0001', id, 'Default Policy', 'Default policy description', 'ACTIVE', 1, 0,
    '{"clients":{"include":["ALL_CLIENTS"]}}', created, last_updated
FROM oauth_servers WHERE id = 'default';

INSERT INTO oauth_policy_rules (id, policy_id, server_id, name, status, priority, system, conditions, actions, created, last_updated)
SELECT '0prdefaultpolicyrul1', id, server_id, 'Default Policy Rule', 'ACTIVE', 1, 0,
    '{"grantTypes":{"include":["authorization_code","client_credentials"]},"people":{"groups":{"include":["EVERYONE"]},"users":{"include":[]}},"scopes":{"include":["*"]}}',
    '{"token":{"accessTokenLifetimeMinutes":60,"refreshTokenLifetimeMinutes":0,"refreshTokenWindowMinutes":10080}}',
    created, last_updated
FROM oauth_policies WHERE id = '00pdefaultpolicy0001';

CREATE TABLE oauth_consents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    server_id TEXT NOT NULL,
    issuer TEXT NOT NULL,
    scope TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    UNIQUE (user_id, client_id, server_id, scope)
);
CREATE INDEX oauth_consents_user ON oauth_consents (user_id, client_id);

ALTER TABLE oauth_refresh_tokens ADD COLUMN id TEXT;
ALTER TABLE oauth_refresh_tokens ADD COLUMN user_id TEXT;
ALTER TABLE oauth_refresh_tokens ADD COLUMN created TEXT;
CREATE INDEX oauth_refresh_tokens_user ON oauth_refresh_tokens (user_id, client_id);

CREATE TABLE oauth_app_groups_claims (
    app_id TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
"#,
}, Migration {
    version: 8,
    name: "several client secrets per OIDC app, each with an id and a status",
    sql: r#"
CREATE TABLE oauth_app_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    secret_digest TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    last_updated TEXT NOT NULL
);
CREATE INDEX oauth_app_secrets_client ON oauth_app_secrets (client_id);

INSERT INTO oauth_app_secrets (id, client_id, secret_digest, status, created, last_updated)
SELECT 'ocs' || client_id, client_id, secret_digest, 'ACTIVE', created, created FROM oauth_client_secrets;

DROP TABLE oauth_client_secrets;
"#,
}];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

pub(super) async fn apply(store: &Store) -> Result<Vec<i64>> {
    let mut conn = store.pool().acquire().await?;
    // On PostgreSQL several nodes may start at once: an advisory lock lets one
    // migrate while the others wait. SQLite serialises writers by itself.
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock(73661)").execute(&mut *conn).await?;
    }
    let result = apply_locked(&mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(73661)").execute(&mut *conn).await?;
    }
    result
}

async fn apply_locked(conn: &mut sqlx::AnyConnection) -> Result<Vec<i64>> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations").fetch_all(&mut *conn).await?;
    let applied: Vec<i64> = rows.iter().map(|r| r.get::<i64, _>(0)).collect();
    if let Some(&found) = applied.iter().max() {
        if found > latest() {
            return Err(StoreError::SchemaTooNew { found, known: latest() });
        }
    }
    let mut done = Vec::new();
    let mut pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)).collect();
    pending.sort_by_key(|m| m.version);
    for migration in pending {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for statement in migration.sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(super::ts(time::OffsetDateTime::now_utc()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = migration.version, name = migration.name, "applied migration");
        done.push(migration.version);
    }
    Ok(done)
}
