//! The launch path's caches and the assignment service that keeps them true.
//!
//! A launch reads only these caches once warm: the app (by id) and the
//! person's assignments (by user id). Every write below changes the store
//! first and then invalidates exactly the entries it changed, through
//! `AppState::invalidate`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{AppInstance, UpdateOn};
use crate::directory::User;
use crate::state::{AppState, Invalidation};
use crate::store::{GroupAssignment, StoreError, UserAssignment};

/// What a launch needs to know of one assignment.
#[derive(Debug, Clone)]
pub struct AssignedApp {
    pub app_id: Box<str>,
    pub username: Option<Box<str>>,
    pub direct: bool,
    pub sort_order: i64,
}

/// A person's assignments, in dashboard order.
pub type AssignedApps = Arc<[AssignedApp]>;

/// A person's groups, through the cache; kept true by
/// [`membership_changed`] and by group renames and deletions.
pub async fn groups_of_user(state: &AppState, user_id: &str) -> Result<Arc<[crate::directory::Group]>, StoreError> {
    if let Some(found) = state.caches.user_groups.get(user_id).await {
        state.metrics.cache_lookup("user_groups", true);
        return Ok(found);
    }
    state.metrics.cache_lookup("user_groups", false);
    let groups: Arc<[crate::directory::Group]> = state.store.groups_of_user(user_id).await?.into();
    state.caches.user_groups.insert(user_id.to_owned(), groups.clone()).await;
    Ok(groups)
}

/// The app with this id, through the cache.
pub async fn app(state: &AppState, id: &str) -> Result<Option<Arc<AppInstance>>, StoreError> {
    if let Some(found) = state.caches.apps.get(id).await {
        state.metrics.cache_lookup("apps", true);
        return Ok(Some(found));
    }
    state.metrics.cache_lookup("apps", false);
    let Some(app) = state.store.app(id).await? else { return Ok(None) };
    let app = Arc::new(app);
    state.caches.apps.insert(id.to_owned(), app.clone()).await;
    Ok(Some(app))
}

/// A person's assignments, through the cache.
pub async fn assigned_apps(state: &AppState, user_id: &str) -> Result<AssignedApps, StoreError> {
    if let Some(found) = state.caches.assignments.get(user_id).await {
        state.metrics.cache_lookup("assignments", true);
        return Ok(found);
    }
    state.metrics.cache_lookup("assignments", false);
    let rows = state.store.assignments_of_user(user_id).await?;
    let apps: AssignedApps = rows
        .into_iter()
        .map(|a| AssignedApp {
            app_id: a.app_id.into_boxed_str(),
            username: a.username.map(String::into_boxed_str),
            direct: a.scope == "USER",
            sort_order: a.sort_order,
        })
        .collect();
    state.caches.assignments.insert(user_id.to_owned(), apps.clone()).await;
    Ok(apps)
}

/// The app and assignment for a launch: `None` unless the person is assigned
/// an active app with this id.
pub async fn launchable(state: &AppState, user_id: &str, app_id: &str) -> Result<Option<(Arc<AppInstance>, AssignedApp)>, StoreError> {
    let assigned = assigned_apps(state, user_id).await?;
    let Some(assignment) = assigned.iter().find(|a| &*a.app_id == app_id) else { return Ok(None) };
    let Some(app) = app(state, app_id).await? else { return Ok(None) };
    if app.status != super::AppStatus::Active {
        return Ok(None);
    }
    Ok(Some((app, assignment.clone())))
}

fn username_for(app: &AppInstance, user: &User) -> Option<String> {
    app.username_template().and_then(|t| t.render(&user.profile))
}

/// Assigns a person directly. An explicit `username` overrides the format.
pub async fn assign_user(
    state: &AppState,
    app: &AppInstance,
    user: &User,
    username: Option<String>,
    profile: Map<String, Value>,
) -> Result<UserAssignment, StoreError> {
    let now = state.now();
    let existing = state.store.user_assignment(&app.id, &user.id).await?;
    let assignment = UserAssignment {
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        scope: "USER".into(),
        username: username.or_else(|| existing.as_ref().and_then(|e| e.username.clone())).or_else(|| username_for(app, user)),
        profile,
        sort_order: existing.as_ref().map(|e| e.sort_order).unwrap_or(i64::MAX / 2),
        created: existing.as_ref().map(|e| e.created).unwrap_or(now),
        last_updated: now,
    };
    state.store.put_user_assignment(&assignment).await?;
    state.invalidate(Invalidation::Assignments { user_id: user.id.clone() }).await;
    Ok(assignment)
}

/// Removes a direct assignment. If a group still grants the app, the person
/// keeps it through that group (scope GROUP, the group's profile).
pub async fn unassign_user(state: &AppState, app_id: &str, user_id: &str) -> Result<bool, StoreError> {
    let Some(existing) = state.store.user_assignment(app_id, user_id).await? else { return Ok(false) };
    let grants = state.store.granting_groups(app_id, user_id).await?;
    match grants.first() {
        Some(top) => {
            let mut kept = existing;
            kept.scope = "GROUP".into();
            kept.profile = top.profile.clone();
            kept.last_updated = state.now();
            state.store.put_user_assignment(&kept).await?;
        }
        None => {
            state.store.delete_user_assignment(app_id, user_id).await?;
        }
    }
    state.invalidate(Invalidation::Assignments { user_id: user_id.to_owned() }).await;
    Ok(true)
}

