//! What happens once at start: the master key, the first admin, the TLS
//! certificate. Errors here name the setting at fault and exit with 64.

use std::path::Path;

use serde_json::{json, Map};
use time::OffsetDateTime;
use vestibule_core::{id, Secret};

use crate::config::{Config, ConfigError};
use crate::crypto::{digest_token, MasterKey, Vault};
use crate::directory::{AdminRole, User, UserStatus};
use crate::store::{ApiTokenRecord, NewUser, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong: exit status 64.
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

/// The master key from VESTIBULE_MASTER_KEY, or from `<data_dir>/master.key`,
/// generating that file (mode 0600) on first start.
pub fn master_key(config: &Config) -> Result<MasterKey, StartError> {
    if let Some(key) = &config.master_key {
        return MasterKey::from_base64(key.expose()).map_err(|m| ConfigError::new("VESTIBULE_MASTER_KEY", m).into());
    }
    let path = config.data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| StartError::Io(format!("{}: {e}", path.display())))?;
        return MasterKey::from_base64(&text)
            .map_err(|m| ConfigError::new("VESTIBULE_MASTER_KEY", format!("{}: {m}", path.display())).into());
    }
    let key = MasterKey::generate();
    write_private(&path, key.to_base64().as_bytes())?;
    tracing::warn!(
        path = %path.display(),
        "generated a master key file; keep it with the database and back it up, or set VESTIBULE_MASTER_KEY"
    );
    Ok(key)
}

/// Writes a file readable only by its owner.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), StartError> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StartError::Io(format!("{}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| StartError::Io(format!("{}: {e}", path.display())))?;
    file.write_all(contents).and_then(|_| file.sync_all()).map_err(|e| StartError::Io(format!("{}: {e}", path.display())))
}

/// The vault: the master key, and during a rotation the previous one from
/// VESTIBULE_MASTER_KEY_PREVIOUS (which must differ from the master key).
pub fn vault(config: &Config) -> Result<Vault, StartError> {
    let master = master_key(config)?;
    let previous = match &config.master_key_previous {
        Some(text) => Some(MasterKey::from_base64(text.expose()).map_err(|m| ConfigError::new("VESTIBULE_MASTER_KEY_PREVIOUS", m))?),
        None => None,
    };
    if previous.as_ref().is_some_and(|p| p.fingerprint() == master.fingerprint()) {
        return Err(ConfigError::new("VESTIBULE_MASTER_KEY_PREVIOUS", "is the master key itself; set it to the other key of the rotation").into());
    }
    Ok(Vault::with_previous(master, previous))
}

/// The sealing context of the stored master-key check.
pub const MASTER_KEY_CHECK_CONTEXT: &str = "master-key-check";

/// Checks that the master key (or, during a rotation, the previous key) is
/// the one the store's secrets are sealed with, so a wrong key fails at start
/// rather than when a secret is first opened.
pub async fn check_master_key(store: &Store, vault: &Vault) -> Result<(), StartError> {
    let probe = vault.seal(MASTER_KEY_CHECK_CONTEXT, b"vestibule");
    let stored = store.setting_or_insert("master_key_check", &probe).await?;
    vault.open(MASTER_KEY_CHECK_CONTEXT, &stored).map_err(|_| {
        let setting = if vault.previous_fingerprint().is_some() { "VESTIBULE_MASTER_KEY_PREVIOUS" } else { "VESTIBULE_MASTER_KEY" };
        ConfigError::new(setting, "neither key matches the key this database's secrets are sealed with")
    })?;
    Ok(())
}

/// What the first start created, for printing once.
pub struct Bootstrapped {
    pub login: String,
    pub generated_password: Option<String>,
}

