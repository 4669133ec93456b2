//! A server's Access Policies tab, a policy's page and a rule's page: which
//! clients a policy covers, and for each rule the grant types, people,
//! scopes and token lifetimes it allows. Changes go through the functions
//! behind `/api/v1/authorizationServers/{id}/policies` (`oauth::policies`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::super::{admin, field_id, fields, group_error, see_other, shell, text_field, Admin, FieldErrors, Fields, FormFields, Input, Section, View};
use super::list::status_badge;
use super::server::{server_url, Tab};
use super::{api_error_page, configurer, BASE};
use crate::apps::{AppInstance, SignOnMode};
use crate::directory::Group;
use crate::error::ApiError;
use crate::filter::Sql;
use crate::oauth::management;
use crate::oauth::policies;
use crate::oauth::runtime::LoadedServer;
use crate::state::AppState;
use crate::store::UserQuery;
use crate::web::csrf_field;

const CLIENTS: &str = "conditions.clients.include";
const GRANTS: &str = "conditions.grantTypes.include";
const GROUPS: &str = "conditions.people.groups.include";
const USERS: &str = "conditions.people.users.include";
const SCOPES: &str = "conditions.scopes.include";
const ACCESS: &str = "actions.token.accessTokenLifetimeMinutes";
const REFRESH: &str = "actions.token.refreshTokenLifetimeMinutes";
const WINDOW: &str = "actions.token.refreshTokenWindowMinutes";

/// Okta's special values.
const ALL_CLIENTS: &str = "ALL_CLIENTS";
const EVERYONE: &str = "EVERYONE";
const ANY_SCOPE: &str = "*";

/// The grant types a rule may name that Vestibule issues tokens for.
const RULE_GRANTS: [(&str, &str); 3] =
    [("client_credentials", "Client credentials"), ("authorization_code", "Authorization code (and refresh tokens)"), ("implicit", "Implicit")];

const POLICY_LABELS: [(&str, &str); 4] = [("name", "Name"), ("description", "Description"), (CLIENTS, "Assign to"), ("priority", "Priority")];

const RULE_LABELS: [(&str, &str); 10] = [
    ("name", "Rule name"),
    ("priority", "Priority"),
    (GRANTS, "Grant types"),
    ("conditions.people", "People"),
    (GROUPS, "People"),
    (USERS, "People"),
    (SCOPES, "Scopes"),
    (ACCESS, "Access token lifetime"),
    (REFRESH, "Refresh token lifetime"),
    (WINDOW, "Refresh token unused for"),
];

/// Most OIDC apps and groups a form lists to choose from.
const CHOICES: i64 = 200;

fn policy_url(server_id: &str, policy_id: &str) -> String {
    format!("{BASE}/{}/policies/{}", urlencoding::encode(server_id), urlencoding::encode(policy_id))
}

fn rule_url(server_id: &str, policy_id: &str, rule_id: &str) -> String {
    format!("{}/rules/{}", policy_url(server_id, policy_id), urlencoding::encode(rule_id))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn includes(v: &Value, path: &[&str]) -> Vec<String> {
    let mut at = v.get("conditions");
    for key in path {
        at = at.and_then(|a| a.get(key));
    }
    at.and_then(|a| a.get("include")).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

async fn oidc_apps(state: &AppState) -> Vec<AppInstance> {
    let mut sql = Sql::default();
    let p = sql.bind(SignOnMode::OpenIdConnect.as_str().to_owned());
    sql.text.push_str(&format!("sign_on_mode = {p}"));
    state.store.list_apps(Some(&sql), None, CHOICES).await.unwrap_or_default()
}

async fn groups(state: &AppState) -> Vec<Group> {
    state.store.list_groups(&UserQuery { condition: None, after: None, limit: CHOICES }).await.unwrap_or_default()
}

/// A number field's value for the API: a number when it is one, otherwise
/// the text, which the API refuses by its path.
fn number(form: &Fields, path: &str) -> Value {
    let t = form.get(path);
    t.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.to_owned()))
}

fn with_priority(form: &Fields, body: &mut Value) {
    if !form.get("priority").is_empty() {
        body["priority"] = number(form, "priority");
    }
}

