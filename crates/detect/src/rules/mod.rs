//! The nine rules. Each takes the shared [`Ctx`] and pushes findings with the rule's
//! default severity; the engine applies overrides, exclusions and ordering afterwards.

pub(crate) mod export;
pub(crate) mod identity;
pub(crate) mod privilege;
pub(crate) mod session;

use idgap_model::{
    Category, Evidence, Finding, OrgSnapshot, RuleId, Severity, SfUser, Subject, SubjectKind,
    Timestamp,
};

use crate::admin::Admins;
use crate::hash::FastMap;
use crate::policy::{NameSet, Policy};

/// Default severity, category and title of each rule (design §3).
pub(crate) fn meta(rule: RuleId) -> (Severity, Category, &'static str) {
    match rule {
        RuleId::AdminNotInIdp => (
            Severity::Critical,
            Category::IdentityGap,
            "Salesforce admin not in IdP",
        ),
        RuleId::UserNotInIdp => (
            Severity::High,
            Category::IdentityGap,
            "Salesforce user not in IdP",
        ),
        RuleId::StaleActiveUser => (
            Severity::High,
            Category::IdentityGap,
            "Active Salesforce user disabled in IdP",
        ),
        RuleId::ConnectedAppUnknownUser => (
            Severity::Medium,
            Category::IdentityGap,
            "Connected app grant held by a user unknown to the IdP",
        ),
        RuleId::AdminModifyAllData => (
            Severity::High,
            Category::Privilege,
            "Admin holds Modify All Data",
        ),
        RuleId::AdminViewAllData => (
            Severity::High,
            Category::Privilege,
            "Admin holds View All Data",
        ),
        RuleId::SessionIpNotEnforced => (
            Severity::Medium,
            Category::Session,
            "Sessions are not restricted by IP address",
        ),
        RuleId::BulkDataExport => (Severity::High, Category::DataExport, "Data export"),
        RuleId::DataExportByNonAdmin => (
            Severity::Critical,
            Category::DataExport,
            "Data export by a non-admin",
        ),
    }
}

/// What every rule reads: the snapshot, the policy with its name lists prepared, a user
/// lookup, and the time bounds.
pub(crate) struct Ctx<'a> {
    pub org: &'a OrgSnapshot,
    pub policy: &'a Policy,
    pub admins: Admins<'a>,
    pub idp_user_types: NameSet,
    pub excluded_profiles: NameSet,
    users_by_id: FastMap<&'a str, &'a SfUser>,
    pub now: Timestamp,
    pub window_start: Timestamp,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        org: &'a OrgSnapshot,
        policy: &'a Policy,
        now: Timestamp,
        window_start: Timestamp,
    ) -> Self {
        // Only users that grants, permissions and export records point at are looked up
        // by id; indexing just those keeps a million-user org cheap.
        let mut wanted: FastMap<&'a str, ()> = FastMap::default();
        let referenced = org
            .oauth_grants
            .iter()
            .map(|g| g.user_id.as_str())
            .chain(org.permissions.iter().map(|p| p.user_id.as_str()))
            .chain(
                org.audit_events
                    .iter()
                    .filter_map(|e| e.created_by_id.as_deref()),
            )
            .chain(
                org.export_jobs
                    .iter()
                    .filter_map(|j| j.created_by_id.as_deref()),
            );
        for id in referenced {
            wanted.insert(id, ());
        }
        let mut users_by_id: FastMap<&'a str, &'a SfUser> = FastMap::default();
        if !wanted.is_empty() {
            for u in &org.users {
                if !wanted.contains_key(u.id.as_str()) {
                    continue;
                }
                // With duplicate ids (an inconsistent snapshot) the smallest record wins,
                // so the choice does not depend on input order.
                users_by_id
                    .entry(u.id.as_str())
                    .and_modify(|prev| {
                        if user_order(u) < user_order(prev) {
                            *prev = u;
                        }
                    })
                    .or_insert(u);
            }
        }
        Ctx {
            org,
            policy,
            admins: Admins::new(org, policy),
            idp_user_types: NameSet::new(&policy.idp_user_types),
            excluded_profiles: NameSet::new(&policy.excluded_profiles),
            users_by_id,
            now,
            window_start,
        }
    }

    pub(crate) fn user(&self, id: &str) -> Option<&'a SfUser> {
        self.users_by_id.get(id).copied()
    }

    pub(crate) fn is_admin(&self, u: &SfUser) -> bool {
        self.admins.is_admin(u)
    }

    /// Users the IdP rules cover: active, of a covered user type, not of an excluded profile
    /// (named by API name or label).
    pub(crate) fn in_idp_scope(&self, u: &SfUser) -> bool {
        u.is_active
            && self.idp_user_types.contains(&u.user_type)
            && !self.admins.profiles().listed(&self.excluded_profiles, u)
    }

    pub(crate) fn in_window(&self, t: Timestamp) -> bool {
        self.window_start <= t && t <= self.now
    }
}

fn user_order(u: &SfUser) -> (&str, &str, bool) {
    (u.username.as_str(), u.email.as_str(), !u.is_active)
}

/// A finding with the rule's default severity and category.
pub(crate) fn finding(
    rule: RuleId,
    key: String,
    subject: Subject,
    evidence: Evidence,
    remediation: String,
    occurred_at: Option<Timestamp>,
) -> Finding {
    let (severity, category, title) = meta(rule);
    Finding {
        key,
        rule,
        severity,
        category,
        title: title.to_string(),
        subject,
        evidence,
        remediation,
        occurred_at,
    }
}

pub(crate) fn user_subject(u: &SfUser) -> Subject {
    Subject {
        kind: Some(SubjectKind::User),
        salesforce_id: Some(u.id.clone()),
        username: Some(u.username.clone()),
        email: Some(u.email.clone()),
        profile: u.profile.clone(),
        app: None,
    }
}

/// The fields every user finding shows.
pub(crate) fn user_evidence(u: &SfUser) -> Evidence {
    let mut e = Evidence::new();
    e.insert("username".into(), u.username.clone());
    e.insert("email".into(), u.email.clone());
    e.insert(
        "profile".into(),
        u.profile.clone().unwrap_or_else(|| "(none)".into()),
    );
    e.insert("userType".into(), u.user_type.clone());
    e.insert("isActive".into(), u.is_active.to_string());
    if let Some(fed) = u.federation_id.as_deref().filter(|f| !f.trim().is_empty()) {
        e.insert("federationId".into(), fed.to_string());
    }
    if u.is_frozen {
        e.insert("frozen".into(), "true".into());
    }
    e.insert(
        "lastLogin".into(),
        u.last_login
            .map_or_else(|| "never".to_string(), |t| t.to_string()),
    );
    e
}

pub(crate) fn opt_time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "unknown".to_string(), |t| t.to_string())
}
