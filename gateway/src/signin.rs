//! Primary authentication and session creation, shared by the Authentication
//! API (/api/v1/authn) and the sign-in page.

use std::sync::Arc;

use vestibule_core::{id, Secret};

use crate::crypto::{digest_token, random_secret};
use crate::directory::{User, UserStatus};
use crate::error::ApiError;
use crate::passwords::HashError;
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::store::{SessionRecord, StoreError};
use crate::syslog::{Actor, ClientInfo, Outcome, Target};

/// Why a sign-in did not succeed. Callers show all but `Busy` and `Store`
/// to the person as the same "sign-in failed", so as not to reveal which
/// logins exist or which are locked.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account locked")]
    LockedOut,
    #[error("account not allowed to sign in in its status")]
    NotAllowed,
    #[error("too many sign-ins waiting")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SignInError> for ApiError {
    fn from(err: SignInError) -> Self {
        match err {
            SignInError::Busy => ApiError::rate_limited(),
            SignInError::Store(e) => e.into(),
            _ => ApiError::authentication_failed(),
        }
    }
}

/// How long a one-time session token from /api/v1/authn stays valid.
pub const SESSION_TOKEN_LIFETIME: time::Duration = time::Duration::minutes(5);

/// Checks a login and password. Every outcome is logged and counted. An
/// unknown login costs the same password-hash work as a known one.
pub async fn authenticate(state: &AppState, login: &str, password: &Secret, client: &ClientInfo) -> Result<User, SignInError> {
    let now = state.now();
    let record = state.store.user_by_login(login).await?;
    let result = match &record {
        None => {
            let _ = state.hasher.verify(password, None).await.map_err(|HashError::Busy| SignInError::Busy)?;
            Err(SignInError::InvalidCredentials)
        }
        Some(found) => {
            let still_locked = found.user.status == UserStatus::LockedOut && found.locked_until.is_some_and(|t| t > now);
            if found.user.status == UserStatus::LockedOut && !still_locked {
                // The lock has run out: the account unlocks itself and its
                // failure count starts again, so the next run of failures
                // locks it again.
                state.store.set_status(&found.user.id, UserStatus::Active, now).await?;
                state.invalidate(Invalidation::User { id: found.user.id.clone() }).await;
            }
            let ok = state
                .hasher
                .verify(password, found.password_hash.as_deref())
                .await
                .map_err(|HashError::Busy| SignInError::Busy)?;
            if still_locked {
                Err(SignInError::LockedOut)
            } else if !ok {
                Err(SignInError::InvalidCredentials)
            } else if found.user.status == UserStatus::LockedOut {
                Ok(())
            } else if !found.user.status.may_sign_in() {
                Err(SignInError::NotAllowed)
            } else {
                Ok(())
            }
        }
    };
    match (result, record) {
        (Ok(()), Some(found)) => {
            state.store.record_sign_in(&found.user.id, now).await?;
            state.metrics.sign_ins.with_label_values(&["success"]).inc();
            let mut user = found.user;
            user.last_login = Some(now);
            if user.status == UserStatus::LockedOut {
                user.status = UserStatus::Active;
            }
            Ok(user)
        }
        (Ok(()), None) => unreachable!("a sign-in without a user cannot succeed"),
        (Err(err), record) => {
            let reason = match &err {
                SignInError::LockedOut => "LOCKED_OUT",
                SignInError::NotAllowed => "USER_NOT_ALLOWED",
                _ => "INVALID_CREDENTIALS",
            };
            state.metrics.sign_ins.with_label_values(&[if reason == "LOCKED_OUT" { "locked_out" } else { "failure" }]).inc();
            let actor = record.as_ref().map(|r| Actor::user(&r.user)).unwrap_or_else(|| Actor::unknown(login));
            state
                .log(
                    EventBuilder::new("user.session.start", "User login to Vestibule", actor.clone(), client)
                        .outcome(Outcome::failure(reason)),
                )
                .await;
            if let (SignInError::InvalidCredentials, Some(found)) = (&err, &record) {
                let lock_until = now + state.config.lockout.duration;
                let locked =
                    state.store.record_failed_sign_in(&found.user.id, state.config.lockout.attempts, now, lock_until).await?;
                if locked {
                    state.invalidate(Invalidation::User { id: found.user.id.clone() }).await;
                    state
                        .log(
                            EventBuilder::new("user.account.lock", "Max sign in attempts exceeded", actor, client)
                                .target(Target::user(&found.user))
                                .outcome(Outcome::deny("LOCKED_OUT"))
                                .debug("lockedUntil", crate::store::ts(lock_until)),
                        )
                        .await;
                }
            }
            Err(err)
        }
    }
}

/// Starts a session for a user who has just authenticated; returns the
/// cookie value (shown to the browser once, stored only as a digest).
pub async fn start_session(state: &AppState, user: &User, client: &ClientInfo) -> Result<(String, Arc<SessionRecord>), StoreError> {
    let now = state.now();
    let cookie = random_secret();
    let record = SessionRecord {
        id: id::generate(id::prefix::SESSION, &mut rand::thread_rng()),
        cookie_digest: digest_token(&cookie),
        user_id: user.id.clone(),
        created: now,
        last_active: now,
        expires_at: now + state.config.session.lifetime,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    state.store.insert_session(&record).await?;
    state.metrics.active_sessions.inc();
    let record = Arc::new(record);
    state.caches.sessions.insert(record.cookie_digest.clone(), record.clone()).await;
    state
        .log(
            EventBuilder::new("user.session.start", "User login to Vestibule", Actor::user(user), client)
                .target(Target::other(&record.id, "Session", "Vestibule session")),
        )
        .await;
    Ok((cookie, record))
}

/// Issues a one-time session token (what /api/v1/authn returns).
pub async fn issue_session_token(state: &AppState, user: &User) -> Result<(String, time::OffsetDateTime), StoreError> {
    let now = state.now();
    let token = format!("20111{}", random_secret());
    let expires_at = now + SESSION_TOKEN_LIFETIME;
    state.store.insert_one_time_token(&digest_token(&token), "session", &user.id, now, expires_at).await?;
    Ok((token, expires_at))
}