fn policy_body(form: &Fields) -> Map<String, Value> {
    let mut body = json!({
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "name": form.get("name"),
        "description": form.get("description"),
        "conditions": { "clients": { "include": form.all(CLIENTS) } },
    });
    with_priority(form, &mut body);
    body.as_object().cloned().unwrap_or_default()
}

fn rule_body(form: &Fields) -> Map<String, Value> {
    let mut body = json!({
        "type": "RESOURCE_ACCESS",
        "name": form.get("name"),
        "conditions": {
            "grantTypes": { "include": form.all(GRANTS) },
            "people": { "groups": { "include": form.all(GROUPS) }, "users": { "include": form.all(USERS) } },
            "scopes": { "include": form.all(SCOPES) },
        },
        "actions": { "token": { "accessTokenLifetimeMinutes": number(form, ACCESS), "refreshTokenLifetimeMinutes": number(form, REFRESH), "refreshTokenWindowMinutes": number(form, WINDOW) } },
    });
    with_priority(form, &mut body);
    body.as_object().cloned().unwrap_or_default()
}

/// A policy's form values, from the API's JSON.
fn policy_fields_of(p: &Value) -> Fields {
    let mut f = vec![("name".to_owned(), text(p, "name").to_owned()), ("description".to_owned(), text(p, "description").to_owned())];
    f.push(("priority".to_owned(), p.get("priority").map(Value::to_string).unwrap_or_default()));
    f.extend(includes(p, &["clients"]).into_iter().map(|c| (CLIENTS.to_owned(), c)));
    Fields(f)
}

/// A rule's form values, from the API's JSON.
fn rule_fields_of(r: &Value) -> Fields {
    let token = |k: &str| r.get("actions").and_then(|a| a.get("token")).and_then(|t| t.get(k)).map(Value::to_string).unwrap_or_default();
    let mut f = vec![
        ("name".to_owned(), text(r, "name").to_owned()),
        ("priority".to_owned(), r.get("priority").map(Value::to_string).unwrap_or_default()),
        (ACCESS.to_owned(), token("accessTokenLifetimeMinutes")),
        (REFRESH.to_owned(), token("refreshTokenLifetimeMinutes")),
        (WINDOW.to_owned(), token("refreshTokenWindowMinutes")),
    ];
    f.extend(includes(r, &["grantTypes"]).into_iter().map(|g| (GRANTS.to_owned(), g)));
    f.extend(includes(r, &["people", "groups"]).into_iter().map(|g| (GROUPS.to_owned(), g)));
    f.extend(includes(r, &["people", "users"]).into_iter().map(|u| (USERS.to_owned(), u)));
    f.extend(includes(r, &["scopes"]).into_iter().map(|s| (SCOPES.to_owned(), s)));
    Fields(f)
}

fn new_rule_defaults() -> Fields {
    Fields(vec![
        (GRANTS.to_owned(), "client_credentials".to_owned()),
        (GRANTS.to_owned(), "authorization_code".to_owned()),
        (GROUPS.to_owned(), EVERYONE.to_owned()),
        (SCOPES.to_owned(), ANY_SCOPE.to_owned()),
        (ACCESS.to_owned(), "60".to_owned()),
        (REFRESH.to_owned(), "0".to_owned()),
        (WINDOW.to_owned(), "10080".to_owned()),
    ])
}

/// Checkboxes for a list the API takes, in a fieldset, with its error.
fn checkboxes(path: &str, legend: &str, hint: &str, choices: &[(String, Markup)], form: &Fields, disabled: bool, errors: &FieldErrors) -> Markup {
    let id = field_id(path);
    let chosen = form.all(path);
    html! {
        fieldset id=(id) aria-describedby=(format!("{id}-hint")) {
            legend { (legend) }
            p class="hint" id=(format!("{id}-hint")) { (hint) }
            (group_error(path, errors))
            @for (value, label) in choices {
                label class="choice" {
                    input type="checkbox" name=(path) value=(value) checked[chosen.contains(&value.as_str())] disabled[disabled];
                    " " (label)
                }
            }
        }
    }
}

