//! What a role allows (docs/permissions.md): an access level on back-office OAuth
//! applications for each of view, create, edit and delete, and the
//! administrator flag. Pure and shared: the server decides with it, the pages
//! use it only to hide buttons a person could not use.

use serde::{Deserialize, Serialize};

/// How far one permission reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// Not at all.
    #[default]
    None,
    /// The applications the user owns.
    Own,
    /// Every back-office application of the user's organizations.
    Organization,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::None, Level::Own, Level::Organization];

    /// The stored form (`roles.app_*`); any other number is an error.
    pub fn from_stored(value: i64) -> Result<Level, crate::UnknownValue> {
        match value {
            0 => Ok(Level::None),
            1 => Ok(Level::Own),
            2 => Ok(Level::Organization),
            other => Err(crate::UnknownValue::new("permission level", &other.to_string())),
        }
    }

    pub fn to_db(self) -> i64 {
        match self {
            Level::None => 0,
            Level::Own => 1,
            Level::Organization => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Own => "Own applications",
            Level::Organization => "Organization",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Own => "own",
            Level::Organization => "organization",
        }
    }

    pub fn parse(key: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.key() == key)
    }
}

/// What may be done to an OAuth application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    View,
    Create,
    Edit,
    Delete,
}

/// Which applications a grid shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GridScope {
    /// My User → OAuth Applications: the user's own back-office applications.
    Mine,
    /// System → User Management → OAuth Applications: every back-office
    /// application of the user's organizations.
    BackOffice,
    /// Customers → Storefront OAuth Applications.
    Storefront,
}

/// The permissions of a signed-in back-office user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub administrator: bool,
    pub view: Level,
    pub create: Level,
    pub edit: Level,
    pub delete: Level,
}

impl Permissions {
    /// The level of one action; administrators have every action at
    /// organization level.
    pub fn level(&self, action: Action) -> Level {
        if self.administrator {
            return Level::Organization;
        }
        match action {
            Action::View => self.view,
            Action::Create => self.create,
            Action::Edit => self.edit,
            Action::Delete => self.delete,
        }
    }

    /// Whether a grid may be opened at all.
    pub fn can_open(&self, scope: GridScope) -> bool {
        match scope {
            GridScope::Mine => self.level(Action::View) >= Level::Own,
            GridScope::BackOffice => self.level(Action::View) == Level::Organization,
            GridScope::Storefront => self.administrator,
        }
    }

    /// Whether `action` may be done in a grid: creating there, or acting on
    /// the rows it shows (refined per row by [`Permissions::allows`]).
    pub fn can_in(&self, scope: GridScope, action: Action) -> bool {
        match scope {
            GridScope::Mine => self.level(action) >= Level::Own,
            GridScope::BackOffice => self.level(action) == Level::Organization,
            GridScope::Storefront => self.administrator,
        }
    }

    /// Whether `action` may be done to one application of the user's
    /// organizations. Storefront applications are the administrators' alone.
    pub fn allows(&self, action: Action, storefront: bool, owned_by_user: bool) -> bool {
        if storefront {
            return self.administrator;
        }
        match self.level(action) {
            Level::Organization => true,
            Level::Own => owned_by_user,
            Level::None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVELOPER: Permissions = Permissions {
        administrator: false,
        view: Level::Own,
        create: Level::Own,
        edit: Level::Own,
        delete: Level::Own,
    };

    #[test]
    fn own_level_reaches_only_the_users_applications() {
        assert!(DEVELOPER.allows(Action::Edit, false, true));
        assert!(!DEVELOPER.allows(Action::Edit, false, false));
        assert!(DEVELOPER.can_open(GridScope::Mine));
        assert!(!DEVELOPER.can_open(GridScope::BackOffice));
        assert!(!DEVELOPER.can_open(GridScope::Storefront));
    }

    #[test]
    fn a_viewer_sees_the_organization_but_changes_nothing() {
        let viewer = Permissions { view: Level::Organization, ..Permissions::default() };
        assert!(viewer.can_open(GridScope::BackOffice));
        assert!(viewer.allows(Action::View, false, false));
        for action in [Action::Create, Action::Edit, Action::Delete] {
            assert!(!viewer.can_in(GridScope::BackOffice, action));
            assert!(!viewer.allows(action, false, true));
        }
    }

    #[test]
    fn storefront_applications_are_for_administrators() {
        let manager = Permissions {
            administrator: false,
            view: Level::Organization,
            create: Level::Organization,
            edit: Level::Organization,
            delete: Level::Organization,
        };
        assert!(!manager.allows(Action::View, true, false));
        assert!(!manager.can_open(GridScope::Storefront));
        let admin = Permissions { administrator: true, ..Permissions::default() };
        assert!(admin.allows(Action::Delete, true, false));
        assert!(admin.can_in(GridScope::BackOffice, Action::Create));
    }

    #[test]
    fn no_role_means_no_access() {
        let none = Permissions::default();
        assert!(!none.can_open(GridScope::Mine));
        assert!(!none.allows(Action::View, false, true));
    }
}
