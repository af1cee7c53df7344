//! The sObjects the simulator serves, their fields and relationships, and how each field
//! is read from [`OrgData`]. Rows are addressed by index; ids are derived on the way out.

use jiff::Timestamp;

use super::ids;
use super::org::{AssignmentTarget, GroupRef, OrgData, POD, prefix};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Obj {
    Organization,
    User,
    Profile,
    UserRole,
    UserLogin,
    PermissionSet,
    PermissionSetGroup,
    PermissionSetAssignment,
    OauthToken,
    SetupAuditTrail,
    CronTrigger,
    CronJobDetail,
    SecurityHealthCheck,
    SecurityHealthCheckRisks,
    /// The reading user's own permissions; one row per user, filtered to the reader.
    UserPermissionAccess,
}

const ALL: [Obj; 15] = [
    Obj::Organization,
    Obj::User,
    Obj::Profile,
    Obj::UserRole,
    Obj::UserLogin,
    Obj::PermissionSet,
    Obj::PermissionSetGroup,
    Obj::PermissionSetAssignment,
    Obj::OauthToken,
    Obj::SetupAuditTrail,
    Obj::CronTrigger,
    Obj::CronJobDetail,
    Obj::SecurityHealthCheck,
    Obj::SecurityHealthCheckRisks,
    Obj::UserPermissionAccess,
];

/// A field value before it is rendered as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Time(Timestamp),
}

impl Val {
    fn opt_str(s: &Option<String>) -> Val {
        s.as_ref().map_or(Val::Null, |s| Val::Str(s.clone()))
    }
    fn opt_time(t: Option<Timestamp>) -> Val {
        t.map_or(Val::Null, Val::Time)
    }
}