/// Creates the first super admin (and the bootstrap API token) when the
/// store has no users. Does nothing otherwise.
pub async fn first_admin(store: &Store, config: &Config, now: OffsetDateTime) -> Result<Option<Bootstrapped>, StartError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let login = config.bootstrap.admin_login.trim().to_owned();
    let mut profile = Map::new();
    profile.insert("login".into(), json!(login));
    profile.insert("email".into(), json!(login));
    profile.insert("firstName".into(), json!("Vestibule"));
    profile.insert("lastName".into(), json!("Administrator"));
    let causes = crate::api::validate_profile(&profile);
    if !causes.is_empty() {
        return Err(ConfigError::new("VESTIBULE_BOOTSTRAP_ADMIN_LOGIN", causes.join("; ")).into());
    }
    let (password, generated) = match &config.bootstrap.admin_password {
        Some(p) => (p.clone(), None),
        None => {
            let p = format!("Vb-{}", vestibule_core::id::random_token(20, &mut rand::thread_rng()));
            (Secret::new(p.clone()), Some(p))
        }
    };
    crate::passwords::check_policy(password.expose(), config.passwords.min_length, &login, &["Vestibule", "Administrator"])
        .map_err(|v| ConfigError::new("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", v.0))?;
    if let Some(token) = &config.bootstrap.api_token {
        if token.expose().len() < 20 || token.expose().len() > 256 || token.expose().chars().any(|c| c.is_whitespace()) {
            return Err(ConfigError::new("VESTIBULE_BOOTSTRAP_API_TOKEN", "must be 20 to 256 characters without spaces").into());
        }
    }
    let hash = crate::passwords::hash_blocking(password.expose());
    let user_id = id::generate(id::prefix::USER, &mut rand::thread_rng());
    store
        .insert_user(&NewUser { id: user_id.clone(), status: UserStatus::Active, profile, password_hash: Some(hash), at: now }, &[])
        .await?;
    store
        .grant_role(&id::generate(id::prefix::ROLE_ASSIGNMENT, &mut rand::thread_rng()), &user_id, AdminRole::SuperAdmin, now)
        .await?;
    if let Some(token) = &config.bootstrap.api_token {
        let user = store.user(&user_id).await?.expect("just inserted").user;
        create_api_token(store, now, &user, "bootstrap", Some(token.expose())).await?;
    }
    Ok(Some(Bootstrapped { login, generated_password: generated }))
}

/// Creates an API token for `owner`; returns its value, which is stored only
/// as a digest and never shown again. `value` fixes the token (bootstrap only).
pub async fn create_api_token(
    store: &Store,
    now: OffsetDateTime,
    owner: &User,
    name: &str,
    value: Option<&str>,
) -> Result<String, StoreError> {
    let token = value
        .map(str::to_owned)
        .unwrap_or_else(|| format!("00{}", vestibule_core::id::random_token(40, &mut rand::thread_rng())));
    let record = ApiTokenRecord {
        id: id::generate(id::prefix::API_TOKEN, &mut rand::thread_rng()),
        name: name.to_owned(),
        user_id: owner.id.clone(),
        created: now,
        last_used: None,
    };
    store.insert_api_token(&record, &digest_token(&token)).await?;
    Ok(token)
}

/// The first super admin, for `vestibule token create`.
pub async fn first_super_admin(store: &Store) -> Result<Option<User>, StoreError> {
    let mut query = crate::store::UserQuery { limit: 1000, ..Default::default() };
    loop {
        let users = store.list_users(&query).await?;
        for user in &users {
            if store.roles_of(&user.id).await?.iter().any(|(_, r, _)| *r == AdminRole::SuperAdmin) && user.status == UserStatus::Active {
                return Ok(Some(user.clone()));
            }
        }
        match users.last() {
            Some(last) if users.len() as i64 == query.limit => query.after = Some(last.id.clone()),
            _ => return Ok(None),
        }
    }
}

/// Paths of the self-signed certificate and key, created on first start.
pub fn self_signed_certificate(config: &Config) -> Result<(std::path::PathBuf, std::path::PathBuf), StartError> {
    let dir = config.data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if let Some(host) = config.public_url.host_str() {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        if !names.contains(&host) {
            names.push(host);
        }
    }
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| StartError::Io(format!("certificate: {e}")))?;
    std::fs::create_dir_all(&dir).map_err(|e| StartError::Io(format!("{}: {e}", dir.display())))?;
    write_private(&key, generated.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, generated.cert.pem()).map_err(|e| StartError::Io(format!("{}: {e}", cert.display())))?;
    tracing::info!(path = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}
