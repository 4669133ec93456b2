//! An app's page: General, Sign On and Assignments tabs, and the forms they post.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{admin, fields, manager, see_other, shell, status_badge, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, UsernameOptions, View};
use crate::apps::cache as assignments;
use crate::apps::{AppInstance, AppStatus, SignOnMode};
use crate::directory::{Group, User};
use crate::filter::Sql;
use crate::state::{AppState, EventBuilder, Invalidation};
use crate::store::{UserAssignment, UserQuery};
use crate::syslog::{Actor, Target};
use crate::web::{csrf_field, error_page};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    General,
    SignOn,
    Assignments,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::General, Tab::SignOn, Tab::Assignments];

    fn parse(text: &str) -> Self {
        match text {
            "signon" => Tab::SignOn,
            "assignments" => Tab::Assignments,
            _ => Tab::General,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Tab::General => "general",
            Tab::SignOn => "signon",
            Tab::Assignments => "assignments",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::SignOn => "Sign On",
            Tab::Assignments => "Assignments",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AppQuery {
    #[serde(default)]
    tab: String,
    /// Search text for people to assign.
    #[serde(default)]
    person: String,
    /// Search text for groups to assign.
    #[serde(default)]
    group: String,
    /// Set after Add Integration or Create App Integration.
    #[serde(default)]
    added: String,
    /// A short confirmation after a change.
    #[serde(default)]
    done: String,
    /// Paging through assigned people.
    #[serde(default)]
    after: String,
}

/// What a form posted back wants shown: which tab, its errors and values.
#[derive(Default)]
struct Outcome<'a> {
    errors: FieldErrors,
    form: Option<&'a Fields>,
}

const PEOPLE_PAGE: i64 = 50;
const SEARCH_RESULTS: i64 = 10;

fn unavailable(state: &AppState) -> Response {
    error_page(state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "The application could not be loaded.")
}

async fn load(state: &AppState, id: &str) -> Result<AppInstance, Response> {
    match state.store.app(id).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(error_page(state, StatusCode::NOT_FOUND, "No such application", "That application does not exist.")),
        Err(_) => Err(unavailable(state)),
    }
}

