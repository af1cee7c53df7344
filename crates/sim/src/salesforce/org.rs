//! The simulated org's data: what an admin would see in Setup, kept as plain vectors.
//! Relations are typed indexes ([`UserRef`], [`ProfileRef`], …); record ids are derived
//! from the index on the way out, so a 100,000-user org stays small in memory.

use jiff::Timestamp;

use super::access::{self, Language, UserPermissions};
use super::ids;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub usize);
    };
}

handle!(
    /// A user, by position in [`OrgData::users`].
    UserRef
);
handle!(
    /// A profile, by position in [`OrgData::profiles`].
    ProfileRef
);
handle!(
    /// A role, by position in [`OrgData::roles`].
    RoleRef
);
handle!(
    /// A (non-profile-owned) permission set, by position in [`OrgData::permission_sets`].
    PermissionSetRef
);
handle!(
    /// A permission-set group, by position in [`OrgData::permission_set_groups`].
    GroupRef
);

/// Key prefixes. `005`, `00D`, `00e`, `00E` and `0PS` are documented; the others are
/// plausible stand-ins (clients must not depend on prefixes).
pub mod prefix {
    pub const ORGANIZATION: &str = "00D";
    pub const USER: &str = "005";
    pub const PROFILE: &str = "00e";
    pub const ROLE: &str = "00E";
    pub const PERMISSION_SET: &str = "0PS";
    pub const PERMISSION_SET_GROUP: &str = "0PG";
    pub const ASSIGNMENT: &str = "0Pa";
    pub const USER_LOGIN: &str = "060";
    pub const AUDIT: &str = "0Ym";
    pub const CRON_TRIGGER: &str = "08e";
    pub const CRON_JOB_DETAIL: &str = "08a";
    pub const HEALTH_CHECK: &str = "0sC";
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The label shown in Setup and returned as `Profile.Name`.
    pub name: String,
    /// The Metadata API name (`Admin` for "System Administrator", else the name).
    pub full_name: String,
    pub modify_all_data: bool,
    pub view_all_data: bool,
    pub user_type: String,
    pub login_ip_ranges: Vec<IpRange>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    pub start: String,
    pub end: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub username: String,
    pub email: String,
    pub is_active: bool,
    /// `Standard`, `PowerPartner`, `CspLitePortal`, `Guest`, …
    pub user_type: String,
    pub federation_id: Option<String>,
    pub profile: ProfileRef,
    pub role: Option<RoleRef>,
    pub last_login: Option<Timestamp>,
    pub created: Timestamp,
    /// `UserLogin.IsFrozen`.
    pub frozen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub name: String,
    pub label: String,
    pub modify_all_data: bool,
    pub view_all_data: bool,
}

/// A group; Salesforce exposes its combined permissions as an aggregate `PermissionSet`
/// row (`Type = 'Group'`), which is what assignments through the group point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSetGroup {
    pub developer_name: String,
    pub master_label: String,
    pub members: Vec<PermissionSetRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentTarget {
    PermissionSet(PermissionSetRef),
    Group(GroupRef),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub user: UserRef,
    pub target: AssignmentTarget,
    /// `IsActive`: false for a session-activated permission set not active now.
    pub active: bool,
    /// `IsRevoked`: a user access policy revoked the assignment.
    pub revoked: bool,
}

/// One `OauthToken` row (a user's approval of a connected app). Its `Id` is always null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthToken {
    pub app_name: String,
    /// `None` serves `"UserId": null`; the field reference lists it as nillable.
    pub user: Option<UserRef>,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
    pub use_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub action: String,
    pub section: Option<String>,
    pub display: String,
    pub created: Timestamp,
    pub created_by: Option<UserRef>,
    /// The "Login As" user, e.g. `admin@acme.com`.
    pub delegate_user: Option<String>,
}

/// A `CronTrigger` with its `CronJobDetail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronJob {
    pub name: String,
    /// `CronJobDetail.JobType`: `0`/`1` are Data Export / Weekly Export, `7` scheduled Apex, …
    pub job_type: String,
    pub state: String,
    pub next_fire: Option<Timestamp>,
    pub previous_fire: Option<Timestamp>,
    pub created: Timestamp,
    pub created_by: UserRef,
}

