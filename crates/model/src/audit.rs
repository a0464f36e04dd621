//! The events the audit log records (docs/architecture.md#audit-log): their
//! stored names and the words the Audit Log page shows.

use serde::{Deserialize, Serialize};

/// Everything the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditEvent {
    LoginSucceeded,
    LoginFailed,
    Logout,
    ClientAuthenticationFailed,
    TokenIssued,
    TokenRevoked,
    TokenReuseDetected,
    ConsentGranted,
    ConsentRevoked,
    ApplicationCreated,
    ApplicationUpdated,
    ApplicationDeleted,
    UserCreated,
    UserUpdated,
    UserDeleted,
    CustomerUserCreated,
    CustomerUserUpdated,
    CustomerUserDeleted,
    KeyGenerated,
    KeyRotated,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    OrganizationCreated,
    SettingsUpdated,
}

impl AuditEvent {
    pub const ALL: [AuditEvent; 25] = [
        AuditEvent::LoginSucceeded,
        AuditEvent::LoginFailed,
        AuditEvent::Logout,
        AuditEvent::ClientAuthenticationFailed,
        AuditEvent::TokenIssued,
        AuditEvent::TokenRevoked,
        AuditEvent::TokenReuseDetected,
        AuditEvent::ConsentGranted,
        AuditEvent::ConsentRevoked,
        AuditEvent::ApplicationCreated,
        AuditEvent::ApplicationUpdated,
        AuditEvent::ApplicationDeleted,
        AuditEvent::UserCreated,
        AuditEvent::UserUpdated,
        AuditEvent::UserDeleted,
        AuditEvent::CustomerUserCreated,
        AuditEvent::CustomerUserUpdated,
        AuditEvent::CustomerUserDeleted,
        AuditEvent::KeyGenerated,
        AuditEvent::KeyRotated,
        AuditEvent::RoleCreated,
        AuditEvent::RoleUpdated,
        AuditEvent::RoleDeleted,
        AuditEvent::OrganizationCreated,
        AuditEvent::SettingsUpdated,
    ];

    /// The name stored in the database and shown in the grid.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::LoginSucceeded => "login.succeeded",
            AuditEvent::LoginFailed => "login.failed",
            AuditEvent::Logout => "login.logout",
            AuditEvent::ClientAuthenticationFailed => "client.authentication_failed",
            AuditEvent::TokenIssued => "token.issued",
            AuditEvent::TokenRevoked => "token.revoked",
            AuditEvent::TokenReuseDetected => "token.reuse_detected",
            AuditEvent::ConsentGranted => "consent.granted",
            AuditEvent::ConsentRevoked => "consent.revoked",
            AuditEvent::ApplicationCreated => "application.created",
            AuditEvent::ApplicationUpdated => "application.updated",
            AuditEvent::ApplicationDeleted => "application.deleted",
            AuditEvent::UserCreated => "user.created",
            AuditEvent::UserUpdated => "user.updated",
            AuditEvent::UserDeleted => "user.deleted",
            AuditEvent::CustomerUserCreated => "customer_user.created",
            AuditEvent::CustomerUserUpdated => "customer_user.updated",
            AuditEvent::CustomerUserDeleted => "customer_user.deleted",
            AuditEvent::KeyGenerated => "key.generated",
            AuditEvent::KeyRotated => "key.rotated",
            AuditEvent::RoleCreated => "role.created",
            AuditEvent::RoleUpdated => "role.updated",
            AuditEvent::RoleDeleted => "role.deleted",
            AuditEvent::OrganizationCreated => "organization.created",
            AuditEvent::SettingsUpdated => "settings.updated",
        }
    }

    /// The event stored as `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// What a person reads in the type filter.
    pub fn label(self) -> &'static str {
        match self {
            AuditEvent::LoginSucceeded => "Sign-in succeeded",
            AuditEvent::LoginFailed => "Sign-in failed",
            AuditEvent::Logout => "Signed out",
            AuditEvent::ClientAuthenticationFailed => "Client authentication failed",
            AuditEvent::TokenIssued => "Token issued",
            AuditEvent::TokenRevoked => "Token revoked",
            AuditEvent::TokenReuseDetected => "Token reuse detected",
            AuditEvent::ConsentGranted => "Consent granted",
            AuditEvent::ConsentRevoked => "Consent revoked",
            AuditEvent::ApplicationCreated => "Application created",
            AuditEvent::ApplicationUpdated => "Application updated",
            AuditEvent::ApplicationDeleted => "Application deleted",
            AuditEvent::UserCreated => "User created",
            AuditEvent::UserUpdated => "User updated",
            AuditEvent::UserDeleted => "User deleted",
            AuditEvent::CustomerUserCreated => "Customer user created",
            AuditEvent::CustomerUserUpdated => "Customer user updated",
            AuditEvent::CustomerUserDeleted => "Customer user deleted",
            AuditEvent::KeyGenerated => "Signing key generated",
            AuditEvent::KeyRotated => "Signing key rotated",
            AuditEvent::RoleCreated => "Role created",
            AuditEvent::RoleUpdated => "Role updated",
            AuditEvent::RoleDeleted => "Role deleted",
            AuditEvent::OrganizationCreated => "Organization created",
            AuditEvent::SettingsUpdated => "Settings updated",
        }
    }
}