fn policy_form(action: &str, submit: &str, form: &Fields, apps: &[AppInstance], errors: &FieldErrors, csrf: &str, disabled: bool) -> Markup {
    let mut clients: Vec<(String, Markup)> = vec![(ALL_CLIENTS.to_owned(), html! { "All clients" })];
    clients.extend(apps.iter().map(|a| (a.id.clone(), html! { (a.label) " " span class="muted" { "(" code { (a.id) } ")" } })));
    // A client named by the policy but no longer listed stays checked.
    for c in form.all(CLIENTS) {
        if !clients.iter().any(|(v, _)| v == c) {
            clients.push((c.to_owned(), html! { code { (c) } }));
        }
    }
    html! {
        (errors.summary(&POLICY_LABELS))
        form method="post" action=(action) novalidate {
            (csrf_field(csrf))
            (text_field("name", "Name", form.get("name"), Input::Text, true, disabled, errors))
            (text_field("description", "Description", form.get("description"), Input::Text, false, disabled, errors))
            (checkboxes(CLIENTS, "Assign to", "The OpenID Connect apps (clients) this policy decides for: all of them, or the ones chosen.", &clients, form, disabled, errors))
            (text_field("priority", "Priority", form.get("priority"), Input::Hinted("1 is evaluated first; empty puts a new policy last."), false, disabled, errors))
            @if !disabled {
                div class="actions" { button type="submit" { (submit) } }
            }
        }
    }
}

fn rule_form(server: &LoadedServer, action: &str, submit: &str, form: &Fields, groups: &[Group], errors: &FieldErrors, csrf: &str, disabled: bool) -> Markup {
    let grants: Vec<(String, Markup)> = RULE_GRANTS.iter().map(|(v, l)| ((*v).to_owned(), html! { (l) })).collect();
    let mut people: Vec<(String, Markup)> = vec![(EVERYONE.to_owned(), html! { "Everyone" })];
    people.extend(groups.iter().map(|g| (g.id.clone(), html! { "Group " strong { (g.name) } })));
    for g in form.all(GROUPS) {
        if !people.iter().any(|(v, _)| v == g) {
            people.push((g.to_owned(), html! { "Group " code { (g) } }));
        }
    }
    let users: Vec<(String, Markup)> = form.all(USERS).into_iter().map(|u| (u.to_owned(), html! { "Person " code { (u) } })).collect();
    let mut scopes: Vec<(String, Markup)> = vec![(ANY_SCOPE.to_owned(), html! { "Any scope" })];
    scopes.extend(server.server.scopes_supported().into_iter().map(|s| (s.clone(), html! { code { (s) } })));
    html! {
        (errors.summary(&RULE_LABELS))
        form method="post" action=(action) novalidate {
            (csrf_field(csrf))
            (text_field("name", "Rule name", form.get("name"), Input::Text, true, disabled, errors))
            (checkboxes(GRANTS, "Grant types", "The flows this rule lets a client use.", &grants, form, disabled, errors))
            (group_error("conditions.people", errors))
            (checkboxes(GROUPS, "People", "Who the token may be for: everyone, or members of the chosen groups. Client credentials tokens are for no person and match any choice.", &people, form, disabled, errors))
            @if !users.is_empty() {
                (checkboxes(USERS, "People named one by one", "Set through the API; uncheck to remove.", &users, form, disabled, errors))
            }
            (checkboxes(SCOPES, "Scopes", "The scopes a client may be granted under this rule: any, or the chosen ones.", &scopes, form, disabled, errors))
            fieldset {
                legend { "Tokens" }
                (text_field(ACCESS, "Access token lifetime (minutes)", form.get(ACCESS), Input::Hinted("From 5 to 1440."), true, disabled, errors))
                (text_field(REFRESH, "Refresh token lifetime (minutes)", form.get(REFRESH), Input::Hinted("0 for no limit; otherwise at least the access token lifetime."), true, disabled, errors))
                (text_field(WINDOW, "Refresh token expires if unused for (minutes)", form.get(WINDOW), Input::Hinted("From 10 to 2628000 (five years)."), true, disabled, errors))
            }
            (text_field("priority", "Priority", form.get("priority"), Input::Hinted("1 is evaluated first; empty puts a new rule last."), false, disabled, errors))
            @if !disabled {
                div class="actions" { button type="submit" { (submit) } }
            }
        }
    }
}

