//! Setting a password from a one-time link: account activation
//! (/welcome/{token}) and password reset (/signin/reset-password/{token}).

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use vestibule_core::Secret;

use super::{csrf_field, csrf_ok, csrf_token, error_page, html_response, page};
use crate::auth;
use crate::crypto::digest_token;
use crate::directory::UserStatus;
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::syslog::{Actor, Target};

#[derive(Clone, Copy)]
enum Purpose {
    Activation,
    Reset,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Reset => "reset",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Self::Activation => "Activate your account",
            Self::Reset => "Reset your password",
        }
    }
    fn action(self, token: &str) -> String {
        match self {
            Self::Activation => format!("/welcome/{token}"),
            Self::Reset => format!("/signin/reset-password/{token}"),
        }
    }
}

fn form(state: &AppState, purpose: Purpose, token: &str, csrf: &str, error: Option<&str>) -> maud::Markup {
    page(
        state,
        purpose.title(),
        html! {
            main class="card" aria-labelledby="title" {
                p class="org" { (state.config.org_name) }
                h1 id="title" { (purpose.title()) }
                @if let Some(message) = error {
                    p class="error" role="alert" id="password-error" { (message) }
                }
                p id="password-rules" { "Choose a password of at least " (state.config.passwords.min_length) " characters that is not a common password and does not contain your name or username." }
                form method="post" action=(purpose.action(token)) {
                    (csrf_field(csrf))
                    label for="password" { "New password" }
                    input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-rules";
                    label for="confirm" { "Repeat new password" }
                    input id="confirm" name="confirm" type="password" autocomplete="new-password" required;
                    button type="submit" { "Set password" }
                }
            }
        },
    )
}

async fn show(state: AppState, headers: HeaderMap, token: String, purpose: Purpose) -> Response {
    match state.store.peek_one_time_token(&digest_token(&token), purpose.key(), state.now()).await {
        Ok(Some(_)) => {
            let (csrf, set) = csrf_token(&state, &headers);
            html_response(StatusCode::OK, form(&state, purpose, &token, &csrf, None), &set.into_iter().collect::<Vec<_>>())
        }
        _ => expired(&state),
    }
}

fn expired(state: &AppState) -> Response {
    error_page(state, StatusCode::NOT_FOUND, "Link expired", "This link is invalid, used or expired. Ask your administrator for a new one.")
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn submit(state: AppState, headers: HeaderMap, peer: std::net::SocketAddr, token: String, purpose: Purpose, input: PasswordForm) -> Response {
    let (csrf, _) = csrf_token(&state, &headers);
    if !csrf_ok(&state, &headers, &input.csrf) {
        return html_response(StatusCode::FORBIDDEN, form(&state, purpose, &token, &csrf, Some("The form expired. Please try again.")), &[]);
    }
    let digest = digest_token(&token);
    let now = state.now();
    let Ok(Some(user_id)) = state.store.peek_one_time_token(&digest, purpose.key(), now).await else {
        return expired(&state);
    };
    let Ok(Some(record)) = state.store.user(&user_id).await else { return expired(&state) };
    if input.password != input.confirm {
        return html_response(StatusCode::BAD_REQUEST, form(&state, purpose, &token, &csrf, Some("The two passwords do not match.")), &[]);
    }
    let user = &record.user;
    let (first, last) = (user.text("firstName").to_owned(), user.text("lastName").to_owned());
    if let Err(violation) = crate::passwords::check_policy(&input.password, state.config.passwords.min_length, user.login(), &[&first, &last]) {
        return html_response(StatusCode::BAD_REQUEST, form(&state, purpose, &token, &csrf, Some(&violation.0)), &[]);
    }
    let Ok(hash) = state.hasher.hash(&Secret::new(input.password)).await else {
        return html_response(StatusCode::TOO_MANY_REQUESTS, form(&state, purpose, &token, &csrf, Some("Busy; please try again in a moment.")), &[]);
    };
    // Spend the token only now that the new password is acceptable.
    match state.store.take_one_time_token(&digest, purpose.key(), now).await {
        Ok(Some(_)) => {}
        _ => return expired(&state),
    }
    if state.store.set_password(&user.id, Some(&hash), now).await.is_err()
        || state.store.set_status(&user.id, UserStatus::Active, now).await.is_err()
    {
        return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Your password could not be saved. Please try again.");
    }
    state.invalidate(Invalidation::User { id: user.id.clone() }).await;
    let client = auth::client_info(&headers, Some(peer));
    let (event_type, message) = match purpose {
        Purpose::Activation => ("user.lifecycle.activate", "Activate user"),
        Purpose::Reset => ("user.account.reset_password", "Reset password"),
    };
    state
        .log(EventBuilder::new(event_type, message, Actor::user(user), &client).target(Target::user(user)).debug("completedBy", "one-time link"))
        .await;
    Redirect::to("/login").into_response()
}

pub async fn activation_page(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    show(state, headers, token, Purpose::Activation).await
}

pub async fn reset_page(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    show(state, headers, token, Purpose::Reset).await
}

pub async fn activation_submit(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, Path(token): Path<String>, Form(input): Form<PasswordForm>) -> Response {
    submit(state, headers, peer, token, Purpose::Activation, input).await
}

pub async fn reset_submit(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, Path(token): Path<String>, Form(input): Form<PasswordForm>) -> Response {
    submit(state, headers, peer, token, Purpose::Reset, input).await
}
