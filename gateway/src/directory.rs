//! The directory's domain: people, their lifecycle, groups and admin roles.
//! These types know nothing of SQL or HTTP; the store and the API map them.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// A person's lifecycle status, as Okta names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    pub const ALL: [UserStatus; 8] = [
        Self::Staged,
        Self::Provisioned,
        Self::Active,
        Self::Recovery,
        Self::PasswordExpired,
        Self::LockedOut,
        Self::Suspended,
        Self::Deprovisioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staged => "STAGED",
            Self::Provisioned => "PROVISIONED",
            Self::Active => "ACTIVE",
            Self::Recovery => "RECOVERY",
            Self::PasswordExpired => "PASSWORD_EXPIRED",
            Self::LockedOut => "LOCKED_OUT",
            Self::Suspended => "SUSPENDED",
            Self::Deprovisioned => "DEPROVISIONED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a person in this status may sign in with a password. People in
    /// RECOVERY must finish the reset link first; PASSWORD_EXPIRED is never
    /// set by Vestibule (it has no expiry policy) and is refused if imported.
    pub fn may_sign_in(self) -> bool {
        matches!(self, Self::Active)
    }
}

/// A lifecycle operation from `/api/v1/users/{id}/lifecycle/{op}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Activate,
    Reactivate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
    ResetPassword,
}

impl Lifecycle {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "activate" => Self::Activate,
            "reactivate" => Self::Reactivate,
            "deactivate" => Self::Deactivate,
            "suspend" => Self::Suspend,
            "unsuspend" => Self::Unsuspend,
            "unlock" => Self::Unlock,
            "reset_password" => Self::ResetPassword,
            _ => return None,
        })
    }

    /// The status after this operation from `from`, or `None` when Okta
    /// refuses the operation in that status. `has_password` decides whether
    /// activation ends in ACTIVE or PROVISIONED (awaiting a password).
    pub fn next(self, from: UserStatus, has_password: bool) -> Option<UserStatus> {
        use UserStatus::*;
        let activated = if has_password { Active } else { Provisioned };
        match (self, from) {
            (Self::Activate, Staged | Deprovisioned) => Some(activated),
            (Self::Reactivate, Provisioned) => Some(Provisioned),
            (Self::Deactivate, Deprovisioned) => None,
            (Self::Deactivate, _) => Some(Deprovisioned),
            (Self::Suspend, Active | PasswordExpired | Recovery | LockedOut) => Some(Suspended),
            (Self::Unsuspend, Suspended) => Some(Active),
            (Self::Unlock, LockedOut) => Some(Active),
            (Self::ResetPassword, Active | PasswordExpired | Recovery | LockedOut | Provisioned) => Some(Recovery),
            _ => None,
        }
    }
}

/// A person in the directory.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    /// Okta's profile: login, email, firstName, lastName and any further attributes.
    pub profile: Map<String, Value>,
    pub created: OffsetDateTime,
    pub activated: Option<OffsetDateTime>,
    pub status_changed: Option<OffsetDateTime>,
    pub last_login: Option<OffsetDateTime>,
    pub last_updated: OffsetDateTime,
    pub password_changed: Option<OffsetDateTime>,
    pub has_password: bool,
}

impl User {
    pub fn login(&self) -> &str {
        self.text("login")
    }

    pub fn text(&self, key: &str) -> &str {
        self.profile.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.text("firstName"), self.text("lastName"));
        let name = name.trim();
        if name.is_empty() { self.login().to_owned() } else { name.to_owned() }
    }
}

/// A group of people.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
    pub last_membership_updated: OffsetDateTime,
}

/// An administrator role. Each API route requires one [`Permission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRole {
    SuperAdmin,
    OrgAdmin,
    AppAdmin,
    ReadOnlyAdmin,
    /// Not assignable: what an API service app's access token may do,
    /// derived from its scopes (read from any okta.*.read or .manage scope;
    /// managing users, groups or apps from that resource's .manage scope).
    ServiceApp { read: bool, users: bool, groups: bool, apps: bool },
}

impl AdminRole {
    pub const ALL: [AdminRole; 4] = [Self::SuperAdmin, Self::OrgAdmin, Self::AppAdmin, Self::ReadOnlyAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuperAdmin => "SUPER_ADMIN",
            Self::OrgAdmin => "ORG_ADMIN",
            Self::AppAdmin => "APP_ADMIN",
            Self::ReadOnlyAdmin => "READ_ONLY_ADMIN",
            Self::ServiceApp { .. } => "API_SERVICE",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SuperAdmin => "Super Administrator",
            Self::OrgAdmin => "Organizational Administrator",
            Self::AppAdmin => "Application Administrator",
            Self::ReadOnlyAdmin => "Read Only Administrator",
            Self::ServiceApp { .. } => "API service integration",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::SuperAdmin => true,
            Self::OrgAdmin => matches!(permission, Read | ManageUsers | ManageGroups),
            Self::AppAdmin => matches!(permission, Read | ManageApps),
            Self::ReadOnlyAdmin => matches!(permission, Read),
            Self::ServiceApp { read, users, groups, apps } => match permission {
                Read => read,
                ManageUsers => users,
                ManageGroups => groups,
                ManageApps => apps,
                ManageOrg => false,
            },
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read anything in the org.
    Read,
    ManageUsers,
    ManageGroups,
    ManageApps,
    /// Roles, API tokens of others, org settings.
    ManageOrg,
}

#[cfg(test)]
mod tests {
    use super::*;
    use UserStatus::*;

    #[test]
    fn lifecycle_table() {
        let cases = [
            (Lifecycle::Activate, Staged, true, Some(Active)),
            (Lifecycle::Activate, Staged, false, Some(Provisioned)),
            (Lifecycle::Activate, Active, true, None),
            (Lifecycle::Deactivate, Active, true, Some(Deprovisioned)),
            (Lifecycle::Deactivate, Deprovisioned, true, None),
            (Lifecycle::Suspend, Active, true, Some(Suspended)),
            (Lifecycle::Suspend, Staged, true, None),
            (Lifecycle::Unsuspend, Suspended, true, Some(Active)),
            (Lifecycle::Unsuspend, Active, true, None),
            (Lifecycle::Unlock, LockedOut, true, Some(Active)),
            (Lifecycle::ResetPassword, Active, true, Some(Recovery)),
            (Lifecycle::ResetPassword, Suspended, true, None),
        ];
        for (op, from, has_password, expected) in cases {
            assert_eq!(op.next(from, has_password), expected, "{op:?} from {from:?}");
        }
    }

    #[test]
    fn roles_grant_what_they_say() {
        assert!(AdminRole::SuperAdmin.grants(Permission::ManageOrg));
        assert!(AdminRole::AppAdmin.grants(Permission::ManageApps));
        assert!(!AdminRole::AppAdmin.grants(Permission::ManageUsers));
        assert!(AdminRole::ReadOnlyAdmin.grants(Permission::Read));
        assert!(!AdminRole::ReadOnlyAdmin.grants(Permission::ManageGroups));
        assert!(!AdminRole::OrgAdmin.grants(Permission::ManageOrg));
    }
}