/// `SecuritySettings.sessionSettings` as the Metadata API returns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecuritySettings {
    pub lock_sessions_to_ip: bool,
    pub enforce_ip_ranges_every_request: bool,
}

/// One Tooling `SecurityHealthCheckRisks` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckRisk {
    pub setting: String,
    pub setting_group: String,
    pub org_value: String,
    pub org_value_raw: String,
    pub standard_value: String,
    /// `HIGH_RISK`, `MEDIUM_RISK` or `MEETS_STANDARD`.
    pub risk_type: String,
    pub setting_risk_category: String,
}

/// The Health Check labels the simulator uses for the two session settings. Real label
/// text is UNCONFIRMED; the client matches on configurable labels.
pub const HEALTH_CHECK_LOCK_SESSIONS: &str =
    "Lock sessions to the IP address from which they originated";
pub const HEALTH_CHECK_ENFORCE_IP_RANGES: &str = "Enforce login IP ranges on every request";

/// Everything the simulated org holds.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgData {
    pub org_number: u64,
    pub name: String,
    pub sandbox: bool,
    pub instance_name: String,
    pub profiles: Vec<Profile>,
    pub roles: Vec<Role>,
    pub users: Vec<User>,
    pub permission_sets: Vec<PermissionSet>,
    pub permission_set_groups: Vec<PermissionSetGroup>,
    pub assignments: Vec<Assignment>,
    /// When true (the default), every user also has an assignment to their profile's
    /// hidden profile-owned permission set, as Salesforce is believed to show (UNCONFIRMED).
    pub profile_owned_assignments: bool,
    pub oauth_tokens: Vec<OauthToken>,
    pub audit_trail: Vec<AuditEntry>,
    pub cron_jobs: Vec<CronJob>,
    pub security: SecuritySettings,
    pub health_check_risks: Vec<HealthCheckRisk>,
    /// The user the simulator's tokens act as (refresh-token and client-credentials flows).
    pub integration_user: Option<UserRef>,
    /// What the integration user may do; every permission by default. Other users hold
    /// everything when they have Modify All Data, and nothing else.
    pub integration_permissions: UserPermissions,
    /// The language the users read Setup in: standard profile labels are translated.
    pub language: Language,
    /// Extra frozen `UserLogin` rows whose `UserId` is null (the field reference lists it as
    /// nillable), after one row per user.
    pub frozen_logins_without_user: usize,
}

/// The instance "pod" characters used inside generated ids.
pub(crate) const POD: &str = "5g";

impl Default for OrgData {
    fn default() -> Self {
        OrgData::new()
    }
}

/// A custom profile's Metadata API `fullName`: its name with every character but ASCII
/// letters, digits, space, `-` and `_` percent-encoded as UTF-8 (`Custom: Sales` →
/// `Custom%3A Sales`). The exact set Salesforce leaves unencoded is UNCONFIRMED
/// (forcedotcom/cli#2869 shows the encoded form of a name with every special character).
/// Kept apart from the client's encoder on purpose: one shared function would let a wrong
/// encoding pass every test.
fn metadata_full_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

impl OrgData {
    /// An empty production org (`Acme`, instance `NA224`). Add records with the `add_*`
    /// methods; each returns the handle to relate other records to it.
    pub fn new() -> Self {
        OrgData {
            org_number: 1,
            name: "Acme".to_string(),
            sandbox: false,
            instance_name: "NA224".to_string(),
            profiles: Vec::new(),
            roles: Vec::new(),
            users: Vec::new(),
            permission_sets: Vec::new(),
            permission_set_groups: Vec::new(),
            assignments: Vec::new(),
            profile_owned_assignments: true,
            oauth_tokens: Vec::new(),
            audit_trail: Vec::new(),
            cron_jobs: Vec::new(),
            security: SecuritySettings::default(),
            health_check_risks: Vec::new(),
            integration_user: None,
            integration_permissions: UserPermissions::ALL,
            language: Language::English,
            frozen_logins_without_user: 0,
        }
    }

    /// The same org read in `language`.
    pub fn in_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// `Profile.Name` of profile `idx` as its readers see it (translated when standard).
    pub fn profile_label(&self, idx: usize) -> String {
        let p = &self.profiles[idx];
        access::label_in(self.language, &p.full_name, &p.name)
    }