/// `2023-07-23T16:18:23.000+0000`, the way the REST API writes datetimes.
pub fn format_datetime(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

impl Obj {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Obj::Organization => "Organization",
            Obj::User => "User",
            Obj::Profile => "Profile",
            Obj::UserRole => "UserRole",
            Obj::UserLogin => "UserLogin",
            Obj::PermissionSet => "PermissionSet",
            Obj::PermissionSetGroup => "PermissionSetGroup",
            Obj::PermissionSetAssignment => "PermissionSetAssignment",
            Obj::OauthToken => "OauthToken",
            Obj::SetupAuditTrail => "SetupAuditTrail",
            Obj::CronTrigger => "CronTrigger",
            Obj::CronJobDetail => "CronJobDetail",
            Obj::SecurityHealthCheck => "SecurityHealthCheck",
            Obj::SecurityHealthCheckRisks => "SecurityHealthCheckRisks",
            Obj::UserPermissionAccess => "UserPermissionAccess",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Obj> {
        ALL.into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }

    /// Served by `/tooling/query` only.
    pub(crate) fn tooling_only(self) -> bool {
        matches!(
            self,
            Obj::SecurityHealthCheck | Obj::SecurityHealthCheckRisks
        )
    }

    pub(crate) fn fields(self) -> &'static [&'static str] {
        match self {
            Obj::Organization => &[
                "Id",
                "Name",
                "IsSandbox",
                "InstanceName",
                "OrganizationType",
            ],
            Obj::User => &[
                "Id",
                "Username",
                "Email",
                "Name",
                "IsActive",
                "UserType",
                "FederationIdentifier",
                "ProfileId",
                "UserRoleId",
                "LastLoginDate",
                "CreatedDate",
            ],
            Obj::Profile => &[
                "Id",
                "Name",
                "UserType",
                "PermissionsModifyAllData",
                "PermissionsViewAllData",
            ],
            Obj::UserRole => &["Id", "Name"],
            Obj::UserLogin => &["Id", "UserId", "IsFrozen", "IsPasswordLocked"],
            Obj::PermissionSet => &[
                "Id",
                "Name",
                "Label",
                "Type",
                "IsOwnedByProfile",
                "IsCustom",
                "ProfileId",
                "PermissionSetGroupId",
                "PermissionsModifyAllData",
                "PermissionsViewAllData",
            ],
            Obj::PermissionSetGroup => &["Id", "DeveloperName", "MasterLabel", "Status"],
            Obj::PermissionSetAssignment => &[
                "Id",
                "AssigneeId",
                "PermissionSetId",
                "PermissionSetGroupId",
                "IsActive",
                "IsRevoked",
                "ExpirationDate",
            ],
            Obj::OauthToken => &[
                "Id",
                "AppName",
                "AppMenuItemId",
                "UserId",
                "CreatedDate",
                "LastUsedDate",
                "UseCount",
                "AccessToken",
                "RequestToken",
                "DeleteToken",
            ],
            Obj::SetupAuditTrail => &[
                "Id",
                "Action",
                "Section",
                "Display",
                "CreatedDate",
                "CreatedById",
                "DelegateUser",
                "CreatedByContext",
            ],
            Obj::CronTrigger => &[
                "Id",
                "CronJobDetailId",
                "State",
                "NextFireTime",
                "PreviousFireTime",
                "CreatedDate",
                "CreatedById",
                "OwnerId",
            ],
            Obj::CronJobDetail => &["Id", "Name", "JobType"],
            Obj::SecurityHealthCheck => &["Id", "Score", "DurableId"],
            Obj::SecurityHealthCheckRisks => &[
                "DurableId",
                "Setting",
                "SettingGroup",
                "OrgValue",
                "OrgValueRaw",
                "StandardValue",
                "RiskType",
                "SettingRiskCategory",
            ],
            Obj::UserPermissionAccess => &[
                "PermissionsCustomizeApplication",
                "PermissionsManageUsers",
                "PermissionsModifyMetadata",
                "PermissionsModifyAllData",
                "PermissionsViewAllData",
            ],
        }
    }

    pub(crate) fn relationships(self) -> &'static [(&'static str, Obj)] {
        match self {
            Obj::User => &[("Profile", Obj::Profile), ("UserRole", Obj::UserRole)],
            Obj::UserLogin => &[("User", Obj::User)],
            Obj::PermissionSet => &[
                ("Profile", Obj::Profile),
                ("PermissionSetGroup", Obj::PermissionSetGroup),
            ],
            Obj::PermissionSetAssignment => &[
                ("Assignee", Obj::User),
                ("PermissionSet", Obj::PermissionSet),
                ("PermissionSetGroup", Obj::PermissionSetGroup),
            ],
            Obj::OauthToken => &[("User", Obj::User)],
            Obj::SetupAuditTrail => &[("CreatedBy", Obj::User)],
            Obj::CronTrigger => &[
                ("CronJobDetail", Obj::CronJobDetail),
                ("CreatedBy", Obj::User),
            ],
            _ => &[],
        }
    }

    pub(crate) fn field(self, name: &str) -> Option<&'static str> {
        self.fields()
            .iter()
            .copied()
            .find(|f| f.eq_ignore_ascii_case(name))
    }

    pub(crate) fn relationship(self, name: &str) -> Option<(&'static str, Obj)> {
        self.relationships()
            .iter()
            .copied()
            .find(|(r, _)| r.eq_ignore_ascii_case(name))
    }

    pub(crate) fn len(self, org: &OrgData) -> usize {
        match self {
            Obj::Organization => 1,
            Obj::User | Obj::UserPermissionAccess => org.users.len(),
            Obj::UserLogin => org.users.len() + org.frozen_logins_without_user,
            Obj::Profile => org.profiles.len(),
            Obj::UserRole => org.roles.len(),
            Obj::PermissionSet => {
                org.permission_sets.len() + org.profiles.len() + org.permission_set_groups.len()
            }
            Obj::PermissionSetGroup => org.permission_set_groups.len(),
            Obj::PermissionSetAssignment => {
                org.assignments.len()
                    + if org.profile_owned_assignments {
                        org.users.len()
                    } else {
                        0
                    }
            }
            Obj::OauthToken => org.oauth_tokens.len(),
            Obj::SetupAuditTrail => org.audit_trail.len(),
            Obj::CronTrigger | Obj::CronJobDetail => org.cron_jobs.len(),
            Obj::SecurityHealthCheck => 1,
            Obj::SecurityHealthCheckRisks => org.health_check_risks.len(),
        }
    }

    /// The record id of row `idx` (`None` for OauthToken, whose Id is always null).
    pub(crate) fn id(self, org: &OrgData, idx: usize) -> Option<String> {
        let p = match self {
            Obj::Organization => return Some(org.org_id()),
            Obj::User => prefix::USER,
            Obj::Profile => prefix::PROFILE,
            Obj::UserRole => prefix::ROLE,
            Obj::UserLogin => prefix::USER_LOGIN,
            Obj::PermissionSet => prefix::PERMISSION_SET,
            Obj::PermissionSetGroup => prefix::PERMISSION_SET_GROUP,
            Obj::PermissionSetAssignment => prefix::ASSIGNMENT,
            Obj::OauthToken => return None,
            Obj::SetupAuditTrail => prefix::AUDIT,
            Obj::CronTrigger => prefix::CRON_TRIGGER,
            Obj::CronJobDetail => prefix::CRON_JOB_DETAIL,
            Obj::SecurityHealthCheck => prefix::HEALTH_CHECK,
            Obj::SecurityHealthCheckRisks | Obj::UserPermissionAccess => return None,
        };
        Some(ids::make(p, POD, idx as u64))
    }
}

