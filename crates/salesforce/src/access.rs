//! What the integration user may see. Some Salesforce objects answer a user without the
//! right permission with *less*, not with an error (`OauthToken` without Customize
//! Application returns only the reader's own tokens), so the sync learns the reader's
//! effective permissions first and turns every read they would cut short into a gap.

use idgap_model::CollectorGap;
use serde::Deserialize;

use crate::collect::optional;
use crate::error::SyncError;
use crate::rest::{Rest, Target};

/// A Salesforce user permission a collector depends on (API name without `Permissions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserPermission {
    /// `OauthToken` shows every user's tokens, not only the reader's own.
    CustomizeApplication,
    /// `UserLogin` (frozen state) is readable at all.
    ManageUsers,
    /// The Metadata API answers (so does Modify All Data).
    ModifyMetadata,
    ModifyAllData,
}

impl UserPermission {
    pub fn as_str(self) -> &'static str {
        match self {
            UserPermission::CustomizeApplication => "CustomizeApplication",
            UserPermission::ManageUsers => "ManageUsers",
            UserPermission::ModifyMetadata => "ModifyMetadata",
            UserPermission::ModifyAllData => "ModifyAllData",
        }
    }

    fn label(self) -> &'static str {
        match self {
            UserPermission::CustomizeApplication => "Customize Application",
            UserPermission::ManageUsers => "Manage Users",
            UserPermission::ModifyMetadata => "Modify Metadata Through Metadata API Functions",
            UserPermission::ModifyAllData => "Modify All Data",
        }
    }
}

/// `UserPermissionAccess`: one row, the effective permissions of the user who asks.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccessRow {
    // A field the org leaves out reads as "not held": the safe side is a gap.
    #[serde(default)]
    permissions_customize_application: bool,
    #[serde(default)]
    permissions_manage_users: bool,
    #[serde(default)]
    permissions_modify_metadata: bool,
    #[serde(default)]
    permissions_modify_all_data: bool,
}

/// The reader's effective permissions, or why they are unknown.
#[derive(Debug)]
pub(crate) struct ReaderAccess {
    user_id: String,
    held: Result<AccessRow, String>,
}

const ACCESS_SOQL: &str = "SELECT PermissionsCustomizeApplication, PermissionsManageUsers, PermissionsModifyMetadata, PermissionsModifyAllData FROM UserPermissionAccess";

impl ReaderAccess {
    /// Reads `UserPermissionAccess`; a refusal leaves the permissions unknown (every
    /// permission-dependent read is then treated as incomplete), other errors fail the sync.
    pub async fn read(rest: &Rest, user_id: &str) -> Result<ReaderAccess, SyncError> {
        let target = Target {
            object: "UserPermissionAccess",
            tooling: false,
        };
        let held = match optional(
            "readerPermissions",
            rest.query::<AccessRow>(target, ACCESS_SOQL).await,
        )? {
            Ok(page) => first_row(page.records),
            Err(gap) => Err(gap.reason),
        };
        Ok(ReaderAccess {
            user_id: user_id.to_string(),
            held,
        })
    }

    #[cfg(test)]
    fn known(row: AccessRow) -> Self {
        ReaderAccess {
            user_id: "005A".into(),
            held: Ok(row),
        }
    }

    fn holds(&self, p: UserPermission) -> Option<bool> {
        let row = self.held.as_ref().ok()?;
        Some(match p {
            UserPermission::CustomizeApplication => row.permissions_customize_application,
            UserPermission::ManageUsers => row.permissions_manage_users,
            UserPermission::ModifyMetadata => row.permissions_modify_metadata,
            UserPermission::ModifyAllData => row.permissions_modify_all_data,
        })
    }

    /// `None` when the reader holds one of `any_of`; otherwise the gap for `collector`,
    /// naming the first permission of `any_of` as the one to grant.
    pub fn require(
        &self,
        collector: &str,
        any_of: &[UserPermission],
        why: &str,
    ) -> Option<CollectorGap> {
        let wanted = *any_of.first()?;
        let alternatives = any_of
            .iter()
            .map(|p| p.label())
            .collect::<Vec<_>>()
            .join(" or ");
        let reason = match &self.held {
            Ok(_) if any_of.iter().any(|p| self.holds(*p) == Some(true)) => return None,
            Ok(_) => format!(
                "the integration user ({}) lacks {alternatives}, so {why}; grant it to read this part",
                self.user_id
            ),
            Err(unknown) => format!(
                "the integration user's permissions could not be read ({unknown}), so it is unknown whether it holds {alternatives} ({why})"
            ),
        };
        Some(CollectorGap {
            collector: collector.to_string(),
            reason,
            missing_permission: Some(wanted.as_str().to_string()),
        })
    }