/// How a rule reads in a table.
fn rule_summary(r: &Value, groups: &[Group]) -> (String, String, String) {
    let grants = includes(r, &["grantTypes"]).join(", ");
    let mut people: Vec<String> = includes(r, &["people", "groups"])
        .into_iter()
        .map(|g| if g == EVERYONE { "Everyone".to_owned() } else { groups.iter().find(|x| x.id == g).map(|x| x.name.clone()).unwrap_or(g) })
        .collect();
    people.extend(includes(r, &["people", "users"]));
    let scopes: Vec<String> = includes(r, &["scopes"]).into_iter().map(|s| if s == ANY_SCOPE { "Any scope".to_owned() } else { s }).collect();
    (grants, people.join(", "), scopes.join(", "))
}

/// The Access Policies tab of a server's page.
pub(super) async fn tab(state: &AppState, admin: &Admin, view: &View, s: &LoadedServer, form: Option<&Fields>, errors: &FieldErrors) -> Result<Markup, ApiError> {
    let principal = admin.principal();
    let can = admin.can_configure();
    let id = &s.record.id;
    let list = policies::list_policies(state, &principal, id).await?;
    let apps = oidc_apps(state).await;
    let groups = groups(state).await;
    let mut sections = Vec::new();
    for p in list.as_array().into_iter().flatten() {
        let rules = policies::list_rules(state, &principal, id, text(p, "id")).await?;
        sections.push((p.clone(), rules.as_array().cloned().unwrap_or_default()));
    }
    let client_label = |c: &str| -> String {
        if c == ALL_CLIENTS { "All clients".into() } else { apps.iter().find(|a| a.id == c).map(|a| a.label.clone()).unwrap_or_else(|| c.to_owned()) }
    };
    let blank = Fields(vec![(CLIENTS.to_owned(), ALL_CLIENTS.to_owned())]);
    Ok(html! {
        h2 { "Access Policies" }
        p {
            "A token request is decided by the first active policy (by priority) that covers the client, then by the first of its active rules that matches the grant type, person and scopes. "
            "A request no rule matches is refused: a new server issues no tokens until it has a policy with a rule."
        }
        @if sections.is_empty() {
            p class="empty" { "No policies: this server refuses every token request." }
        }
        @for (p, rules) in &sections {
            @let pid = text(p, "id");
            section aria-labelledby=(format!("policy-{pid}")) {
                h3 id=(format!("policy-{pid}")) {
                    a href=(policy_url(id, pid)) { (text(p, "name")) }
                    " " (status_badge(text(p, "status")))
                }
                @if !text(p, "description").is_empty() { p class="muted" { (text(p, "description")) } }
                p { "Priority " (p.get("priority").map(Value::to_string).unwrap_or_default()) ". Assigned to: " (includes(p, &["clients"]).iter().map(|c| client_label(c)).collect::<Vec<_>>().join(", ")) "." }
                @if rules.is_empty() {
                    p class="empty" { "No rules: this policy allows nothing yet." }
                } @else {
                    table {
                        caption { "Rules of " (text(p, "name")) }
                        thead { tr { th scope="col" { "Priority" } th scope="col" { "Rule" } th scope="col" { "Grant types" } th scope="col" { "People" } th scope="col" { "Scopes" } th scope="col" { "Access token" } th scope="col" { "Status" } } }
                        tbody {
                            @for r in rules {
                                @let (grants, people, scopes) = rule_summary(r, &groups);
                                tr {
                                    td { (r.get("priority").map(Value::to_string).unwrap_or_default()) }
                                    th scope="row" { a href=(rule_url(id, pid, text(r, "id"))) { (text(r, "name")) } }
                                    td { (grants) }
                                    td { (people) }
                                    td { (scopes) }
                                    td { (r.get("actions").and_then(|a| a.get("token")).and_then(|t| t.get("accessTokenLifetimeMinutes")).map(Value::to_string).unwrap_or_default()) " minutes" }
                                    td { (status_badge(text(r, "status"))) }
                                }
                            }
                        }
                    }
                }
                p { a href=(policy_url(id, pid)) { @if can { "Edit policy and rules of " } @else { "Policy and rules of " } (text(p, "name")) } }
            }
        }
        @if can {
            section aria-labelledby="add-policy" {
                h3 id="add-policy" { "Add policy" }
                (policy_form(&format!("{BASE}/{id}/policies"), "Add policy", form.unwrap_or(&blank), &apps, errors, &view.csrf, false))
            }
        }
    })
}

