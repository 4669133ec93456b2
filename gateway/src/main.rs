//! The `vestibule` command: serve, migrate, create API tokens, rotate the master key.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use gateway::config::{self, Config, Environment, FileSource, Layered, LogFormat, MapSource};
use gateway::StartError;
use vestibule_core::{Clock, SystemClock};

const CONFIG_HELP: &str = "Every setting has an environment name (VESTIBULE_*) and a key in the optional TOML \
file; the environment wins. The full reference is the Configuration section of README.md, and \
`vestibule settings` prints it.";

/// Vestibule: a self-hosted single sign-on gateway and identity provider,
/// compatible with Okta's URL layout and management API.
#[derive(Parser)]
#[command(name = "vestibule", version, after_help = CONFIG_HELP)]
struct Cli {
    /// A TOML configuration file (also VESTIBULE_CONFIG).
    #[arg(long, global = true, env = "VESTIBULE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the store, create the first admin if the store is empty, and serve HTTPS
    /// (or HTTP with VESTIBULE_TLS=off) until SIGTERM or SIGINT.
    #[command(after_help = CONFIG_HELP)]
    Serve,
    /// Apply pending schema migrations to the store and exit.
    #[command(after_help = CONFIG_HELP)]
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Master-key rotation.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Print every setting with its environment name, default and meaning.
    Settings,
    /// Work with the app catalog.
    Catalog {
        #[command(subcommand)]
        action: CatalogCommand,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Check catalog entry files (default: catalog-data/apps) against the schema; print every
    /// problem with its file and field, and exit 1 if there is any.
    Check {
        /// A directory of `*.toml` entries.
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random master key (base64 of 32 bytes) on standard output.
    GenerateMaster,
    /// Re-wrap every secret at rest from VESTIBULE_MASTER_KEY_PREVIOUS to VESTIBULE_MASTER_KEY while
    /// gateways keep serving. Resumable: run it again after an interruption. Exits 1 if any record
    /// was left under another key.
    #[command(after_help = ROTATION_HELP)]
    RotateMaster {
        /// Count what would be re-wrapped, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Records per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        batch: i64,
    },
}

const ROTATION_HELP: &str = "Rotation, with every node serving throughout:
  1. vestibule keys generate-master > new.key (keep it as secret as the current key).
  2. Restart each node with VESTIBULE_MASTER_KEY_PREVIOUS=<new key> added: every node can now open
     records wrapped by either key, and still seals with the current key.
  3. Restart each node with VESTIBULE_MASTER_KEY=<new key> and VESTIBULE_MASTER_KEY_PREVIOUS=<old key>
     (with the key file, write the new key into <data_dir>/master.key): nodes now seal with the new key.
  4. vestibule keys rotate-master (with the settings of step 3) re-wraps every record to the new key.
  5. Restart each node without VESTIBULE_MASTER_KEY_PREVIOUS, and destroy the old key.
A single node can go straight from step 1 to step 3.";

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an SSWS API token for the first super admin and print it once.
    Create {
        /// A name that says what the token is for.
        #[arg(long)]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Catalog { action: CatalogCommand::Check { dir } } = &cli.command {
        let dir = dir.clone().unwrap_or_else(|| PathBuf::from("catalog-data/apps"));
        return match gateway::apps::catalog::CatalogHandle::load(Some(&dir)) {
            Ok(handle) => {
                println!("{}: {} entries, all valid", dir.display(), handle.snapshot().len());
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprintln!("{problems}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Keys { action: KeysCommand::GenerateMaster } = cli.command {
        println!("{}", gateway::crypto::MasterKey::generate().to_base64());
        return ExitCode::SUCCESS;
    }
    if let Command::Settings = cli.command {
        for s in config::SETTINGS {
            println!("{:<36} default: {}\n    {}", s.env, s.default, s.doc);
        }
        return ExitCode::SUCCESS;
    }
    let config = match load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vestibule: invalid configuration: {e}");
            return ExitCode::from(64);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vestibule: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(StartError::Config(e)) => {
            eprintln!("vestibule: invalid configuration: {e}");
            ExitCode::from(64)
        }
        Err(e) => {
            eprintln!("vestibule: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(file: Option<&std::path::Path>) -> Result<Config, config::ConfigError> {
    match file {
        Some(path) => Config::from_source(&Layered(Environment, FileSource::read(path)?)),
        None => Config::from_source(&Layered(Environment, MapSource::default())),
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> Result<(), StartError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match command {
        Command::Serve => {
            let public_url = config.public_url.clone();
            let mut gateway = gateway::Gateway::start(config, clock).await?;
            gateway.stop_on_signal();
            gateway.reload_catalog_on_sighup();
            tracing::info!(listen = %gateway.addr, public_url = %public_url, "Vestibule is serving");
            println!("Vestibule is serving on {} — open {}login", gateway.addr, public_url);
            gateway.wait().await;
            Ok(())
        }
        Command::Migrate => {
            let store = gateway::store::Store::connect(&config.database, config.database_max_connections).await?;
            let applied = store.migrate().await?;
            println!("applied {} migration(s): {applied:?}", applied.len());
            Ok(())
        }
        Command::Token { action: TokenCommand::Create { name } } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(StartError::Config(config::ConfigError::new("--name", "must be 1 to 100 characters")));
            }
            let state = gateway::prepare(config, clock.clone()).await?;
            let admin = gateway::bootstrap::first_super_admin(&state.store)
                .await?
                .ok_or_else(|| StartError::Io("no active super admin to own the token".into()))?;
            let token = gateway::bootstrap::create_api_token(&state.store, clock.now(), &admin, &name, None).await?;
            let client = gateway::syslog::ClientInfo { ip: "local".into(), user_agent: "vestibule token create".into(), request_id: String::new() };
            state
                .log(
                    gateway::state::EventBuilder::new(
                        "system.api_token.create",
                        "Create API token",
                        gateway::syslog::Actor::user(&admin),
                        &client,
                    )
                    .debug("tokenName", name.clone()),
                )
                .await;
            state.store.close().await;
            println!("{token}");
            eprintln!("Created API token \"{name}\" for {}. It is shown only this once.", admin.login());
            Ok(())
        }
        Command::Keys { action: KeysCommand::RotateMaster { dry_run, batch } } => rotate_master(config, dry_run, batch).await,
        Command::Settings | Command::Catalog { .. } | Command::Keys { action: KeysCommand::GenerateMaster } => Ok(()),
    }
}

/// `vestibule keys rotate-master`: re-wraps the store's sealed records and
/// prints what it found per table.
async fn rotate_master(config: Config, dry_run: bool, batch: i64) -> Result<(), StartError> {
    if config.master_key_previous.is_none() {
        return Err(StartError::Config(config::ConfigError::new(
            "VESTIBULE_MASTER_KEY_PREVIOUS",
            "is not set: rotate-master moves records from that key to VESTIBULE_MASTER_KEY (see `vestibule keys rotate-master --help`)",
        )));
    }
    let vault = gateway::bootstrap::vault(&config)?;
    let store = gateway::store::Store::connect(&config.database, config.database_max_connections).await?;
    store.migrate().await?;
    gateway::bootstrap::check_master_key(&store, &vault).await?;
    let options = gateway::store::RekeyOptions { batch, dry_run, max_batches: None };
    let counts = store.rewrap_sealed(&vault, options).await?;
    store.close().await;
    let verb = if dry_run { "to re-wrap" } else { "re-wrapped" };
    println!("master key {} (previous {})", vault.master_fingerprint(), vault.previous_fingerprint().unwrap_or_default());
    for c in &counts {
        println!("{:<24} {verb} {:>7}  already current {:>7}  unreadable {:>5}  changed meanwhile {:>5}", c.table, c.rewrapped, c.current, c.unreadable, c.raced);
    }
    let unreadable: u64 = counts.iter().map(|c| c.unreadable).sum();
    let raced: u64 = counts.iter().map(|c| c.raced).sum();
    if unreadable > 0 {
        return Err(StartError::Io(format!("{unreadable} record(s) open with neither key; they were left as they are")));
    }
    if raced > 0 {
        return Err(StartError::Io(format!("{raced} record(s) changed while this ran; run it again to finish them")));
    }
    Ok(())
}
