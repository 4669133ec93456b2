//! Configuration: a plain struct tree, read from a [`Source`] and validated
//! once at start.
//!
//! Every setting has one environment name and one TOML key, listed in
//! [`SETTINGS`]; that table is the reference the README reproduces (a test
//! keeps the two in step). Environment variables override the file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;
use vestibule_core::Secret;

/// One documented setting.
pub struct Setting {
    pub env: &'static str,
    pub key: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

/// Every setting Vestibule reads. Order is the order of the reference.
pub const SETTINGS: &[Setting] = &[
    Setting { env: "VESTIBULE_LISTEN", key: "listen", default: "127.0.0.1:8443", doc: "Address and port to bind." },
    Setting { env: "VESTIBULE_PUBLIC_URL", key: "public_url", default: "https://localhost:8443", doc: "External base URL; every issuer, metadata document and absolute link uses it. Never derived from the Host header." },
    Setting { env: "VESTIBULE_DATA_DIR", key: "data_dir", default: "./data", doc: "Directory for the default SQLite database, the generated TLS certificate and the generated master key." },
    Setting { env: "VESTIBULE_DATABASE_URL", key: "database_url", default: "sqlite://<data_dir>/vestibule.db", doc: "`sqlite://PATH` (embedded, the default) or `postgres://USER@HOST:PORT/DB` (several nodes sharing one database)." },
    Setting { env: "VESTIBULE_DATABASE_MAX_CONNECTIONS", key: "database_max_connections", default: "16", doc: "Connection pool size." },
    Setting { env: "VESTIBULE_TLS", key: "tls", default: "self-signed", doc: "`self-signed` (generate a localhost certificate on first start and reuse it), `files` (with VESTIBULE_TLS_CERT and VESTIBULE_TLS_KEY) or `off` (plain HTTP behind a TLS-terminating proxy, and for tests)." },
    Setting { env: "VESTIBULE_TLS_CERT", key: "tls_cert", default: "", doc: "PEM certificate chain, with VESTIBULE_TLS=files." },
    Setting { env: "VESTIBULE_TLS_KEY", key: "tls_key", default: "", doc: "PEM private key, with VESTIBULE_TLS=files." },
    Setting { env: "VESTIBULE_CATALOG_DIR", key: "catalog_dir", default: "(the catalog built into the binary)", doc: "A directory of catalog entry files (`*.toml`, the catalog-data/apps format) to serve instead of the built-in catalog; SIGHUP and the Admin Console reload it." },
    Setting { env: "VESTIBULE_ORG_NAME", key: "org_name", default: "Acme", doc: "The organisation's name, shown to people." },
    Setting { env: "VESTIBULE_BOOTSTRAP_ADMIN_LOGIN", key: "bootstrap_admin_login", default: "admin@example.com", doc: "Login of the first super admin, created only when the store is empty." },
    Setting { env: "VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD", key: "bootstrap_admin_password", default: "(random, printed once)", doc: "Password of the first super admin, applied only when the store is empty." },
    Setting { env: "VESTIBULE_BOOTSTRAP_API_TOKEN", key: "bootstrap_api_token", default: "(none)", doc: "An API token created with exactly this value for the first super admin, applied only when the store is empty." },
    Setting { env: "VESTIBULE_MASTER_KEY", key: "master_key", default: "(generated into <data_dir>/master.key)", doc: "Base64 of 32 random bytes: the key-encryption key for every secret at rest. Without it a key file is generated on first start, with a warning." },
    Setting { env: "VESTIBULE_MASTER_KEY_PREVIOUS", key: "master_key_previous", default: "(none)", doc: "During a master-key rotation only: the other key of the pair, base64. Secrets wrapped by it still open; nothing is sealed with it. `vestibule keys rotate-master` re-wraps everything from it to the master key." },
    Setting { env: "VESTIBULE_LOG_FORMAT", key: "log_format", default: "text", doc: "`text` or `json`." },
    Setting { env: "VESTIBULE_LOG", key: "log", default: "info", doc: "Log filter in tracing's EnvFilter syntax, e.g. `info,gateway=debug`." },
    Setting { env: "VESTIBULE_SESSION_IDLE", key: "session_idle", default: "2h", doc: "A session ends after this long without use." },
    Setting { env: "VESTIBULE_SESSION_LIFETIME", key: "session_lifetime", default: "24h", doc: "A session ends this long after sign-in, used or not." },
    Setting { env: "VESTIBULE_LOCKOUT_ATTEMPTS", key: "lockout_attempts", default: "10", doc: "Failed sign-ins in a row that lock an account." },
    Setting { env: "VESTIBULE_LOCKOUT_DURATION", key: "lockout_duration", default: "15m", doc: "How long a locked account stays locked." },
    Setting { env: "VESTIBULE_SAML_CLOCK_SKEW", key: "saml_clock_skew", default: "3m", doc: "How far a SAML request's IssueInstant may be from our clock, either way." },
    Setting { env: "VESTIBULE_PASSWORD_MIN_LENGTH", key: "password_min_length", default: "12", doc: "Shortest password the policy accepts." },
    Setting { env: "VESTIBULE_PASSWORD_HASHERS", key: "password_hashers", default: "half the cores, at least 1", doc: "Password hashes computed at once; further sign-ins wait their turn." },
    Setting { env: "VESTIBULE_PASSWORD_QUEUE", key: "password_queue", default: "256", doc: "Sign-ins that may wait for a hasher before new ones are refused with 429." },
    Setting { env: "VESTIBULE_MAX_BODY_BYTES", key: "max_body_bytes", default: "1048576", doc: "Largest request body accepted." },
    Setting { env: "VESTIBULE_HEADER_TIMEOUT", key: "header_timeout", default: "10s", doc: "A client must send its request headers within this time." },
    Setting { env: "VESTIBULE_REQUEST_TIMEOUT", key: "request_timeout", default: "30s", doc: "A request (including its body) must complete within this time." },
    Setting { env: "VESTIBULE_MAX_CONNECTIONS", key: "max_connections", default: "10000", doc: "Open connections accepted at once." },
    Setting { env: "VESTIBULE_SHUTDOWN_GRACE", key: "shutdown_grace", default: "20s", doc: "On SIGTERM or SIGINT, in-flight requests get this long to finish." },
];

/// Where setting values come from.
pub trait Source {
    /// The raw value of a setting, by its environment name.
    fn get(&self, env_name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, env_name: &str) -> Option<String> {
        std::env::var(env_name).ok().filter(|v| !v.is_empty())
    }
}

/// A fixed map, for tests.
#[derive(Default, Clone)]
pub struct MapSource(pub HashMap<String, String>);

impl MapSource {
    pub fn set(mut self, env_name: &str, value: impl Into<String>) -> Self {
        self.0.insert(env_name.to_owned(), value.into());
        self
    }
}

impl Source for MapSource {
    fn get(&self, env_name: &str) -> Option<String> {
        self.0.get(env_name).cloned()
    }
}

/// A TOML file whose top-level keys are the settings' `key` names.
pub struct FileSource(HashMap<String, String>);

impl std::fmt::Debug for FileSource {
    /// Names the settings the file sets, never their values (some are secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl FileSource {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("VESTIBULE_CONFIG", format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|msg| ConfigError::new("VESTIBULE_CONFIG", format!("{}: {msg}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.message().to_owned())?;
        let mut values = HashMap::new();
        for (key, value) in table {
            let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
                return Err(format!("unknown setting `{key}`"));
            };
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => return Err(format!("`{key}` must be a string or a number, not {}", other.type_str())),
            };
            values.insert(setting.env.to_owned(), text);
        }
        Ok(Self(values))
    }
}