fn id_of(obj: Obj, org: &OrgData, idx: Option<usize>) -> Val {
    idx.and_then(|i| obj.id(org, i)).map_or(Val::Null, Val::Str)
}

/// Where row `idx` of a virtual PermissionSet table comes from.
enum PsRow {
    Custom(usize),
    ProfileOwned(usize),
    GroupAggregate(usize),
}

fn ps_row(org: &OrgData, idx: usize) -> PsRow {
    let custom = org.permission_sets.len();
    let profiles = org.profiles.len();
    if idx < custom {
        PsRow::Custom(idx)
    } else if idx < custom + profiles {
        PsRow::ProfileOwned(idx - custom)
    } else {
        PsRow::GroupAggregate(idx - custom - profiles)
    }
}

pub(crate) fn profile_owned_ps(org: &OrgData, profile: usize) -> usize {
    org.permission_sets.len() + profile
}

fn group_aggregate_ps(org: &OrgData, group: GroupRef) -> usize {
    org.permission_sets.len() + org.profiles.len() + group.0
}

/// (user, permission set row, group) of assignment row `idx`.
fn assignment_row(org: &OrgData, idx: usize) -> (usize, usize, Option<usize>) {
    match org.assignments.get(idx) {
        Some(a) => match a.target {
            AssignmentTarget::PermissionSet(ps) => (a.user.0, ps.0, None),
            AssignmentTarget::Group(g) => (a.user.0, group_aggregate_ps(org, g), Some(g.0)),
        },
        None => {
            let user = idx - org.assignments.len();
            let profile = org.users[user].profile.0;
            (user, profile_owned_ps(org, profile), None)
        }
    }
}

/// The parent row reached through relationship `rel` (canonical name), or `None` for an
/// empty lookup.
pub(crate) fn parent(org: &OrgData, obj: Obj, idx: usize, rel: &str) -> Option<usize> {
    match (obj, rel) {
        (Obj::User, "Profile") => Some(org.users[idx].profile.0),
        (Obj::User, "UserRole") => org.users[idx].role.map(|r| r.0),
        (Obj::UserLogin, "User") => (idx < org.users.len()).then_some(idx),
        (Obj::PermissionSet, "Profile") => match ps_row(org, idx) {
            PsRow::ProfileOwned(p) => Some(p),
            _ => None,
        },
        (Obj::PermissionSet, "PermissionSetGroup") => match ps_row(org, idx) {
            PsRow::GroupAggregate(g) => Some(g),
            _ => None,
        },
        (Obj::PermissionSetAssignment, "Assignee") => Some(assignment_row(org, idx).0),
        (Obj::PermissionSetAssignment, "PermissionSet") => Some(assignment_row(org, idx).1),
        (Obj::PermissionSetAssignment, "PermissionSetGroup") => assignment_row(org, idx).2,
        (Obj::OauthToken, "User") => org.oauth_tokens[idx].user.map(|u| u.0),
        (Obj::SetupAuditTrail, "CreatedBy") => org.audit_trail[idx].created_by.map(|u| u.0),
        (Obj::CronTrigger, "CronJobDetail") => Some(idx),
        (Obj::CronTrigger, "CreatedBy") => Some(org.cron_jobs[idx].created_by.0),
        _ => None,
    }
}