struct PolicyPage<'a> {
    policy: &'a Value,
    rules: &'a [Value],
    policy_form: Option<&'a Fields>,
    policy_errors: FieldErrors,
    done: &'a str,
}

async fn render_policy(state: &AppState, admin: &Admin, view: &View, s: &LoadedServer, page: PolicyPage<'_>) -> Markup {
    let can = admin.can_configure();
    let id = &s.record.id;
    let pid = text(page.policy, "id");
    let apps = oidc_apps(state).await;
    let groups = groups(state).await;
    let stored = policy_fields_of(page.policy);
    let active = text(page.policy, "status") == "ACTIVE";
    let body = html! {
        p class="crumbs" {
            a href=(BASE) { "Authorization Servers" } " › " a href=(server_url(id, Tab::Policies)) { (s.record.name) } " › " (text(page.policy, "name"))
        }
        div class="entry-head" { h1 { "Policy " (text(page.policy, "name")) } (status_badge(text(page.policy, "status"))) }
        @if !page.done.is_empty() { p class="notice" role="status" { (match page.done { "added" => "Rule added.", "deleted" => "Rule deleted.", _ => "Saved." }) } }
        (policy_form(&policy_url(id, pid), "Save policy", page.policy_form.unwrap_or(&stored), &apps, &page.policy_errors, &view.csrf, !can))
        @if can {
            p {
                form method="post" action=(format!("{}/lifecycle/{}", policy_url(id, pid), if active { "deactivate" } else { "activate" })) class="inline" {
                    (csrf_field(&view.csrf))
                    button type="submit" class="small" { @if active { "Deactivate policy" } @else { "Activate policy" } }
                }
                " "
                form method="post" action=(format!("{}/delete", policy_url(id, pid))) class="inline" {
                    (csrf_field(&view.csrf))
                    button type="submit" class="small" aria-label=(format!("Delete policy {} and its rules", text(page.policy, "name"))) { "Delete policy" }
                }
            }
        }
        section aria-labelledby="rules" {
            h2 id="rules" { "Rules" }
            @if page.rules.is_empty() {
                p class="empty" { "No rules: this policy allows nothing yet." }
            } @else {
                table {
                    caption { "Rules of " (text(page.policy, "name")) }
                    thead { tr { th scope="col" { "Priority" } th scope="col" { "Rule" } th scope="col" { "Grant types" } th scope="col" { "People" } th scope="col" { "Scopes" } th scope="col" { "Status" } } }
                    tbody {
                        @for r in page.rules {
                            @let (grants, people, scopes) = rule_summary(r, &groups);
                            tr {
                                td { (r.get("priority").map(Value::to_string).unwrap_or_default()) }
                                th scope="row" { a href=(rule_url(id, pid, text(r, "id"))) { (text(r, "name")) } }
                                td { (grants) }
                                td { (people) }
                                td { (scopes) }
                                td { (status_badge(text(r, "status"))) }
                            }
                        }
                    }
                }
            }
            @if can {
                p class="actions" { a class="button" href=(format!("{}/rules/new", policy_url(id, pid))) { "Add rule" } }
            }
        }
    };
    shell(state, admin, &view.csrf, &format!("Policy {}", text(page.policy, "name")), Section::AuthorizationServers, body)
}