impl Source for FileSource {
    fn get(&self, env_name: &str) -> Option<String> {
        self.0.get(env_name).cloned()
    }
}

/// The environment first, then the file.
pub struct Layered<A, B>(pub A, pub B);

impl<A: Source, B: Source> Source for Layered<A, B> {
    fn get(&self, env_name: &str) -> Option<String> {
        self.0.get(env_name).or_else(|| self.1.get(env_name))
    }
}

/// A setting that is wrong, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(setting: &str, message: impl Into<String>) -> Self {
        Self { setting: setting.to_owned(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    SelfSigned,
    Files { cert: PathBuf, key: PathBuf },
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub admin_login: String,
    pub admin_password: Option<Secret>,
    pub api_token: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub lifetime: Duration,
}

#[derive(Debug, Clone)]
pub struct LockoutPolicy {
    pub attempts: u32,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub min_length: usize,
    pub hashers: usize,
    pub queue: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub database_max_connections: u32,
    pub tls: TlsMode,
    pub catalog_dir: Option<PathBuf>,
    pub org_name: String,
    pub bootstrap: Bootstrap,
    pub master_key: Option<Secret>,
    pub master_key_previous: Option<Secret>,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub session: SessionPolicy,
    pub lockout: LockoutPolicy,
    pub saml_clock_skew: Duration,
    pub passwords: PasswordSettings,
    pub limits: Limits,
}

impl Config {
    /// Reads and validates every setting.
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let reader = Reader(source);
        let listen = reader.parse("VESTIBULE_LISTEN", |v| v.parse::<SocketAddr>().map_err(|e| e.to_string()))?;
        let public_url = reader.parse("VESTIBULE_PUBLIC_URL", parse_public_url)?;
        let data_dir = PathBuf::from(reader.raw("VESTIBULE_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database = match reader.raw("VESTIBULE_DATABASE_URL") {
            None => DatabaseUrl::Sqlite(data_dir.join("vestibule.db")),
            Some(url) => parse_database_url(&url).map_err(|m| ConfigError::new("VESTIBULE_DATABASE_URL", m))?,
        };
        let tls = match reader.raw("VESTIBULE_TLS").as_deref().unwrap_or("self-signed") {
            "self-signed" => TlsMode::SelfSigned,
            "off" => TlsMode::Off,
            "files" => {
                let cert = reader.raw("VESTIBULE_TLS_CERT").ok_or_else(|| {
                    ConfigError::new("VESTIBULE_TLS_CERT", "required when VESTIBULE_TLS=files")
                })?;
                let key = reader.raw("VESTIBULE_TLS_KEY").ok_or_else(|| {
                    ConfigError::new("VESTIBULE_TLS_KEY", "required when VESTIBULE_TLS=files")
                })?;
                TlsMode::Files { cert: cert.into(), key: key.into() }
            }
            other => {
                return Err(ConfigError::new(
                    "VESTIBULE_TLS",
                    format!("`{other}` is not one of self-signed, files, off"),
                ))
            }
        };
        let org_name = reader.raw("VESTIBULE_ORG_NAME").unwrap_or_else(|| "Acme".into());
        if org_name.chars().count() > 100 || org_name.trim().is_empty() {
            return Err(ConfigError::new("VESTIBULE_ORG_NAME", "must be 1 to 100 characters"));
        }
        let admin_login = reader.raw("VESTIBULE_BOOTSTRAP_ADMIN_LOGIN").unwrap_or_else(|| "admin@example.com".into());
        let master_key = reader.raw("VESTIBULE_MASTER_KEY").map(Secret::new);
        if let Some(key) = &master_key {
            crate::crypto::MasterKey::from_base64(key.expose())
                .map_err(|m| ConfigError::new("VESTIBULE_MASTER_KEY", m))?;
        }
        let master_key_previous = reader.raw("VESTIBULE_MASTER_KEY_PREVIOUS").filter(|k| !k.trim().is_empty()).map(Secret::new);
        if let Some(key) = &master_key_previous {
            crate::crypto::MasterKey::from_base64(key.expose())
                .map_err(|m| ConfigError::new("VESTIBULE_MASTER_KEY_PREVIOUS", m))?;
        }
        let log_format = match reader.raw("VESTIBULE_LOG_FORMAT").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::new("VESTIBULE_LOG_FORMAT", format!("`{other}` is not text or json"))),
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let session = SessionPolicy {
            idle: reader.duration("VESTIBULE_SESSION_IDLE", "2h")?,
            lifetime: reader.duration("VESTIBULE_SESSION_LIFETIME", "24h")?,
        };
        if session.idle > session.lifetime {
            return Err(ConfigError::new("VESTIBULE_SESSION_IDLE", "must not be longer than VESTIBULE_SESSION_LIFETIME"));
        }
        Ok(Config {
            listen,
            public_url,
            data_dir,
            database,
            database_max_connections: reader.number("VESTIBULE_DATABASE_MAX_CONNECTIONS", 16, 1, 1000)?,
            tls,
            catalog_dir: reader.raw("VESTIBULE_CATALOG_DIR").map(PathBuf::from),
            org_name,
            bootstrap: Bootstrap {
                admin_login,
                admin_password: reader.raw("VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD").map(Secret::new),
                api_token: reader.raw("VESTIBULE_BOOTSTRAP_API_TOKEN").map(Secret::new),
            },
            master_key,
            master_key_previous,
            log_format,
            log_filter: reader.raw("VESTIBULE_LOG").unwrap_or_else(|| "info".into()),
            session,
            lockout: LockoutPolicy {
                attempts: reader.number("VESTIBULE_LOCKOUT_ATTEMPTS", 10, 1, 1000)?,
                duration: reader.duration("VESTIBULE_LOCKOUT_DURATION", "15m")?,
            },
            saml_clock_skew: reader.duration("VESTIBULE_SAML_CLOCK_SKEW", "3m")?,
            passwords: PasswordSettings {
                min_length: reader.number("VESTIBULE_PASSWORD_MIN_LENGTH", 12, 8, 256)?,
                hashers: reader.number("VESTIBULE_PASSWORD_HASHERS", (cores / 2).max(1), 1, 1024)?,
                queue: reader.number("VESTIBULE_PASSWORD_QUEUE", 256, 1, 1_000_000)?,
            },
            limits: Limits {
                max_body_bytes: reader.number("VESTIBULE_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30)?,
                header_timeout: reader.duration("VESTIBULE_HEADER_TIMEOUT", "10s")?,
                request_timeout: reader.duration("VESTIBULE_REQUEST_TIMEOUT", "30s")?,
                max_connections: reader.number("VESTIBULE_MAX_CONNECTIONS", 10_000, 1, 1_000_000)?,
                shutdown_grace: reader.duration("VESTIBULE_SHUTDOWN_GRACE", "20s")?,
            },
        })
    }

    /// The public URL's origin, e.g. `https://sso.example.com`, for same-origin checks.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// An absolute URL under the public URL: `path` starts with `/`.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

struct Reader<'a>(&'a dyn Source);

impl Reader<'_> {
    fn raw(&self, env: &str) -> Option<String> {
        self.0.get(env)
    }

    fn parse<T>(&self, env: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        let setting = SETTINGS.iter().find(|s| s.env == env).expect("setting is listed");
        let value = self.raw(env).unwrap_or_else(|| setting.default.to_owned());
        parse(&value).map_err(|m| ConfigError::new(env, format!("`{value}`: {m}")))
    }

    fn number<T>(&self, env: &str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(value) = self.raw(env) else { return Ok(default) };
        let n: T = value
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(env, format!("`{value}` is not a whole number")))?;
        if n < min || n > max {
            return Err(ConfigError::new(env, format!("{n} is outside {min}..={max}")));
        }
        Ok(n)
    }

    fn duration(&self, env: &str, default: &str) -> Result<Duration, ConfigError> {
        let value = self.raw(env).unwrap_or_else(|| default.to_owned());
        parse_duration(&value).map_err(|m| ConfigError::new(env, format!("`{value}`: {m}")))
    }
}