/// Brings one person's row for one app in line with the group grants:
/// adds it when a group grants the app, drops it when none does (direct
/// assignments are left alone), and takes the top group's profile.
async fn reconcile(state: &AppState, app: &AppInstance, user_id: &str) -> Result<(), StoreError> {
    let existing = state.store.user_assignment(&app.id, user_id).await?;
    if existing.as_ref().is_some_and(|e| e.scope == "USER") {
        return Ok(());
    }
    let grants = state.store.granting_groups(&app.id, user_id).await?;
    match (grants.first(), existing) {
        (None, Some(_)) => {
            state.store.delete_user_assignment(&app.id, user_id).await?;
        }
        (None, None) => return Ok(()),
        (Some(top), existing) => {
            let now = state.now();
            let username = match &existing {
                Some(e) => e.username.clone(),
                None => match state.store.user(user_id).await? {
                    Some(record) => username_for(app, &record.user),
                    None => return Ok(()),
                },
            };
            let row = UserAssignment {
                app_id: app.id.clone(),
                user_id: user_id.to_owned(),
                scope: "GROUP".into(),
                username,
                profile: top.profile.clone(),
                sort_order: existing.as_ref().map(|e| e.sort_order).unwrap_or(i64::MAX / 2),
                created: existing.as_ref().map(|e| e.created).unwrap_or(now),
                last_updated: now,
            };
            state.store.put_user_assignment(&row).await?;
        }
    }
    state.invalidate(Invalidation::Assignments { user_id: user_id.to_owned() }).await;
    Ok(())
}

/// Assigns a group (or updates its priority and profile), then every member.
pub async fn assign_group(state: &AppState, app: &AppInstance, group_id: &str, priority: i64, profile: Map<String, Value>) -> Result<GroupAssignment, StoreError> {
    let now = state.now();
    let existing = state.store.group_assignment(&app.id, group_id).await?;
    let grant = GroupAssignment {
        app_id: app.id.clone(),
        group_id: group_id.to_owned(),
        priority,
        profile,
        created: existing.map(|e| e.created).unwrap_or(now),
        last_updated: now,
    };
    state.store.put_group_assignment(&grant).await?;
    for user_id in state.store.member_ids(group_id).await? {
        reconcile(state, app, &user_id).await?;
    }
    Ok(grant)
}

pub async fn unassign_group(state: &AppState, app: &AppInstance, group_id: &str) -> Result<bool, StoreError> {
    if !state.store.delete_group_assignment(&app.id, group_id).await? {
        return Ok(false);
    }
    for user_id in state.store.member_ids(group_id).await? {
        reconcile(state, app, &user_id).await?;
    }
    Ok(true)
}

/// After a person joins or leaves a group: the apps that group grants.
pub async fn membership_changed(state: &AppState, group_id: &str, user_id: &str) -> Result<(), StoreError> {
    state.invalidate(Invalidation::Memberships { user_id: user_id.to_owned() }).await;
    for grant in state.store.group_assignments_of_group(group_id).await? {
        if let Some(app) = state.store.app(&grant.app_id).await? {
            reconcile(state, &app, user_id).await?;
        }
    }
    Ok(())
}

/// Before a group is deleted: its members lose what only it granted.
pub async fn group_deleting(state: &AppState, group_id: &str) -> Result<Vec<String>, StoreError> {
    let grants = state.store.group_assignments_of_group(group_id).await?;
    let members = state.store.member_ids(group_id).await?;
    for grant in &grants {
        state.store.delete_group_assignment(&grant.app_id, group_id).await?;
    }
    for grant in &grants {
        if let Some(app) = state.store.app(&grant.app_id).await? {
            for user_id in &members {
                reconcile(state, &app, user_id).await?;
            }
        }
    }
    Ok(members)
}

/// After a profile change: usernames of apps set to "create and update" follow it.
pub async fn profile_changed(state: &AppState, user: &User) -> Result<(), StoreError> {
    let mut changed = false;
    for mut row in state.store.assignments_of_user(&user.id).await? {
        let Some(app) = app(state, &row.app_id).await? else { continue };
        if app.update_on() != UpdateOn::CreateAndUpdate {
            continue;
        }
        let fresh = username_for(&app, user);
        if fresh != row.username {
            row.username = fresh;
            row.last_updated = state.now();
            state.store.put_user_assignment(&row).await?;
            changed = true;
        }
    }
    if changed {
        state.invalidate(Invalidation::Assignments { user_id: user.id.clone() }).await;
    }
    Ok(())
}

/// After an app's username format changed: recompute for apps that follow updates.
pub async fn username_format_changed(state: &AppState, app: &AppInstance) -> Result<(), StoreError> {
    if app.update_on() != UpdateOn::CreateAndUpdate {
        return Ok(());
    }
    for user_id in state.store.assigned_user_ids(&app.id).await? {
        let (Some(mut row), Some(record)) = (state.store.user_assignment(&app.id, &user_id).await?, state.store.user(&user_id).await?) else {
            continue;
        };
        let fresh = username_for(app, &record.user);
        if fresh != row.username {
            row.username = fresh;
            row.last_updated = state.now();
            state.store.put_user_assignment(&row).await?;
            state.invalidate(Invalidation::Assignments { user_id }).await;
        }
    }
    Ok(())
}