fn like_pattern(text: &str) -> String {
    format!("{}%", text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

async fn find_people(state: &AppState, text: &str) -> Vec<User> {
    let mut sql = Sql::default();
    let p = sql.bind(like_pattern(text));
    sql.text.push_str(&format!(
        "(login_lower LIKE {p} ESCAPE '\\' OR email_lower LIKE {p} ESCAPE '\\' OR first_name_lower LIKE {p} ESCAPE '\\' OR last_name_lower LIKE {p} ESCAPE '\\') AND status <> 'DEPROVISIONED'"
    ));
    state.store.list_users(&UserQuery { condition: Some(sql), after: None, limit: SEARCH_RESULTS }).await.unwrap_or_default()
}

async fn find_groups(state: &AppState, text: &str) -> Vec<Group> {
    let mut sql = Sql::default();
    let p = sql.bind(like_pattern(text));
    sql.text.push_str(&format!("name_lower LIKE {p} ESCAPE '\\'"));
    state.store.list_groups(&UserQuery { condition: Some(sql), after: None, limit: SEARCH_RESULTS }).await.unwrap_or_default()
}

fn app_url(app: &AppInstance, tab: Tab) -> String {
    format!("/admin/apps/{}?tab={}", app.id, tab.key())
}

fn tabs(app: &AppInstance, current: Tab) -> Markup {
    html! {
        nav class="tabs" aria-label="Application settings" {
            @for tab in Tab::ALL {
                a href=(app_url(app, tab)) aria-current=[(tab == current).then_some("page")] { (tab.label()) }
            }
        }
    }
}

/// The string settings of `settings.app` an admin can edit: the catalog
/// entry's variables, or the app's own fields.
fn general_settings(state: &AppState, app: &AppInstance) -> Vec<(String, String)> {
    let current = app.app_settings();
    let catalog = state.catalog.snapshot();
    match app.catalog_name.as_deref().and_then(|n| catalog.get(n)) {
        Some(entry) => entry.variables().iter().map(|v| (v.name().to_owned(), v.label().to_owned())).collect(),
        None => current
            .iter()
            .filter(|(_, v)| v.is_string())
            .map(|(k, _)| {
                let label = match k.as_str() {
                    "url" => "URL".to_owned(),
                    "realm" => "Realm".to_owned(),
                    "wReplyURL" => "Reply URL".to_owned(),
                    "usernameField" => "Username field name".to_owned(),
                    "passwordField" => "Password field name".to_owned(),
                    "buttonField" => "Sign-in button name".to_owned(),
                    other => other.to_owned(),
                };
                (k.clone(), label)
            })
            .collect(),
    }
}

fn general_tab(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, outcome: &Outcome) -> Markup {
    let can = admin.can_manage();
    let settings = general_settings(state, app);
    let current = app.app_settings();
    let value = |path: &str, stored: String| -> String { outcome.form.map(|f| f.get(path).to_owned()).unwrap_or(stored) };
    let mut labels: Vec<(String, String)> = vec![("label".into(), "Application label".into()), ("visibility.hide.web".into(), "Dashboard".into())];
    labels.extend(settings.iter().map(|(k, l)| (format!("settings.app.{k}"), l.clone())));
    let refs: Vec<(&str, &str)> = labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let hidden = outcome.form.map(|f| f.checked("visibility.hide.web")).unwrap_or_else(|| app.hidden());
    html! {
        h2 { "General" }
        (outcome.errors.summary(&refs))
        form method="post" action=(format!("/admin/apps/{}/general", app.id)) novalidate {
            (csrf_field(&view.csrf))
            (text_field("label", "Application label", &value("label", app.label.clone()), Input::Text, true, !can, &outcome.errors))
            @for (key, label) in &settings {
                @let path = format!("settings.app.{key}");
                @let stored = current.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
                (text_field(&path, label, &value(&path, stored), Input::Text, true, !can, &outcome.errors))
            }
            fieldset {
                legend { "Dashboard" }
                label class="choice" {
                    input type="checkbox" name="visibility.hide.web" value="true" checked[hidden] disabled[!can];
                    " Do not show a tile for this app on people's dashboards"
                }
            }
            @if can {
                div class="actions" { button type="submit" { "Save" } }
            }
        }
        dl class="settings" {
            dt { "Name" } dd { code { (app.name) } }
            dt { "Id" } dd { code { (app.id) } }
            @if let Some(entry) = &app.catalog_name {
                dt { "From the catalog" } dd { a href=(format!("/admin/apps/catalog/{}", urlencoding::encode(entry))) { (entry) } }
            }
            dt { "Launch link" } dd { code { (state.config.absolute(&app.link_path())) } }
        }
    }
}

/// One setting's value as text.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

async fn sign_on_tab(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, outcome: &Outcome<'_>) -> Markup {
    let can = admin.can_manage();
    let protocol: Map<String, Value> = match app.sign_on_mode {
        SignOnMode::OpenIdConnect => app.settings.get("oauthClient").and_then(Value::as_object).cloned().unwrap_or_default(),
        SignOnMode::Saml2 | SignOnMode::AutoLogin => app.sign_on(),
        SignOnMode::WsFederation | SignOnMode::Bookmark => app.app_settings(),
    };
    let options = match outcome.form {
        Some(f) => UsernameOptions::from_form(f),
        None => UsernameOptions::of(&app.credentials),
    };
    let saml = match app.sign_on_mode {
        SignOnMode::Saml2 => super::saml_edit::sign_on_section(state, admin, view, app).await,
        _ => html! {},
    };
    let labels = [
        ("credentials.userNameTemplate.type", "Application username format"),
        ("credentials.userNameTemplate.template", "Custom expression"),
        ("credentials.userNameTemplate.pushStatus", "Update application username on"),
        ("credentials.revealPassword", "Password reveal"),
    ];
    html! {
        h2 { "Sign On" }
        p { "Sign-on method: " strong { (app.sign_on_mode.label()) } }
        @if !protocol.is_empty() {
            dl class="settings" {
                @for (key, value) in &protocol {
                    dt { code { (key) } } dd { (shown(value)) }
                }
            }
        }
        @if let Some(client_id) = app.credentials.get("oauthClient").and_then(|c| c.get("client_id")).and_then(Value::as_str) {
            p { "Client ID: " code { (client_id) } }
            p { a href=(format!("/admin/apps/{}/oidc", app.id)) { @if can { "Edit OIDC settings" } @else { "OIDC settings" } } }
        }
        @if app.sign_on_mode == SignOnMode::Saml2 {
            p { a href=(format!("/app/{}/sso/saml/metadata", app.id)) { "Identity provider metadata" } " (give this to the app)" }
            (saml)
        }
        @if app.sign_on_mode == SignOnMode::WsFederation {
            p { a href=(format!("/app/{}/sso/wsfed/metadata", app.id)) { "Federation metadata" } }
        }
        h3 { "Credentials details" }
        (outcome.errors.summary(&labels))
        form method="post" action=(format!("/admin/apps/{}/signon", app.id)) novalidate {
            (csrf_field(&view.csrf))
            (options.form(&outcome.errors, !can))
            @if can {
                div class="actions" { button type="submit" { "Save" } }
            }
        }
    }
}

async fn assignments_tab(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, query: &AppQuery, outcome: &Outcome<'_>) -> Markup {
    let can = admin.can_manage();
    let after = Some(query.after.as_str()).filter(|a| !a.is_empty());
    let rows: Vec<UserAssignment> = state.store.assignments_of_app(&app.id, after, PEOPLE_PAGE + 1).await.unwrap_or_default();
    let next = (rows.len() as i64 > PEOPLE_PAGE).then(|| rows[PEOPLE_PAGE as usize - 1].user_id.clone());
    let mut people = Vec::new();
    for row in rows.iter().take(PEOPLE_PAGE as usize) {
        let user = state.store.user(&row.user_id).await.ok().flatten().map(|r| r.user);
        people.push((row, user));
    }
    let grants = state.store.group_assignments_of_app(&app.id).await.unwrap_or_default();
    let mut groups = Vec::new();
    for grant in &grants {
        let group = state.store.group(&grant.group_id).await.ok().flatten();
        groups.push((grant, group));
    }
    let person_q = query.person.trim();
    let group_q = query.group.trim();
    let found_people = if person_q.is_empty() { Vec::new() } else { find_people(state, person_q).await };
    let found_groups = if group_q.is_empty() { Vec::new() } else { find_groups(state, group_q).await };
    let base = app_url(app, Tab::Assignments);
    html! {
        h2 { "Assignments" }
        (outcome.errors.summary(&[("credentials.userName", "Application username")]))
        section aria-labelledby="people" {
            h3 id="people" { "People" }
            @if can {
                form method="get" action=(format!("/admin/apps/{}", app.id)) class="row" role="search" {
                    input type="hidden" name="tab" value="assignments";
                    div {
                        label for="find-person" { "Find people to assign" }
                        input id="find-person" name="person" type="search" value=(person_q) placeholder="Name, username or email";
                    }
                    button type="submit" { "Find people" }
                }
                @if !person_q.is_empty() {
                    @if found_people.is_empty() {
                        p class="empty" role="status" { "Nobody matches “" (person_q) "”." }
                    } @else {
                        ul class="results" aria-label="People found" {
                            @for user in &found_people {
                                li {
                                    span { strong { (user.display_name()) } " " span class="muted" { (user.login()) } }
                                    @if people.iter().any(|(row, _)| row.user_id == user.id && row.scope == "USER") {
                                        span class="muted" { " — assigned" }
                                    } @else {
                                        form method="post" action=(format!("/admin/apps/{}/users", app.id)) class="inline" {
                                            (csrf_field(&view.csrf))
                                            input type="hidden" name="user_id" value=(user.id);
                                            button type="submit" class="small" aria-label=(format!("Assign {} to {}", user.display_name(), app.label)) { "Assign" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if people.is_empty() {
                p class="empty" { "Nobody is assigned this app yet." }
            } @else {
                table {
                    caption { "People assigned " (app.label) }
                    thead { tr { th scope="col" { "Person" } th scope="col" { "Assigned" } th scope="col" { "Application username" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                    tbody {
                        @for (row, user) in &people {
                            @let name = user.as_ref().map(|u| u.display_name()).unwrap_or_else(|| row.user_id.clone());
                            tr {
                                th scope="row" {
                                    (name)
                                    @if let Some(u) = user { br; span class="muted" { (u.login()) } }
                                }
                                td { @if row.scope == "USER" { "Directly" } @else { "By group" } }
                                td {
                                    @if can {
                                        @let id = format!("username-{}", row.user_id);
                                        @let failed = outcome.form.is_some_and(|f| f.get("user_id") == row.user_id);
                                        form method="post" action=(format!("/admin/apps/{}/users/{}", app.id, row.user_id)) class="row compact" {
                                            (csrf_field(&view.csrf))
                                            label for=(id) class="visually-hidden" { "Application username for " (name) }
                                            @if failed {
                                                @if let Some(e) = outcome.errors.get("credentials.userName") {
                                                    p class="field-error" id=(format!("{id}-error")) { (e) }
                                                }
                                            }
                                            input id=(id) name="credentials.userName" type="text"
                                                value=(if failed { outcome.form.map(|f| f.get("credentials.userName")).unwrap_or("").to_owned() } else { row.username.clone().unwrap_or_default() })
                                                aria-invalid=[failed.then_some("true")]
                                                aria-describedby=[failed.then(|| format!("{id}-error"))];
                                            button type="submit" class="small" aria-label=(format!("Save application username for {name}")) { "Save" }
                                        }
                                    } @else {
                                        (row.username.clone().unwrap_or_else(|| "—".into()))
                                    }
                                }
                                td {
                                    @if can && row.scope == "USER" {
                                        form method="post" action=(format!("/admin/apps/{}/users/{}/remove", app.id, row.user_id)) class="inline" {
                                            (csrf_field(&view.csrf))
                                            button type="submit" class="small" aria-label=(format!("Unassign {name}")) { "Unassign" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if next.is_some() || after.is_some() {
                    nav aria-label="Pages of people" class="pager" {
                        @if after.is_some() { a href=(base) { "First page" } }
                        @if let Some(n) = &next { a href=(format!("{base}&after={}", urlencoding::encode(n))) rel="next" { "Next page" } }
                    }
                }
            }
        }
        section aria-labelledby="groups" {
            h3 id="groups" { "Groups" }
            @if can {
                form method="get" action=(format!("/admin/apps/{}", app.id)) class="row" role="search" {
                    input type="hidden" name="tab" value="assignments";
                    div {
                        label for="find-group" { "Find groups to assign" }
                        input id="find-group" name="group" type="search" value=(group_q) placeholder="Group name";
                    }
                    button type="submit" { "Find groups" }
                }
                @if !group_q.is_empty() {
                    @if found_groups.is_empty() {
                        p class="empty" role="status" { "No group matches “" (group_q) "”." }
                    } @else {
                        ul class="results" aria-label="Groups found" {
                            @for group in &found_groups {
                                li {
                                    strong { (group.name) }
                                    @if grants.iter().any(|g| g.group_id == group.id) {
                                        span class="muted" { " — assigned" }
                                    } @else {
                                        form method="post" action=(format!("/admin/apps/{}/groups", app.id)) class="inline" {
                                            (csrf_field(&view.csrf))
                                            input type="hidden" name="group_id" value=(group.id);
                                            button type="submit" class="small" aria-label=(format!("Assign group {} to {}", group.name, app.label)) { "Assign" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if groups.is_empty() {
                p class="empty" { "No group is assigned this app." }
            } @else {
                table {
                    caption { "Groups assigned " (app.label) }
                    thead { tr { th scope="col" { "Group" } th scope="col" { "Priority" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                    tbody {
                        @for (grant, group) in &groups {
                            @let name = group.as_ref().map(|g| g.name.clone()).unwrap_or_else(|| grant.group_id.clone());
                            tr {
                                th scope="row" { (name) }
                                td { (grant.priority) }
                                td {
                                    @if can {
                                        form method="post" action=(format!("/admin/apps/{}/groups/{}/remove", app.id, grant.group_id)) class="inline" {
                                            (csrf_field(&view.csrf))
                                            button type="submit" class="small" aria-label=(format!("Unassign group {name}")) { "Unassign" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn render(state: &AppState, admin: &Admin, view: &View, app: &AppInstance, tab: Tab, query: &AppQuery, outcome: &Outcome<'_>) -> Markup {
    let can = admin.can_manage();
    let here = app_url(app, tab);
    let content = match tab {
        Tab::General => general_tab(state, admin, view, app, outcome),
        Tab::SignOn => sign_on_tab(state, admin, view, app, outcome).await,
        Tab::Assignments => assignments_tab(state, admin, view, app, query, outcome).await,
    };
    let body = html! {
        p class="crumbs" { a href="/admin/apps" { "Applications" } " › " (app.label) }
        div class="entry-head" {
            (crate::web::home::monogram(&app.label))
            h1 { (app.label) }
            (status_badge(app))
        }
        @if query.added == "1" {
            div class="notice" role="status" {
                p { strong { "Done. " } (app.label) " was added." }
                p { "Next, " a href=(app_url(app, Tab::Assignments)) { "assign it to people or groups" } " so that it appears on their dashboards." }
            }
        }
        @if !query.done.is_empty() {
            p class="notice" role="status" {
                (match query.done.as_str() {
                    "saved" => "Saved.",
                    "assigned" => "Assigned.",
                    "unassigned" => "Unassigned.",
                    _ => "Done.",
                })
            }
        }
        p class="muted" { (app.sign_on_mode.label()) }
        @if can {
            @let op = if app.status == AppStatus::Active { "deactivate" } else { "activate" };
            form method="post" action=(format!("/admin/apps/{}/lifecycle/{op}", app.id)) class="inline" {
                (csrf_field(&view.csrf))
                input type="hidden" name="back" value=(here);
                button type="submit" class="small" { @if op == "activate" { "Activate" } @else { "Deactivate" } }
            }
        }
        (tabs(app, tab))
        div class="tab-panel" { (content) }
    };
    shell(state, admin, &view.csrf, &app.label, Section::Applications, body)
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<AppQuery>) -> Response {
    let tab = Tab::parse(&query.tab);
    let admin = match admin(&state, &headers, &format!("/admin/apps/{}?tab={}", urlencoding::encode(&id), tab.key())).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let app = match load(&state, &id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let view = View::new(&state, &headers);
    let markup = render(&state, &admin, &view, &app, tab, &query, &Outcome::default()).await;
    view.respond(StatusCode::OK, markup)
}

/// After a failed change: the tab again, with the API's causes by their fields.
async fn failed(state: &AppState, headers: &HeaderMap, admin: &Admin, app: &AppInstance, tab: Tab, error: &crate::error::ApiError, form: &Fields) -> Response {
    let view = View::new(state, headers);
    let outcome = Outcome { errors: FieldErrors::from_api(error), form: Some(form) };
    let status = if error.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
    let markup = render(state, admin, &view, app, tab, &AppQuery::default(), &outcome).await;
    view.respond(status, markup)
}

async fn guarded(state: &AppState, headers: &HeaderMap, id: &str, form: &Fields) -> Result<(Admin, AppInstance), Response> {
    let admin = manager(state, headers, &format!("/admin/apps/{}", urlencoding::encode(id)), form.get("csrf")).await?;
    let app = load(state, id).await?;
    Ok((admin, app))
}

/// The General tab: label, General Settings and dashboard visibility, through `api::update_app`.
pub async fn save_general(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut general = app.app_settings();
    for (key, _) in general_settings(&state, &app) {
        general.insert(key.clone(), Value::String(form.get(&format!("settings.app.{key}")).to_owned()));
    }
    let mut settings = app.settings.clone();
    settings.insert("app".into(), Value::Object(general));
    let mut visibility = app.visibility.clone();
    let mut hide = visibility.get("hide").and_then(Value::as_object).cloned().unwrap_or_default();
    hide.insert("web".into(), Value::Bool(form.checked("visibility.hide.web")));
    hide.entry("iOS").or_insert(Value::Bool(false));
    visibility.insert("hide".into(), Value::Object(hide));
    let mut body = Map::new();
    body.insert("label".into(), Value::String(form.get("label").to_owned()));
    body.insert("settings".into(), Value::Object(settings));
    body.insert("visibility".into(), Value::Object(visibility));
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::update_app(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}&done=saved", app_url(&app, Tab::General))),
        Err(e) => failed(&state, &headers, &admin, &app, Tab::General, &e, &form).await,
    }
}

/// The Sign On tab: username format, update-on and password reveal.
pub async fn save_sign_on(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut credentials = app.credentials.clone();
    credentials.remove("signing");
    UsernameOptions::from_form(&form).apply(&mut credentials);
    let mut body = Map::new();
    body.insert("credentials".into(), Value::Object(credentials));
    let client = crate::auth::client_info(&headers, Some(peer));
    match crate::api::update_app(&state, &admin.principal(), &client, &app.id, &body).await {
        Ok(_) => see_other(&format!("{}&done=saved", app_url(&app, Tab::SignOn))),
        Err(e) => failed(&state, &headers, &admin, &app, Tab::SignOn, &e, &form).await,
    }
}

fn app_username(form: &Fields) -> Result<Option<String>, crate::error::ApiError> {
    let name = form.get("credentials.userName");
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > 256 || name.chars().any(char::is_control) {
        return Err(crate::error::ApiError::field("credentials.userName", "Use 1 to 256 printable characters."));
    }
    Ok(Some(name.to_owned()))
}

pub async fn assign_user(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let user = match state.store.user(form.get("user_id")).await {
        Ok(Some(record)) => record.user,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "No such person", "That person does not exist."),
        Err(_) => return unavailable(&state),
    };
    let username = match app_username(&form) {
        Ok(u) => u,
        Err(e) => return failed(&state, &headers, &admin, &app, Tab::Assignments, &e, &form).await,
    };
    if assignments::assign_user(&state, &app, &user, username, Map::new()).await.is_err() {
        return unavailable(&state);
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    state
        .log(
            EventBuilder::new("application.user_membership.add", "Add user to application membership", Actor::user(&admin.person.user), &client)
                .target(Target::user(&user))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    see_other(&format!("{}&done=assigned", app_url(&app, Tab::Assignments)))
}

/// Saves a person's application username for this app.
pub async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, user_id)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let mut form = fields(form);
    form.0.push(("user_id".into(), user_id.clone()));
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut row = match state.store.user_assignment(&app.id, &user_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "Not assigned", "That person is not assigned this app."),
        Err(_) => return unavailable(&state),
    };
    let username = match app_username(&form) {
        Ok(Some(u)) => u,
        Ok(None) => {
            let e = crate::error::ApiError::field("credentials.userName", "Enter an application username.");
            return failed(&state, &headers, &admin, &app, Tab::Assignments, &e, &form).await;
        }
        Err(e) => return failed(&state, &headers, &admin, &app, Tab::Assignments, &e, &form).await,
    };
    row.username = Some(username);
    row.last_updated = state.now();
    if state.store.put_user_assignment(&row).await.is_err() {
        return unavailable(&state);
    }
    state.invalidate(Invalidation::Assignments { user_id: user_id.clone() }).await;
    let client = crate::auth::client_info(&headers, Some(peer));
    state
        .log(
            EventBuilder::new("application.user_membership.change_username", "Update application user", Actor::user(&admin.person.user), &client)
                .target(Target::other(&user_id, "User", "unknown"))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    see_other(&format!("{}&done=saved", app_url(&app, Tab::Assignments)))
}

pub async fn unassign_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, user_id)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match state.store.user_assignment(&app.id, &user_id).await {
        Ok(Some(row)) if row.scope == "USER" => {}
        Ok(Some(_)) => {
            return error_page(&state, StatusCode::CONFLICT, "Assigned by a group", "This person has the app through a group: remove them from the group or unassign the group.")
        }
        Ok(None) => return see_other(&app_url(&app, Tab::Assignments)),
        Err(_) => return unavailable(&state),
    }
    if assignments::unassign_user(&state, &app.id, &user_id).await.is_err() {
        return unavailable(&state);
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    state
        .log(
            EventBuilder::new("application.user_membership.remove", "Remove user from application membership", Actor::user(&admin.person.user), &client)
                .target(Target::other(&user_id, "User", "unknown"))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    see_other(&format!("{}&done=unassigned", app_url(&app, Tab::Assignments)))
}

pub async fn assign_group(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let group = match state.store.group(form.get("group_id")).await {
        Ok(Some(g)) => g,
        Ok(None) => return error_page(&state, StatusCode::NOT_FOUND, "No such group", "That group does not exist."),
        Err(_) => return unavailable(&state),
    };
    // A new grant goes last, as the API does when no priority is given.
    let priority = match state.store.group_assignments_of_app(&app.id).await {
        Ok(grants) => grants.iter().map(|g| g.priority + 1).max().unwrap_or(0),
        Err(_) => return unavailable(&state),
    };
    if assignments::assign_group(&state, &app, &group.id, priority, Map::new()).await.is_err() {
        return unavailable(&state);
    }
    let client = crate::auth::client_info(&headers, Some(peer));
    state
        .log(
            EventBuilder::new("application.user_membership.add", "Assign group to application", Actor::user(&admin.person.user), &client)
                .target(Target::group(&group))
                .target(Target::other(&app.id, "AppInstance", &app.label)),
        )
        .await;
    see_other(&format!("{}&done=assigned", app_url(&app, Tab::Assignments)))
}

pub async fn unassign_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, group_id)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let form = fields(form);
    let (admin, app) = match guarded(&state, &headers, &id, &form).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match assignments::unassign_group(&state, &app, &group_id).await {
        Ok(true) => {
            let client = crate::auth::client_info(&headers, Some(peer));
            state
                .log(
                    EventBuilder::new("application.user_membership.remove", "Unassign group from application", Actor::user(&admin.person.user), &client)
                        .target(Target::other(&group_id, "UserGroup", "unknown"))
                        .target(Target::other(&app.id, "AppInstance", &app.label)),
                )
                .await;
            see_other(&format!("{}&done=unassigned", app_url(&app, Tab::Assignments)))
        }
        Ok(false) => see_other(&app_url(&app, Tab::Assignments)),
        Err(_) => unavailable(&state),
    }
}
