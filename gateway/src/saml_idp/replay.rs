//! `saml::ReplayCache` over `caches.saml_replay`.
//!
//! The crate's trait is synchronous and the cache is moka's async one, so the
//! check is split: the crate's last check (the replay check) records which ID
//! it would use and answers "first use"; once every check has passed,
//! [`Deferred::commit`] inserts the ID with moka's atomic `entry().or_insert`,
//! and only the request that inserted it goes on. Two copies of one request
//! racing each other cannot both win.

use std::sync::Mutex;

use time::OffsetDateTime;

use crate::state::AppState;

#[derive(Default)]
pub struct Deferred(Mutex<Option<String>>);

impl saml::ReplayCache for Deferred {
    fn first_use(&self, issuer: &str, id: &str, _expires_at: OffsetDateTime) -> bool {
        // The cache's own lifetime (15 minutes) exceeds every request's
        // acceptance window (age + skew), so `_expires_at` is always covered.
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(format!("{issuer}\u{1f}{id}"));
        }
        true
    }
}

impl Deferred {
    /// Records the ID for `app_id`; `false` if it was already used.
    pub async fn commit(&self, state: &AppState, app_id: &str) -> bool {
        let key = self.0.lock().ok().and_then(|mut slot| slot.take());
        match key {
            Some(key) => first_use(state, &format!("{app_id}\u{1f}{key}")).await,
            None => true,
        }
    }
}

/// Atomically records `key`; `true` only for the first caller.
pub async fn first_use(state: &AppState, key: &str) -> bool {
    state.caches.saml_replay.entry(key.to_owned()).or_insert(()).await.is_fresh()
}