/// A rule's page, or (without `rule`) the page that adds one to `policy`.
async fn render_rule(state: &AppState, admin: &Admin, view: &View, s: &LoadedServer, policy: &Value, rule: Option<&Value>, form: Option<&Fields>, errors: &FieldErrors) -> Markup {
    let can = admin.can_configure();
    let id = &s.record.id;
    let pid = text(policy, "id");
    let groups = groups(state).await;
    let Some(rule) = rule else {
        let defaults = new_rule_defaults();
        let body = html! {
            p class="crumbs" {
                a href=(BASE) { "Authorization Servers" } " › " a href=(server_url(id, Tab::Policies)) { (s.record.name) }
                " › " a href=(policy_url(id, pid)) { (text(policy, "name")) } " › Add rule"
            }
            h1 { "Add rule to " (text(policy, "name")) }
            (rule_form(s, &format!("{}/rules", policy_url(id, pid)), "Add rule", form.unwrap_or(&defaults), &groups, errors, &view.csrf, false))
        };
        return shell(state, admin, &view.csrf, "Add rule", Section::AuthorizationServers, body);
    };
    let rid = text(rule, "id");
    let stored = rule_fields_of(rule);
    let active = text(rule, "status") == "ACTIVE";
    let body = html! {
        p class="crumbs" {
            a href=(BASE) { "Authorization Servers" } " › " a href=(server_url(id, Tab::Policies)) { (s.record.name) }
            " › " a href=(policy_url(id, pid)) { (text(policy, "name")) } " › " (text(rule, "name"))
        }
        div class="entry-head" { h1 { "Rule " (text(rule, "name")) } (status_badge(text(rule, "status"))) }
        (rule_form(s, &rule_url(id, pid, rid), "Save rule", form.unwrap_or(&stored), &groups, errors, &view.csrf, !can))
        @if can {
            p {
                form method="post" action=(format!("{}/lifecycle/{}", rule_url(id, pid, rid), if active { "deactivate" } else { "activate" })) class="inline" {
                    (csrf_field(&view.csrf))
                    button type="submit" class="small" { @if active { "Deactivate rule" } @else { "Activate rule" } }
                }
                " "
                form method="post" action=(format!("{}/delete", rule_url(id, pid, rid))) class="inline" {
                    (csrf_field(&view.csrf))
                    button type="submit" class="small" aria-label=(format!("Delete rule {}", text(rule, "name"))) { "Delete rule" }
                }
            }
        }
    };
    shell(state, admin, &view.csrf, &format!("Rule {}", text(rule, "name")), Section::AuthorizationServers, body)
}

fn refusal_status(e: &ApiError) -> StatusCode {
    if e.status.is_server_error() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST }
}

/// Whether an error is one no form field explains (a missing object, a refusal by role).
fn not_a_form_error(e: &ApiError) -> bool {
    e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN
}

async fn server_for_page(state: &AppState, admin: &Admin, id: &str) -> Result<Arc<LoadedServer>, Response> {
    management::read_server(state, &admin.principal(), id).await.map_err(|e| api_error_page(state, &e))
}

async fn guarded(state: &AppState, headers: &HeaderMap, id: &str, form: &Fields) -> Result<(Admin, Arc<LoadedServer>), Response> {
    let admin = configurer(state, headers, &server_url(id, Tab::Policies), form.get("csrf")).await?;
    let s = server_for_page(state, &admin, id).await?;
    Ok((admin, s))
}

/// A change posted from a policy page: the form, the administrator who may
/// configure servers (CSRF checked), the server, and who sent it.
struct Posted {
    form: Fields,
    admin: Admin,
    server: Arc<LoadedServer>,
    client: crate::syslog::ClientInfo,
}

async fn posted(state: &AppState, headers: &HeaderMap, peer: SocketAddr, id: &str, form: FormFields) -> Result<Posted, Response> {
    let form = fields(form);
    let (admin, server) = guarded(state, headers, id, &form).await?;
    Ok(Posted { form, admin, server, client: crate::auth::client_info(headers, Some(peer)) })
}

/// `activate` or `deactivate` in a lifecycle URL.
fn lifecycle_active(op: &str) -> Option<bool> {
    match op {
        "activate" => Some(true),
        "deactivate" => Some(false),
        _ => None,
    }
}

async fn policy_and_rule(state: &AppState, principal: &crate::auth::Principal, id: &str, pid: &str, rid: &str) -> Result<(Value, Value), ApiError> {
    Ok((policies::get_policy(state, principal, id, pid).await?, policies::get_rule(state, principal, id, pid, rid).await?))
}

