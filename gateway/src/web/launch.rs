//! GET /home/{name}/{id}/launch: every dashboard launch goes through here.
//! It reads only the caches once warm (session, assignment, app), records the
//! launch, and hands over to the app's protocol.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{error_page, require_person};
use crate::apps::SignOnMode;
use crate::state::{AppState, EventBuilder};
use crate::syslog::{Actor, Outcome, Target};

pub async fn launch(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((name, app_id)): Path<(String, String)>,
) -> Response {
    let here = format!("/home/{name}/{app_id}/launch");
    let (person, session) = match require_person(&state, &headers, &here).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let client = crate::auth::client_info(&headers, Some(peer));
    let found = match crate::apps::cache::launchable(&state, &person.user.id, &app_id).await {
        Ok(found) => found.filter(|(app, _)| app.name == name),
        Err(_) => return error_page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The app could not be opened."),
    };
    let Some((app, assignment)) = found else {
        state
            .log(
                EventBuilder::new("app.generic.unauth_app_access_attempt", "Attempt to access an app not assigned", Actor::user(&person.user), &client)
                    .target(Target::other(&app_id, "AppInstance", &name))
                    .outcome(Outcome::deny("NOT_ASSIGNED")),
            )
            .await;
        return error_page(&state, StatusCode::NOT_FOUND, "App not available", "This app is not assigned to you, or it has been turned off.");
    };
    state.metrics.launches.with_label_values(&[app.sign_on_mode.protocol()]).inc();
    if app.sign_on_mode != SignOnMode::Saml2 {
        // SAML writes its own event, with the assertion's details.
        state
            .log(
                EventBuilder::new("user.authentication.sso", "User single sign on to app", Actor::user(&person.user), &client)
                    .target(Target::other(&app.id, "AppInstance", &app.label))
                    .debug("signOnMode", app.sign_on_mode.as_str()),
            )
            .await;
    }
    match app.sign_on_mode {
        SignOnMode::Bookmark => match app.app_settings().get("url").and_then(|u| u.as_str()) {
            Some(url) => Redirect::to(url).into_response(),
            None => error_page(&state, StatusCode::INTERNAL_SERVER_ERROR, "App misconfigured", "This bookmark has no URL."),
        },
        SignOnMode::Saml2 => crate::saml_idp::idp_initiated(&state, &app, &assignment, &person.user, &session, &client).await,
        SignOnMode::OpenIdConnect => crate::oauth::dashboard_launch(&state, &app, &person.user).await,
        SignOnMode::WsFederation => crate::wsfed::launch(&state, &app, &assignment, &person.user, &session, &client).await,
        SignOnMode::AutoLogin => crate::swa::launch(&state, &app, &assignment, &person.user, &client).await,
    }
}