    /// The permissions `user` reads the org with.
    pub fn permissions_of(&self, user: UserRef) -> UserPermissions {
        if Some(user) == self.integration_user {
            return self.integration_permissions;
        }
        match self.users.get(user.0) {
            Some(_) if self.effective_permissions(user).0 => UserPermissions::ALL,
            _ => UserPermissions::NONE,
        }
    }

    pub fn sandbox(mut self, sandbox: bool) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// The 18-character organization id (`00D…`).
    pub fn org_id(&self) -> String {
        ids::make(prefix::ORGANIZATION, POD, self.org_number)
    }

    pub fn user_id(&self, user: UserRef) -> String {
        ids::make(prefix::USER, POD, user.0 as u64)
    }

    pub fn profile_id(&self, profile: ProfileRef) -> String {
        ids::make(prefix::PROFILE, POD, profile.0 as u64)
    }

    /// Finds a user by username (case-insensitive).
    pub fn user_by_username(&self, username: &str) -> Option<UserRef> {
        self.users
            .iter()
            .position(|u| u.username.eq_ignore_ascii_case(username))
            .map(UserRef)
    }

    /// A profile by its English label; standard profiles get their API name.
    pub fn add_profile(&mut self, name: &str) -> ProfileRef {
        let full_name = access::standard_api_name(name).unwrap_or_else(|| metadata_full_name(name));
        self.profiles.push(Profile {
            name: name.to_string(),
            full_name,
            modify_all_data: false,
            view_all_data: false,
            user_type: "Standard".to_string(),
            login_ip_ranges: Vec::new(),
        });
        ProfileRef(self.profiles.len() - 1)
    }

    /// A profile with ModifyAllData and/or ViewAllData.
    pub fn add_profile_with(
        &mut self,
        name: &str,
        modify_all_data: bool,
        view_all_data: bool,
    ) -> ProfileRef {
        let p = self.add_profile(name);
        self.profiles[p.0].modify_all_data = modify_all_data;
        self.profiles[p.0].view_all_data = view_all_data;
        p
    }

    pub fn add_login_ip_range(&mut self, profile: ProfileRef, start: &str, end: &str) {
        self.profiles[profile.0].login_ip_ranges.push(IpRange {
            start: start.to_string(),
            end: end.to_string(),
            description: None,
        });
    }

    pub fn add_role(&mut self, name: &str) -> RoleRef {
        self.roles.push(Role {
            name: name.to_string(),
        });
        RoleRef(self.roles.len() - 1)
    }

    /// An active internal user with `username` as email, created at `created`. Change the
    /// other fields through `org.users[u.0]`. The first user added becomes the integration user.
    pub fn add_user(&mut self, username: &str, profile: ProfileRef, created: Timestamp) -> UserRef {
        self.users.push(User {
            username: username.to_string(),
            email: username.to_string(),
            is_active: true,
            user_type: "Standard".to_string(),
            federation_id: None,
            profile,
            role: None,
            last_login: None,
            created,
            frozen: false,
        });
        let u = UserRef(self.users.len() - 1);
        if self.integration_user.is_none() {
            self.integration_user = Some(u);
        }
        u
    }

    pub fn user_mut(&mut self, user: UserRef) -> &mut User {
        &mut self.users[user.0]
    }

    pub fn add_permission_set(
        &mut self,
        name: &str,
        modify_all_data: bool,
        view_all_data: bool,
    ) -> PermissionSetRef {
        self.permission_sets.push(PermissionSet {
            name: name.to_string(),
            label: name.replace('_', " "),
            modify_all_data,
            view_all_data,
        });
        PermissionSetRef(self.permission_sets.len() - 1)
    }

    pub fn add_permission_set_group(
        &mut self,
        developer_name: &str,
        members: &[PermissionSetRef],
    ) -> GroupRef {
        self.permission_set_groups.push(PermissionSetGroup {
            developer_name: developer_name.to_string(),
            master_label: developer_name.replace('_', " "),
            members: members.to_vec(),
        });
        GroupRef(self.permission_set_groups.len() - 1)
    }

    pub fn assign_permission_set(&mut self, user: UserRef, set: PermissionSetRef) {
        self.assignments.push(Assignment {
            user,
            target: AssignmentTarget::PermissionSet(set),
            active: true,
            revoked: false,
        });
    }

