//! The person's SWA pages: their apps' stored sign-ins, "Sign in to {app}"
//! (first launch and later changes), and the password reveal.
//!
//! | step (save, reveal) | on failure |
//! |---|---|
//! | a session (else sign in and come back) | redirect to /login |
//! | CSRF cookie and field match, Origin is ours | 403 page |
//! | the app is assigned, active and AUTO_LOGIN | 404 page |
//! | the scheme lets the person do this | 403 page |
//! | save: both values present and bounded | 400, the form again |
//! | reveal: `revealPassword` is on and the Vestibule password is right | 403 / 401 page, logged; a wrong one counts toward the lockout |

use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use vestibule_core::Secret;

use super::{check_secret, check_username, person_context, post_credentials, Scheme, SetBy, StoredCredential, SwaApp};
use crate::apps::cache::AssignedApp;
use crate::apps::{AppInstance, SignOnMode};
use crate::state::{AppState, CachedPrincipal, EventBuilder, Invalidation};
use crate::syslog::{Actor, ClientInfo, Outcome, Target};
use crate::web::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page, require_person};

const LIST: &str = "/app/UserHome/credentials";

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The person's SWA app with this id, with its settings, or the page to answer.
async fn swa_app(state: &AppState, user_id: &str, app_id: &str) -> Result<(Arc<AppInstance>, AssignedApp, SwaApp), Response> {
    let found = match crate::apps::cache::launchable(state, user_id, app_id).await {
        Ok(found) => found.filter(|(app, _)| app.sign_on_mode == SignOnMode::AutoLogin),
        Err(_) => return Err(error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be loaded.")),
    };
    let Some((app, assignment)) = found else {
        return Err(error_page(state, StatusCode::NOT_FOUND, "App not available", "This app is not assigned to you, or it does not store a sign-in."));
    };
    match SwaApp::of(state, &app) {
        Ok(swa) => Ok((app, assignment, swa)),
        Err(problem) => Err(super::misconfigured(state, &app, &problem)),
    }
}

/// GET /app/UserHome/credentials
pub async fn list(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<ListQuery>) -> Response {
    let (person, _) = match require_person(&state, &headers, LIST).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let (links, stored) = match (
        crate::api::launchable_links(&state, &person.user.id).await,
        state.store.swa_credentials_of_user(&person.user.id).await,
    ) {
        (Ok(l), Ok(s)) => (l, s),
        _ => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your apps could not be loaded."),
    };
    let rows: Vec<_> = links
        .iter()
        .filter(|(app, _)| app.sign_on_mode == SignOnMode::AutoLogin)
        .map(|(app, assignment)| {
            let swa = SwaApp::of(&state, app).ok();
            let row = stored.iter().find(|c| c.app_id == app.id);
            (app.clone(), assignment.clone(), swa, row.cloned())
        })
        .collect();
    let markup = page(
        &state,
        "Your app sign-ins",
        html! {
            main class="card wide" {
                h1 { "Your app sign-ins" }
                p { "Vestibule keeps these usernames and passwords encrypted and fills them into each app's sign-in form for you." }
                @if query.saved.is_some() {
                    p role="status" { "Saved." }
                }
                @if rows.is_empty() {
                    p class="empty" { "None of your apps need a stored sign-in." }
                } @else {
                    table {
                        thead { tr { th { "App" } th { "Username" } th { "Sign-in" } th {} } }
                        tbody {
                            @for (app, assignment, swa, row) in &rows {
                                tr {
                                    td { (app.label) }
                                    td {
                                        @match (swa.as_ref().map(|s| s.scheme), row) {
                                            (Some(Scheme::SharedUsernameAndPassword), _) => { "Shared account" }
                                            (Some(Scheme::EditPasswordOnly), _) => { (assignment.username.as_deref().unwrap_or("")) }
                                            (_, Some(r)) => { (r.user_name) }
                                            _ => { "—" }
                                        }
                                    }
                                    td {
                                        @match (swa.as_ref().map(|s| s.scheme), row) {
                                            (Some(Scheme::SharedUsernameAndPassword), _) => { "Managed by your administrator" }
                                            (Some(Scheme::AdminSetsCredentials), Some(_)) => { "Set by your administrator" }
                                            (Some(Scheme::AdminSetsCredentials), None) => { "Not set up yet" }
                                            (_, Some(_)) => { "Stored" }
                                            _ => { "Not stored yet" }
                                        }
                                    }
                                    td {
                                        @if swa.as_ref().is_some_and(|s| s.scheme != Scheme::SharedUsernameAndPassword) {
                                            a href=(format!("{LIST}/{}", app.id)) aria-label=(format!("Manage sign-in for {}", app.label)) { "Manage" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p { a href="/app/UserHome" { "Back to your dashboard" } }
            }
        },
    );
    html_response(StatusCode::OK, markup, &[])
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    saved: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    launch: Option<String>,
}

struct FormView<'a> {
    app: &'a AppInstance,
    swa: &'a SwaApp,
    username: &'a str,
    stored: bool,
    launch: bool,
    csrf: &'a str,
    error: Option<&'a str>,
}

fn credentials_form(state: &AppState, v: &FormView<'_>) -> Markup {
    let action = format!("{LIST}/{}", v.app.id);
    let title = format!("Sign in to {}", v.app.label);
    page(
        state,
        &title,
        html! {
            main class="card" aria-labelledby="title" {
                p class="org" { (state.config.org_name) }
                h1 id="title" { (title) }
                @if let Some(message) = v.error {
                    p class="error" role="alert" id="form-error" { (message) }
                }
                @if v.swa.scheme.person_sets_password() {
                    p {
                        @if v.launch {
                            "Enter the username and password you use for " (v.app.label) ". Vestibule stores them encrypted and signs you in to the app from now on."
                        } @else {
                            "Change the username or password Vestibule uses to sign you in to " (v.app.label) "."
                        }
                    }
                    form method="post" action=(action) autocomplete="off" {
                        (csrf_field(v.csrf))
                        @if v.launch {
                            input type="hidden" name="launch" value="1";
                        }
                        @if v.swa.scheme == Scheme::EditUsernameAndPassword {
                            label for="swa-username" { "Username for " (v.app.label) }
                            input id="swa-username" name="username" type="text" autocomplete="off" required value=(v.username)
                                aria-describedby=[v.error.map(|_| "form-error")];
                        } @else {
                            p { "Username: " strong { (v.username) } }
                        }
                        label for="swa-password" {
                            "Password for " (v.app.label)
                            @if v.stored && !v.launch { " (leave empty to keep the stored one)" }
                        }
                        input id="swa-password" name="password" type="password" autocomplete="new-password" required[!v.stored || v.launch];
                        button type="submit" { @if v.launch { "Sign in" } @else { "Save" } }
                    }
                } @else {
                    p { "Your administrator manages your sign-in for " (v.app.label) "." }
                }
                @if v.stored && v.swa.reveal_password && !v.launch {
                    h2 { "See your stored password" }
                    form method="post" action=(format!("{action}/reveal")) autocomplete="off" {
                        (csrf_field(v.csrf))
                        label for="reveal-password" { "Your " (state.config.org_name) " password" }
                        input id="reveal-password" name="password" type="password" autocomplete="current-password" required;
                        button type="submit" { "Show password" }
                    }
                }
                p { a href=(LIST) { "Your app sign-ins" } " · " a href="/app/UserHome" { "Dashboard" } }
            }
        },
    )
}

/// GET /app/UserHome/credentials/{id}
pub async fn edit(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<EditQuery>) -> Response {
    let launch = query.launch.is_some();
    let here = format!("{LIST}/{id}{}", if launch { "?launch=1" } else { "" });
    let (person, _) = match require_person(&state, &headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let (app, assignment, swa) = match swa_app(&state, &person.user.id, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if swa.scheme == Scheme::SharedUsernameAndPassword {
        return error_page(&state, StatusCode::FORBIDDEN, "Managed by your administrator", "This app uses a shared sign-in that your administrator manages.");
    }
    let stored = match state.store.swa_credential(&app.id, &person.user.id).await {
        Ok(s) => s,
        Err(_) => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your sign-in could not be loaded."),
    };
    let username = username_shown(&person, &assignment, &swa, stored.as_ref());
    let (csrf, set) = csrf_token(&state, &headers);
    let view = FormView { app: &app, swa: &swa, username: &username, stored: stored.is_some(), launch, csrf: &csrf, error: None };
    no_store(html_response(StatusCode::OK, credentials_form(&state, &view), &set.into_iter().collect::<Vec<_>>()))
}

fn username_shown(person: &CachedPrincipal, assignment: &AssignedApp, swa: &SwaApp, stored: Option<&StoredCredential>) -> String {
    match (swa.scheme, stored) {
        (Scheme::EditPasswordOnly, _) | (_, None) => {
            assignment.username.as_deref().map(str::to_owned).unwrap_or_else(|| person.user.login().to_owned())
        }
        (_, Some(row)) => row.user_name.clone(),
    }
}

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    launch: Option<String>,
}

/// POST /app/UserHome/credentials/{id}: stores the person's credentials;
/// on first launch, answers straight away with the post to the app.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<String>,
    Form(form): Form<SaveForm>,
) -> Response {
    let here = format!("{LIST}/{id}");
    let (person, _) = match require_person(&state, &headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    if !csrf_ok(&state, &headers, &form.csrf) {
        return error_page(&state, StatusCode::FORBIDDEN, "Form expired", "Please open the page again and retry.");
    }
    let (app, assignment, swa) = match swa_app(&state, &person.user.id, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if !swa.scheme.person_sets_password() {
        return error_page(&state, StatusCode::FORBIDDEN, "Managed by your administrator", "Your administrator manages your sign-in for this app.");
    }
    let launch = form.launch.is_some();
    let existing = match state.store.swa_credential(&app.id, &person.user.id).await {
        Ok(s) => s,
        Err(_) => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your sign-in could not be saved."),
    };
    let user_name = match swa.scheme {
        Scheme::EditUsernameAndPassword => form.username.as_deref().unwrap_or("").trim().to_owned(),
        _ => username_shown(&person, &assignment, &swa, existing.as_ref()),
    };
    let keep_password = form.password.is_empty() && existing.is_some() && !launch;
    let problem = check_username("username", &user_name)
        .err()
        .map(|_| "Enter the username you use for this app.")
        .or_else(|| (!keep_password).then(|| check_secret("password", &form.password).err().map(|_| "Enter the password you use for this app (at most 1024 characters).")).flatten());
    if let Some(message) = problem {
        let (csrf, _) = csrf_token(&state, &headers);
        let view = FormView { app: &app, swa: &swa, username: &user_name, stored: existing.is_some(), launch, csrf: &csrf, error: Some(message) };
        return no_store(html_response(StatusCode::BAD_REQUEST, credentials_form(&state, &view), &[]));
    }
    let now = state.now();
    let sealed = match (&existing, keep_password) {
        (Some(row), true) => row.sealed_password.clone(),
        _ => state.vault.seal(&person_context(&app.id, &person.user.id), form.password.as_bytes()),
    };
    let record = StoredCredential {
        app_id: app.id.clone(),
        user_id: person.user.id.clone(),
        user_name: user_name.clone(),
        sealed_password: sealed,
        set_by: SetBy::User,
        created: existing.as_ref().map(|e| e.created).unwrap_or(now),
        last_updated: now,
    };
    if state.store.put_swa_credential(&record).await.is_err() {
        return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your sign-in could not be saved.");
    }
    // The app username Okta shows for this person is the one they entered.
    if swa.scheme == Scheme::EditUsernameAndPassword && assignment.username.as_deref() != Some(user_name.as_str()) {
        if let Ok(Some(mut row)) = state.store.user_assignment(&app.id, &person.user.id).await {
            row.username = Some(user_name.clone());
            row.last_updated = now;
            if state.store.put_user_assignment(&row).await.is_ok() {
                state.invalidate(Invalidation::Assignments { user_id: person.user.id.clone() }).await;
            }
        }
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    state
        .log(
            EventBuilder::new("application.user_membership.change_password", "Update stored sign-in for application", Actor::user(&person.user), &client)
                .target(Target::user(&person.user))
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .debug("passwordChanged", !keep_password),
        )
        .await;
    if launch {
        let password = Secret::new(form.password);
        return post_credentials(&state, &swa, &user_name, &password);
    }
    Redirect::to(&format!("{LIST}?saved=1")).into_response()
}

#[derive(Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

async fn log_reveal(state: &AppState, client: &ClientInfo, person: &CachedPrincipal, app: &AppInstance, outcome: Outcome) {
    state
        .log(
            EventBuilder::new("application.user_membership.show_password", "Show user password for application", Actor::user(&person.user), client)
                .target(Target::user(&person.user))
                .target(Target::other(&app.id, "AppInstance", &app.label))
                .outcome(outcome),
        )
        .await;
}

/// POST /app/UserHome/credentials/{id}/reveal
pub async fn reveal(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<String>,
    Form(form): Form<RevealForm>,
) -> Response {
    let here = format!("{LIST}/{id}");
    let (person, _) = match require_person(&state, &headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    if !csrf_ok(&state, &headers, &form.csrf) {
        return error_page(&state, StatusCode::FORBIDDEN, "Form expired", "Please open the page again and retry.");
    }
    let (app, _, swa) = match swa_app(&state, &person.user.id, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    if !swa.reveal_password {
        log_reveal(&state, &client, &person, &app, Outcome::deny("REVEAL_NOT_ALLOWED")).await;
        return error_page(&state, StatusCode::FORBIDDEN, "Not allowed", "This app does not let people see their stored password.");
    }
    let (record, stored) = match (state.store.user(&person.user.id).await, state.store.swa_credential(&app.id, &person.user.id).await) {
        (Ok(Some(r)), Ok(s)) => (r, s),
        _ => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your sign-in could not be loaded."),
    };
    let Some(stored) = stored else {
        return error_page(&state, StatusCode::NOT_FOUND, "Nothing stored", "There is no stored password for this app.");
    };
    if form.password.is_empty() || form.password.len() > 1024 {
        return error_page(&state, StatusCode::BAD_REQUEST, "Password required", "Enter your password to see the stored one.");
    }
    match state.hasher.verify(&Secret::new(form.password), record.password_hash.as_deref()).await {
        Ok(true) => {}
        Ok(false) => {
            log_reveal(&state, &client, &person, &app, Outcome::failure("INVALID_CREDENTIALS")).await;
            // A wrong re-entry counts like a failed sign-in, so the reveal
            // form cannot be used to guess the password past the lockout.
            let now = state.now();
            let lock_until = now + state.config.lockout.duration;
            if let Ok(true) = state.store.record_failed_sign_in(&person.user.id, state.config.lockout.attempts, now, lock_until).await {
                state.invalidate(Invalidation::User { id: person.user.id.clone() }).await;
                state
                    .log(
                        EventBuilder::new("user.account.lock", "Max sign in attempts exceeded", Actor::user(&person.user), &client)
                            .target(Target::user(&person.user))
                            .outcome(Outcome::deny("LOCKED_OUT"))
                            .debug("lockedUntil", crate::store::ts(lock_until)),
                    )
                    .await;
            }
            return error_page(&state, StatusCode::UNAUTHORIZED, "Password not accepted", "That is not your password. The stored password stays hidden.");
        }
        Err(_) => return error_page(&state, StatusCode::TOO_MANY_REQUESTS, "Try again", "Many people are signing in right now. Please try again in a moment."),
    }
    let Some(password) = state
        .vault
        .open(&person_context(&app.id, &person.user.id), &stored.sealed_password)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Secret::new)
    else {
        tracing::error!(app = %app.id, user = %person.user.id, "stored SWA password does not open with this master key");
        return error_page(&state, StatusCode::INTERNAL_SERVER_ERROR, "Sign-in unavailable", "Your stored password could not be read. Ask your administrator.");
    };
    log_reveal(&state, &client, &person, &app, Outcome::success()).await;
    let markup = page(
        &state,
        "Stored password",
        html! {
            main class="card" {
                h1 { "Your password for " (app.label) }
                p { "Username: " strong { (stored.user_name) } }
                p { "Password: " code id="revealed-password" { (password.expose()) } }
                p { a href=(format!("{LIST}/{}", app.id)) { "Done" } }
            }
        },
    );
    no_store(html_response(StatusCode::OK, markup, &[]))
}