async fn policy_and_rules(state: &AppState, admin: &Admin, id: &str, pid: &str) -> Result<(Value, Vec<Value>), ApiError> {
    let principal = admin.principal();
    let policy = policies::get_policy(state, &principal, id, pid).await?;
    let rules = policies::list_rules(state, &principal, id, pid).await?.as_array().cloned().unwrap_or_default();
    Ok((policy, rules))
}

/// POST …/{id}/policies: a new policy, from the tab.
pub async fn create_policy(State(state): State<AppState>, headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>, Path(id): Path<String>, form: FormFields) -> Response {
    let Posted { form, admin, server: s, client } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match policies::create_policy(&state, &admin.principal(), &client, &s.record.id, &policy_body(&form)).await {
        Ok(p) => see_other(&format!("{}?done=saved", policy_url(&s.record.id, text(&p, "id")))),
        Err(e) if not_a_form_error(&e) => api_error_page(&state, &e),
        Err(e) => {
            let view = View::new(&state, &headers);
            let outcome = super::server::Outcome { errors: FieldErrors::from_api(&e), form: Some(&form) };
            match super::server::render(&state, &admin, &view, &s, Tab::Policies, "", &outcome).await {
                Ok(markup) => view.respond(refusal_status(&e), markup),
                Err(e) => api_error_page(&state, &e),
            }
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub async fn show_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, pid)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
) -> Response {
    let admin = match admin(&state, &headers, &policy_url(&id, &pid)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let s = match server_for_page(&state, &admin, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (policy, rules) = match policy_and_rules(&state, &admin, &id, &pid).await {
        Ok(found) => found,
        Err(e) => return api_error_page(&state, &e),
    };
    let view = View::new(&state, &headers);
    let page = PolicyPage { policy: &policy, rules: &rules, policy_form: None, policy_errors: FieldErrors::default(), done: &query.done };
    view.respond(StatusCode::OK, render_policy(&state, &admin, &view, &s, page).await)
}

/// The policy's page again after a refusal of its form (`rule` false), or
/// the add-rule page after a refusal of a new rule.
async fn policy_refused(state: &AppState, headers: &HeaderMap, admin: &Admin, s: &LoadedServer, pid: &str, error: &ApiError, form: &Fields, rule: bool) -> Response {
    if not_a_form_error(error) {
        return api_error_page(state, error);
    }
    let (policy, rules) = match policy_and_rules(state, admin, &s.record.id, pid).await {
        Ok(found) => found,
        Err(e) => return api_error_page(state, &e),
    };
    let view = View::new(state, headers);
    let errors = FieldErrors::from_api(error);
    let markup = if rule {
        render_rule(state, admin, &view, s, &policy, None, Some(form), &errors).await
    } else {
        let page = PolicyPage { policy: &policy, rules: &rules, policy_form: Some(form), policy_errors: errors, done: "" };
        render_policy(state, admin, &view, s, page).await
    };
    view.respond(refusal_status(error), markup)
}

/// GET …/rules/new: the page that adds a rule.
pub async fn new_rule(State(state): State<AppState>, headers: HeaderMap, Path((id, pid)): Path<(String, String)>) -> Response {
    let admin = match admin(&state, &headers, &format!("{}/rules/new", policy_url(&id, &pid))).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !admin.can_configure() {
        return crate::web::error_page(&state, StatusCode::FORBIDDEN, "Not allowed", "Changing authorization servers needs the Super Administrator role.");
    }
    let s = match server_for_page(&state, &admin, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let policy = match policies::get_policy(&state, &admin.principal(), &id, &pid).await {
        Ok(p) => p,
        Err(e) => return api_error_page(&state, &e),
    };
    let view = View::new(&state, &headers);
    view.respond(StatusCode::OK, render_rule(&state, &admin, &view, &s, &policy, None, None, &FieldErrors::default()).await)
}

pub async fn save_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let Posted { form, admin, server: s, client } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match policies::replace_policy(&state, &admin.principal(), &client, &s.record.id, &pid, &policy_body(&form)).await {
        Ok(_) => see_other(&format!("{}?done=saved", policy_url(&s.record.id, &pid))),
        Err(e) => policy_refused(&state, &headers, &admin, &s, &pid, &e, &form, false).await,
    }
}

pub async fn policy_lifecycle(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid, op)): Path<(String, String, String)>,
    form: FormFields,
) -> Response {
    let Posted { admin, server: s, client, .. } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(active) = lifecycle_active(&op) else { return api_error_page(&state, &ApiError::not_found("Lifecycle", &op)) };
    match policies::set_policy_status(&state, &admin.principal(), &client, &s.record.id, &pid, active).await {
        Ok(()) => see_other(&format!("{}?done=saved", policy_url(&s.record.id, &pid))),
        Err(e) => api_error_page(&state, &e),
    }
}

pub async fn delete_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let Posted { admin, server: s, client, .. } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match policies::delete_policy(&state, &admin.principal(), &client, &s.record.id, &pid).await {
        Ok(()) => see_other(&format!("{}&done=deleted", server_url(&s.record.id, Tab::Policies))),
        Err(e) => api_error_page(&state, &e),
    }
}