/// Parses `90s`, `15m`, `2h`, `7d` (a whole number and one unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or("needs a unit: s, m, h or d")?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| "expected a whole number followed by s, m, h or d")?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("unit must be s, m, h or d".into()),
    };
    if n == 0 {
        return Err("must be more than zero".into());
    }
    n.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| "too long".into())
}

fn parse_public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| e.to_string())?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err("must be an http or https URL".into());
    }
    if url.host().is_none() || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("must be a base URL with a host and no query, fragment or credentials".into());
    }
    Ok(url)
}

fn parse_database_url(text: &str) -> Result<DatabaseUrl, String> {
    if let Some(path) = text.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err("sqlite:// needs a file path".into());
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Url::parse(text).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
        return Ok(DatabaseUrl::Postgres(text.to_owned()));
    }
    Err("must start with sqlite:// or postgres://".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let source = MapSource(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        Config::from_source(&source)
    }

    #[test]
    fn defaults_are_valid() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.public_url.as_str(), "https://localhost:8443/");
        assert_eq!(c.database, DatabaseUrl::Sqlite(PathBuf::from("./data/vestibule.db")));
        assert_eq!(c.tls, TlsMode::SelfSigned);
        assert_eq!(c.org_name, "Acme");
        assert_eq!(c.absolute("/login"), "https://localhost:8443/login");
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let cases: &[(&str, &str)] = &[
            ("VESTIBULE_LISTEN", "localhost"),
            ("VESTIBULE_PUBLIC_URL", "ftp://x"),
            ("VESTIBULE_PUBLIC_URL", "https://x/?a=b"),
            ("VESTIBULE_DATABASE_URL", "mysql://x"),
            ("VESTIBULE_TLS", "maybe"),
            ("VESTIBULE_MASTER_KEY", "c2hvcnQ="),
            ("VESTIBULE_MASTER_KEY_PREVIOUS", "not base64!"),
            ("VESTIBULE_SESSION_IDLE", "10 minutes"),
            ("VESTIBULE_LOCKOUT_ATTEMPTS", "0"),
            ("VESTIBULE_LOG_FORMAT", "xml"),
        ];
        for (env, value) in cases {
            let err = config(&[(env, value)]).unwrap_err();
            assert_eq!(err.setting, *env, "{env}={value}: {err}");
        }
        let err = config(&[("VESTIBULE_TLS", "files")]).unwrap_err();
        assert_eq!(err.setting, "VESTIBULE_TLS_CERT");
    }

    #[test]
    fn file_values_yield_to_the_environment() {
        let file = FileSource::parse("org_name = \"Globex\"\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        let env = MapSource::default().set("VESTIBULE_ORG_NAME", "Initech");
        let c = Config::from_source(&Layered(env, file)).unwrap();
        assert_eq!(c.org_name, "Initech");
        assert_eq!(c.listen.port(), 9000);
        assert!(FileSource::parse("no_such_setting = 1").unwrap_err().contains("no_such_setting"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        for bad in ["", "5", "m", "0s", "1w", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_readme_documents_every_setting() {
        let readme = include_str!("../../README.md");
        for s in SETTINGS {
            assert!(readme.contains(s.env), "README.md lacks {}", s.env);
        }
    }
}