/// The value of scalar `field` (canonical name) on row `idx`.
pub(crate) fn scalar(org: &OrgData, obj: Obj, idx: usize, field: &str) -> Val {
    if field == "Id" {
        return obj.id(org, idx).map_or(Val::Null, Val::Str);
    }
    match obj {
        Obj::Organization => match field {
            "Name" => Val::Str(org.name.clone()),
            "IsSandbox" => Val::Bool(org.sandbox),
            "InstanceName" => Val::Str(org.instance_name.clone()),
            "OrganizationType" => Val::Str("Enterprise Edition".to_string()),
            _ => Val::Null,
        },
        Obj::User => {
            let u = &org.users[idx];
            match field {
                "Username" => Val::Str(u.username.clone()),
                "Email" => Val::Str(u.email.clone()),
                "Name" => Val::Str(u.username.split('@').next().unwrap_or("").to_string()),
                "IsActive" => Val::Bool(u.is_active),
                "UserType" => Val::Str(u.user_type.clone()),
                "FederationIdentifier" => Val::opt_str(&u.federation_id),
                "ProfileId" => id_of(Obj::Profile, org, Some(u.profile.0)),
                "UserRoleId" => id_of(Obj::UserRole, org, u.role.map(|r| r.0)),
                "LastLoginDate" => Val::opt_time(u.last_login),
                "CreatedDate" => Val::Time(u.created),
                _ => Val::Null,
            }
        }
        Obj::Profile => {
            let p = &org.profiles[idx];
            match field {
                "Name" => Val::Str(org.profile_label(idx)),
                "UserType" => Val::Str(p.user_type.clone()),
                "PermissionsModifyAllData" => Val::Bool(p.modify_all_data),
                "PermissionsViewAllData" => Val::Bool(p.view_all_data),
                _ => Val::Null,
            }
        }
        Obj::UserRole => match field {
            "Name" => Val::Str(org.roles[idx].name.clone()),
            _ => Val::Null,
        },
        Obj::UserLogin => match field {
            "UserId" => id_of(Obj::User, org, (idx < org.users.len()).then_some(idx)),
            "IsFrozen" => Val::Bool(org.users.get(idx).is_none_or(|u| u.frozen)),
            "IsPasswordLocked" => Val::Bool(false),
            _ => Val::Null,
        },
        Obj::PermissionSet => permission_set_field(org, idx, field),
        Obj::PermissionSetGroup => {
            let g = &org.permission_set_groups[idx];
            match field {
                "DeveloperName" => Val::Str(g.developer_name.clone()),
                "MasterLabel" => Val::Str(g.master_label.clone()),
                "Status" => Val::Str("Updated".to_string()),
                _ => Val::Null,
            }
        }
        Obj::PermissionSetAssignment => {
            let (user, ps, group) = assignment_row(org, idx);
            match field {
                "AssigneeId" => id_of(Obj::User, org, Some(user)),
                "PermissionSetId" => id_of(Obj::PermissionSet, org, Some(ps)),
                "PermissionSetGroupId" => id_of(Obj::PermissionSetGroup, org, group),
                "IsActive" => Val::Bool(org.assignments.get(idx).is_none_or(|a| a.active)),
                "IsRevoked" => Val::Bool(org.assignments.get(idx).is_some_and(|a| a.revoked)),
                _ => Val::Null,
            }
        }
        Obj::OauthToken => {
            let t = &org.oauth_tokens[idx];
            match field {
                "AppName" => Val::Str(t.app_name.clone()),
                "UserId" => id_of(Obj::User, org, t.user.map(|u| u.0)),
                "CreatedDate" => Val::Time(t.created),
                "LastUsedDate" => Val::opt_time(t.last_used),
                "UseCount" => Val::Int(t.use_count as i64),
                // Token handles: present so a careless client would leak them; idgap never selects them.
                "AccessToken" | "RequestToken" | "DeleteToken" => {
                    Val::Str(format!("SIMTOKENHANDLE{idx:08}"))
                }
                _ => Val::Null,
            }
        }
        Obj::SetupAuditTrail => {
            let a = &org.audit_trail[idx];
            match field {
                "Action" => Val::Str(a.action.clone()),
                "Section" => Val::opt_str(&a.section),
                "Display" => Val::Str(a.display.clone()),
                "CreatedDate" => Val::Time(a.created),
                "CreatedById" => id_of(Obj::User, org, a.created_by.map(|u| u.0)),
                "DelegateUser" => Val::opt_str(&a.delegate_user),
                _ => Val::Null,
            }
        }
        Obj::CronTrigger => {
            let c = &org.cron_jobs[idx];
            match field {
                "CronJobDetailId" => id_of(Obj::CronJobDetail, org, Some(idx)),
                "State" => Val::Str(c.state.clone()),
                "NextFireTime" => Val::opt_time(c.next_fire),
                "PreviousFireTime" => Val::opt_time(c.previous_fire),
                "CreatedDate" => Val::Time(c.created),
                "CreatedById" | "OwnerId" => id_of(Obj::User, org, Some(c.created_by.0)),
                _ => Val::Null,
            }
        }
        Obj::CronJobDetail => {
            let c = &org.cron_jobs[idx];
            match field {
                "Name" => Val::Str(c.name.clone()),
                "JobType" => Val::Str(c.job_type.clone()),
                _ => Val::Null,
            }
        }
        Obj::SecurityHealthCheck => match field {
            "Score" => Val::Str("72".to_string()),
            "DurableId" => Val::Str("SecurityHealthCheck".to_string()),
            _ => Val::Null,
        },
        Obj::SecurityHealthCheckRisks => {
            let r = &org.health_check_risks[idx];
            match field {
                "DurableId" => Val::Str(format!("risk{idx}")),
                "Setting" => Val::Str(r.setting.clone()),
                "SettingGroup" => Val::Str(r.setting_group.clone()),
                "OrgValue" => Val::Str(r.org_value.clone()),
                "OrgValueRaw" => Val::Str(r.org_value_raw.clone()),
                "StandardValue" => Val::Str(r.standard_value.clone()),
                "RiskType" => Val::Str(r.risk_type.clone()),
                "SettingRiskCategory" => Val::Str(r.setting_risk_category.clone()),
                _ => Val::Null,
            }
        }
        Obj::UserPermissionAccess => {
            let p = org.permissions_of(super::UserRef(idx));
            match field {
                "PermissionsCustomizeApplication" => Val::Bool(p.customize_application),
                "PermissionsManageUsers" => Val::Bool(p.manage_users),
                "PermissionsModifyMetadata" => Val::Bool(p.modify_metadata),
                "PermissionsModifyAllData" => Val::Bool(p.modify_all_data),
                "PermissionsViewAllData" => Val::Bool(p.view_all_data),
                _ => Val::Null,
            }
        }
    }
}

