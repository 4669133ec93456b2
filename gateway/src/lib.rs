//! Vestibule's gateway: HTTP, TLS, storage, configuration and web pages.
//! Protocol logic lives in the crates under protocols/; this crate connects
//! them to the network and the store.

#![forbid(unsafe_code)]

pub mod api;
pub mod apps;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod error;
pub mod filter;
pub mod metrics;
pub mod oauth;
pub mod passwords;
pub mod saml_idp;
pub mod server;
pub mod signin;
pub mod state;
pub mod store;
pub mod swa;
pub mod syslog;
pub mod web;
pub mod wsfed;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use vestibule_core::Clock;

pub use bootstrap::StartError;
pub use config::Config;
pub use state::AppState;

/// Connects to the store, migrates it, checks the master key and creates the
/// first admin if the store is empty. Prints the generated admin password once.
pub async fn prepare(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let vault = bootstrap::vault(&config)?;
    let store = store::Store::connect(&config.database, config.database_max_connections).await?;
    store.migrate().await?;
    bootstrap::check_master_key(&store, &vault).await?;
    if let Some(created) = bootstrap::first_admin(&store, &config, clock.now()).await? {
        match created.generated_password {
            Some(password) => println!(
                "Created the first super admin {} with the generated password {password} (shown only this once).",
                created.login
            ),
            None => tracing::info!(login = %created.login, "created the first super admin"),
        }
    }
    let catalog = apps::catalog::CatalogHandle::load(config.catalog_dir.as_deref())
        .map_err(|m| config::ConfigError::new("VESTIBULE_CATALOG_DIR", m))?;
    let metrics = metrics::Metrics::new();
    metrics.active_sessions.set(store.count_live_sessions(clock.now()).await?);
    // The System Log's writer task; Gateway::shutdown drains it.
    let syslog = store::LogWriter::spawn(store.clone());
    Ok(AppState::new(config, store, syslog, clock, vault, metrics, catalog))
}

/// A running gateway, for tests and embedding.
pub struct Gateway {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Prepares the state and serves on `config.listen` (port 0 picks a free port).
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| StartError::Config(config::ConfigError::new("VESTIBULE_LISTEN", format!("cannot bind {}: {e}", config.listen))))?;
        Self::start_on(listener, config, clock).await
    }

    /// Serves on a listener the caller bound (tests bind first to learn the port
    /// that the public URL must name).
    pub async fn start_on(listener: std::net::TcpListener, config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let tls = server::tls_config(&config)?;
        listener.set_nonblocking(true).map_err(|e| StartError::Io(format!("listener: {e}")))?;
        let listener = TcpListener::from_std(listener).map_err(|e| StartError::Io(format!("listener: {e}")))?;
        let state = prepare(config, clock).await?;
        let addr = server::local_addr(&listener);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = state.config.limits.clone();
        let app = server::app(state.clone());
        let housekeeping = spawn_housekeeping(state.clone());
        let task = tokio::spawn(async move {
            server::serve(listener, app, tls, limits, async {
                let _ = stopped.await;
            })
            .await;
            housekeeping.abort();
        });
        Ok(Self { addr, state, stop: Some(stop), task })
    }

    /// Stops accepting, finishes in-flight requests, writes the System Log
    /// events still queued, closes the store.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.state.syslog.close().await;
        self.state.store.close().await;
    }

    /// Waits until the server stops by itself (after a signal).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
        self.state.syslog.close().await;
        self.state.store.close().await;
    }

    /// Arranges for SIGHUP to reload the app catalog (keeping the current one
    /// if the new files are invalid).
    pub fn reload_catalog_on_sighup(&self) {
        let state = self.state.clone();
        tokio::spawn(async move {
            let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
            while hangups.recv().await.is_some() {
                match state.catalog.reload() {
                    Ok(count) => tracing::info!(entries = count, "reloaded the app catalog"),
                    Err(problems) => tracing::error!(%problems, "the app catalog did not reload; the previous one stays"),
                }
            }
        });
    }

    /// Arranges for SIGTERM or SIGINT to stop the server.
    pub fn stop_on_signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            tokio::spawn(async move {
                server::shutdown_signal().await;
                let _ = stop.send(());
            });
        }
    }
}

/// Removes expired sessions and one-time tokens every ten minutes.
fn spawn_housekeeping(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = state.now();
            if let Err(e) = state.store.delete_expired_sessions(now).await {
                tracing::warn!(error = %e, "could not remove expired sessions");
            }
            if let Ok(live) = state.store.count_live_sessions(now).await {
                state.metrics.active_sessions.set(live);
            }
        }
    })
}