pub async fn create_rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid)): Path<(String, String)>,
    form: FormFields,
) -> Response {
    let Posted { form, admin, server: s, client } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match policies::create_rule(&state, &admin.principal(), &client, &s.record.id, &pid, &rule_body(&form)).await {
        Ok(_) => see_other(&format!("{}?done=added", policy_url(&s.record.id, &pid))),
        Err(e) => policy_refused(&state, &headers, &admin, &s, &pid, &e, &form, true).await,
    }
}

pub async fn show_rule(State(state): State<AppState>, headers: HeaderMap, Path((id, pid, rid)): Path<(String, String, String)>) -> Response {
    let admin = match admin(&state, &headers, &rule_url(&id, &pid, &rid)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let s = match server_for_page(&state, &admin, &id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let principal = admin.principal();
    let found = policy_and_rule(&state, &principal, &id, &pid, &rid);
    let (policy, rule) = match found.await {
        Ok(found) => found,
        Err(e) => return api_error_page(&state, &e),
    };
    let view = View::new(&state, &headers);
    view.respond(StatusCode::OK, render_rule(&state, &admin, &view, &s, &policy, Some(&rule), None, &FieldErrors::default()).await)
}

pub async fn save_rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid, rid)): Path<(String, String, String)>,
    form: FormFields,
) -> Response {
    let Posted { form, admin, server: s, client } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let principal = admin.principal();
    match policies::replace_rule(&state, &principal, &client, &s.record.id, &pid, &rid, &rule_body(&form)).await {
        Ok(_) => see_other(&format!("{}?done=saved", policy_url(&s.record.id, &pid))),
        Err(e) if not_a_form_error(&e) => api_error_page(&state, &e),
        Err(e) => {
            let found = policy_and_rule(&state, &principal, &id, &pid, &rid);
            let (policy, rule) = match found.await {
                Ok(found) => found,
                Err(e) => return api_error_page(&state, &e),
            };
            let view = View::new(&state, &headers);
            view.respond(refusal_status(&e), render_rule(&state, &admin, &view, &s, &policy, Some(&rule), Some(&form), &FieldErrors::from_api(&e)).await)
        }
    }
}

pub async fn rule_lifecycle(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid, rid, op)): Path<(String, String, String, String)>,
    form: FormFields,
) -> Response {
    let Posted { admin, server: s, client, .. } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(active) = lifecycle_active(&op) else { return api_error_page(&state, &ApiError::not_found("Lifecycle", &op)) };
    match policies::set_rule_status(&state, &admin.principal(), &client, &s.record.id, &pid, &rid, active).await {
        Ok(()) => see_other(&format!("{}?done=saved", policy_url(&s.record.id, &pid))),
        Err(e) => api_error_page(&state, &e),
    }
}

pub async fn delete_rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, pid, rid)): Path<(String, String, String)>,
    form: FormFields,
) -> Response {
    let Posted { admin, server: s, client, .. } = match posted(&state, &headers, peer, &id, form).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match policies::delete_rule(&state, &admin.principal(), &client, &s.record.id, &pid, &rid).await {
        Ok(()) => see_other(&format!("{}?done=deleted", policy_url(&s.record.id, &pid))),
        Err(e) => api_error_page(&state, &e),
    }
}