fn permission_set_field(org: &OrgData, idx: usize, field: &str) -> Val {
    let row = ps_row(org, idx);
    let (name, label, kind, mad, vad) = match row {
        PsRow::Custom(i) => {
            let s = &org.permission_sets[i];
            (
                s.name.clone(),
                s.label.clone(),
                "Regular",
                s.modify_all_data,
                s.view_all_data,
            )
        }
        PsRow::ProfileOwned(p) => {
            let prof = &org.profiles[p];
            (
                format!("X00e{p:010}"),
                org.profile_label(p),
                "Profile",
                prof.modify_all_data,
                prof.view_all_data,
            )
        }
        PsRow::GroupAggregate(g) => {
            let grp = &org.permission_set_groups[g];
            let (m, v) = org.group_permissions(GroupRef(g));
            (
                format!("{}_aggregate", grp.developer_name),
                grp.master_label.clone(),
                "Group",
                m,
                v,
            )
        }
    };
    match field {
        "Name" => Val::Str(name),
        "Label" => Val::Str(label),
        "Type" => Val::Str(kind.to_string()),
        "IsOwnedByProfile" => Val::Bool(matches!(row, PsRow::ProfileOwned(_))),
        "IsCustom" => Val::Bool(matches!(row, PsRow::Custom(_))),
        "ProfileId" => match row {
            PsRow::ProfileOwned(p) => id_of(Obj::Profile, org, Some(p)),
            _ => Val::Null,
        },
        "PermissionSetGroupId" => match row {
            PsRow::GroupAggregate(g) => id_of(Obj::PermissionSetGroup, org, Some(g)),
            _ => Val::Null,
        },
        "PermissionsModifyAllData" => Val::Bool(mad),
        "PermissionsViewAllData" => Val::Bool(vad),
        _ => Val::Null,
    }
}