    pub fn assign_group(&mut self, user: UserRef, group: GroupRef) {
        self.assignments.push(Assignment {
            user,
            target: AssignmentTarget::Group(group),
            active: true,
            revoked: false,
        });
    }

    pub fn add_oauth_token(
        &mut self,
        app_name: &str,
        user: UserRef,
        created: Timestamp,
        last_used: Option<Timestamp>,
        use_count: u64,
    ) {
        self.oauth_tokens.push(OauthToken {
            app_name: app_name.to_string(),
            user: Some(user),
            created,
            last_used,
            use_count,
        });
    }

    pub fn add_audit(
        &mut self,
        action: &str,
        section: &str,
        display: &str,
        created: Timestamp,
        created_by: Option<UserRef>,
    ) {
        self.audit_trail.push(AuditEntry {
            action: action.to_string(),
            section: Some(section.to_string()),
            display: display.to_string(),
            created,
            created_by,
            delegate_user: None,
        });
    }

    /// A scheduled job; `job_type` `"1"` is the weekly Data Export.
    pub fn add_cron_job(
        &mut self,
        name: &str,
        job_type: &str,
        created_by: UserRef,
        created: Timestamp,
    ) -> usize {
        self.cron_jobs.push(CronJob {
            name: name.to_string(),
            job_type: job_type.to_string(),
            state: "WAITING".to_string(),
            next_fire: None,
            previous_fire: None,
            created,
            created_by,
        });
        self.cron_jobs.len() - 1
    }

    pub fn set_security(
        &mut self,
        lock_sessions_to_ip: bool,
        enforce_ip_ranges_every_request: bool,
    ) {
        self.security = SecuritySettings {
            lock_sessions_to_ip,
            enforce_ip_ranges_every_request,
        };
    }

    /// Health Check rows mirroring [`OrgData::security`] (the two session settings).
    pub fn health_check_from_security(&mut self) {
        let row = |label: &str, on: bool| HealthCheckRisk {
            setting: label.to_string(),
            setting_group: "SessionSettings".to_string(),
            org_value: if on { "Enabled" } else { "Disabled" }.to_string(),
            org_value_raw: on.to_string(),
            standard_value: "Enabled".to_string(),
            risk_type: if on { "MEETS_STANDARD" } else { "MEDIUM_RISK" }.to_string(),
            setting_risk_category: "MEDIUM_RISK".to_string(),
        };
        self.health_check_risks.retain(|r| {
            r.setting != HEALTH_CHECK_LOCK_SESSIONS && r.setting != HEALTH_CHECK_ENFORCE_IP_RANGES
        });
        self.health_check_risks.push(row(
            HEALTH_CHECK_LOCK_SESSIONS,
            self.security.lock_sessions_to_ip,
        ));
        self.health_check_risks.push(row(
            HEALTH_CHECK_ENFORCE_IP_RANGES,
            self.security.enforce_ip_ranges_every_request,
        ));
    }

    /// Who effectively holds ModifyAllData / ViewAllData, as (user, MAD, VAD): the truth a
    /// client's snapshot is checked against.
    pub fn effective_permissions(&self, user: UserRef) -> (bool, bool) {
        let u = &self.users[user.0];
        let p = &self.profiles[u.profile.0];
        let (mut mad, mut vad) = (p.modify_all_data, p.view_all_data);
        for a in self.assignments.iter().filter(|a| a.user == user) {
            let (m, v) = self.target_permissions(a.target);
            mad |= m;
            vad |= v;
        }
        (mad, vad)
    }

    pub(crate) fn target_permissions(&self, target: AssignmentTarget) -> (bool, bool) {
        match target {
            AssignmentTarget::PermissionSet(ps) => {
                let s = &self.permission_sets[ps.0];
                (s.modify_all_data, s.view_all_data)
            }
            AssignmentTarget::Group(g) => self.group_permissions(g),
        }
    }

    pub(crate) fn group_permissions(&self, group: GroupRef) -> (bool, bool) {
        self.permission_set_groups[group.0]
            .members
            .iter()
            .fold((false, false), |(m, v), ps| {
                let s = &self.permission_sets[ps.0];
                (m || s.modify_all_data, v || s.view_all_data)
            })
    }
}