    /// Whether to attempt a read that fails loudly without `any_of` (`UserLogin`, the
    /// Metadata API): not when the reader is known to lack them, yes when its permissions are
    /// unknown (the refusal then becomes the gap).
    pub fn may_try(&self, any_of: &[UserPermission]) -> bool {
        match &self.held {
            Ok(_) => any_of.iter().any(|p| self.holds(*p) == Some(true)),
            Err(_) => true,
        }
    }
}

/// The one row `UserPermissionAccess` answers, or why the permissions stay unknown.
fn first_row(records: Vec<AccessRow>) -> Result<AccessRow, String> {
    records
        .into_iter()
        .next()
        .ok_or_else(|| "UserPermissionAccess returned no row for the integration user".to_string())
}

/// The reads whose completeness depends on a permission, and what they need.
pub(crate) const OAUTH_TOKENS_NEED: &[UserPermission] = &[UserPermission::CustomizeApplication];
pub(crate) const USER_LOGIN_NEEDS: &[UserPermission] = &[UserPermission::ManageUsers];
pub(crate) const METADATA_API_NEEDS: &[UserPermission] = &[
    UserPermission::ModifyMetadata,
    UserPermission::ModifyAllData,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_permission_is_a_gap_that_names_it() {
        let access = ReaderAccess::known(AccessRow {
            permissions_manage_users: true,
            ..Default::default()
        });
        let gap = access
            .require(
                "oauthGrants",
                OAUTH_TOKENS_NEED,
                "OauthToken shows only its own tokens",
            )
            .expect("a gap");
        assert_eq!(
            gap.missing_permission.as_deref(),
            Some("CustomizeApplication")
        );
        assert!(
            gap.reason.contains("Customize Application"),
            "{}",
            gap.reason
        );
        assert!(
            access
                .require("frozenState", USER_LOGIN_NEEDS, "x")
                .is_none()
        );
        assert!(!access.may_try(METADATA_API_NEEDS));
    }

    #[test]
    fn either_metadata_permission_is_enough() {
        let access = ReaderAccess::known(AccessRow {
            permissions_modify_all_data: true,
            ..Default::default()
        });
        assert!(
            access
                .require("profileNames", METADATA_API_NEEDS, "x")
                .is_none()
        );
        assert!(access.may_try(METADATA_API_NEEDS));
    }

    #[test]
    fn unknown_permissions_gap_the_silent_reads_and_let_the_loud_ones_try() {
        let access = ReaderAccess {
            user_id: "005A".into(),
            held: Err("INVALID_TYPE".into()),
        };
        assert!(
            access
                .require("oauthGrants", OAUTH_TOKENS_NEED, "x")
                .is_some()
        );
        assert!(access.may_try(USER_LOGIN_NEEDS));
    }
}

/// Entry point for the coverage-guided fuzz targets in `fuzz/`: the reader's permissions as
/// [`ReaderAccess::read`] builds them from a page, and what every permission-dependent read
/// decides from them. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::rest::Page;

    /// What one permission-dependent read decides.
    #[derive(Debug)]
    pub struct Decision {
        /// The permissions it needs (API names), the first being the one a gap asks for.
        pub needs: Vec<&'static str>,
        /// The four permissions as read (customize application, manage users, modify
        /// metadata, modify all data), or `None` when the page had no row.
        pub held: Option<[bool; 4]>,
        pub gap: Option<CollectorGap>,
        pub may_try: bool,
    }

    /// A `UserPermissionAccess` query page as the sync reads it (`None`: not a page), and
    /// what each permission-dependent read then decides.
    pub fn reader_access(body: &[u8]) -> Option<Vec<Decision>> {
        let page = serde_json::from_slice::<Page<AccessRow>>(body).ok()?;
        let access = ReaderAccess {
            user_id: "005A".into(),
            held: first_row(page.records),
        };
        let held = access.held.as_ref().ok().map(|r| {
            [
                r.permissions_customize_application,
                r.permissions_manage_users,
                r.permissions_modify_metadata,
                r.permissions_modify_all_data,
            ]
        });
        Some(
            [OAUTH_TOKENS_NEED, USER_LOGIN_NEEDS, METADATA_API_NEEDS]
                .into_iter()
                .map(|needs| Decision {
                    needs: needs.iter().map(|p| p.as_str()).collect(),
                    held,
                    gap: access.require("fuzz", needs, "it would read less"),
                    may_try: access.may_try(needs),
                })
                .collect(),
        )
    }
}
