//! The collectors: one function per part of the snapshot, each a few read-only queries.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use std::sync::Mutex;

use idgap_model::{
    AuditEvent, CollectorGap, ExportJob, GrantSource, GrantSourceKind, OAuthGrant, OrgInfo,
    Permission, PermissionGrant, SessionSettings, SessionSettingsSource, SfUser, SkippedRecords,
};
use jiff::Timestamp;
use serde::Deserialize;

use crate::SalesforceConfig;
use crate::error::SyncError;
use crate::rest::{Rest, Target};
use crate::soap::MetadataRecord;
use crate::wire::{datetime, floor_second, opt_datetime, soql_datetime};

fn data(object: &str) -> Target<'_> {
    Target {
        object,
        tooling: false,
    }
}

/// A collector that may be unavailable (permission, edition): `Err` is the gap to report.
pub(crate) type Optional<T> = Result<T, CollectorGap>;

/// Error codes that mean "this part cannot be read here", not "the sync failed".
const UNAVAILABLE: &[&str] = &[
    "INVALID_TYPE",
    "INVALID_FIELD",
    "INSUFFICIENT_ACCESS",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "API_DISABLED_FOR_ORG",
    "FUNCTIONALITY_NOT_ENABLED",
    "ROW_CAP",
];

/// Turns "unavailable" query errors into a gap; anything else still fails the sync.
pub(crate) fn optional<T>(
    collector: &str,
    result: Result<T, SyncError>,
) -> Result<Optional<T>, SyncError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(SyncError::Query {
            object,
            code,
            message,
        }) if UNAVAILABLE.contains(&code.as_str()) => Ok(Err(CollectorGap {
            collector: collector.to_string(),
            reason: format!(
                "{object} is not readable by the integration user ({code}: {message}); grant the permission or check the edition"
            ),
            missing_permission: None,
        })),
        Err(e) => Err(e),
    }
}

/// Rows the collectors left out because a nillable field they need was null: one odd row
/// never fails the sync, and the snapshot says how many there were.
#[derive(Debug, Default)]
pub(crate) struct Skipped(Mutex<BTreeMap<(&'static str, &'static str), u64>>);

impl Skipped {
    fn add(&self, object: &'static str, field: &'static str, n: u64) {
        if n > 0 {
            *self
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((object, field))
                .or_default() += n;
        }
    }

    pub(crate) fn records(&self) -> Vec<SkippedRecords> {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|(&(object, field), &count)| {
                tracing::warn!(object, field, count, "rows with a null field were skipped");
                SkippedRecords {
                    object: object.into(),
                    field: field.into(),
                    count,
                }
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
struct NameRef {
    #[serde(rename = "Name", default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UsernameRef {
    #[serde(rename = "Username", default)]
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrgRow {
    id: String,
    is_sandbox: bool,
}

pub(crate) async fn org_info(rest: &Rest, instance_url: &str) -> Result<OrgInfo, SyncError> {
    let r = rest
        .query::<OrgRow>(
            data("Organization"),
            "SELECT Id, IsSandbox, InstanceName FROM Organization",
        )
        .await?;
    let row = r
        .records
        .into_iter()
        .next()
        .ok_or_else(|| SyncError::Protocol {
            what: "Salesforce Organization query".into(),
            detail: "no Organization row was returned".into(),
        })?;
    Ok(OrgInfo {
        id: row.id,
        instance_url: instance_url.to_string(),
        sandbox: row.is_sandbox,
        api_version: rest.version.clone(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ProfileRow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub permissions_modify_all_data: bool,
    #[serde(default)]
    pub permissions_view_all_data: bool,
}

pub(crate) async fn profiles(rest: &Rest) -> Result<Vec<ProfileRow>, SyncError> {
    Ok(rest
        .query(
            data("Profile"),
            "SELECT Id, Name, PermissionsModifyAllData, PermissionsViewAllData FROM Profile",
        )
        .await?
        .records)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRow {
    id: String,
    username: String,
    #[serde(default)]
    email: Option<String>,
    is_active: bool,
    #[serde(default)]
    user_type: Option<String>,
    #[serde(default)]
    federation_identifier: Option<String>,
    #[serde(default)]
    profile_id: Option<String>,
    #[serde(default)]
    profile: Option<NameRef>,
    #[serde(default)]
    user_role: Option<NameRef>,
    #[serde(default, deserialize_with = "opt_datetime")]
    last_login_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_datetime")]
    created_date: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FrozenRow {
    /// Nillable in the field reference.
    #[serde(default)]
    user_id: Option<String>,
}

/// All users; `is_frozen` is filled in from [`frozen_users`] when that could be read.
pub(crate) async fn users(rest: &Rest) -> Result<Vec<SfUser>, SyncError> {
    let users = rest
        .query::<UserRow>(
            data("User"),
            "SELECT Id, Username, Email, IsActive, UserType, FederationIdentifier, ProfileId, Profile.Name, UserRole.Name, LastLoginDate, CreatedDate FROM User",
        )
        .await?;
    Ok(users
        .records
        .into_iter()
        .map(|u| SfUser {
            is_frozen: false,
            id: u.id,
            username: u.username,
            email: u.email.unwrap_or_default(),
            federation_id: u.federation_identifier.filter(|f| !f.trim().is_empty()),
            profile_id: u.profile_id,
            profile: u.profile.and_then(|p| p.name),
            role: u.user_role.and_then(|r| r.name),
            user_type: u.user_type.unwrap_or_else(|| "Standard".into()),
            is_active: u.is_active,
            last_login: u.last_login_date,
            created: u.created_date,
        })
        .collect())
}

/// Ids of frozen users (`UserLogin.IsFrozen`; the object needs Manage Users).
/// Rows without a `UserId` (nillable) are skipped and counted.
pub(crate) async fn frozen_users(
    rest: &Rest,
    skipped: &Skipped,
) -> Result<HashSet<String>, SyncError> {
    let frozen = rest
        .query::<FrozenRow>(
            data("UserLogin"),
            "SELECT UserId FROM UserLogin WHERE IsFrozen = true",
        )
        .await?;
    let rows = frozen.records.len();
    let frozen: HashSet<String> = frozen
        .records
        .into_iter()
        .filter_map(|r| r.user_id)
        .collect();
    skipped.add(
        "UserLogin",
        "UserId",
        (rows - frozen.len().min(rows)) as u64,
    );
    Ok(frozen)
}

/// The first 15 characters of a record id: the case-sensitive id both the 15- and the
/// 18-character forms start with.
fn id15(id: &str) -> &str {
    id.get(..15).unwrap_or(id)
}

/// Profile id (15 characters) → Metadata API `fullName`, from `listMetadata(Profile)`.
pub(crate) async fn profile_api_names(rest: &Rest) -> Result<HashMap<String, String>, SyncError> {
    Ok(api_names(rest.list_metadata("Profile").await?))
}

/// The `listMetadata` items that name both an id and a `fullName`, keyed by the 15-character id.
fn api_names(items: Vec<MetadataRecord>) -> HashMap<String, String> {
    items
        .into_iter()
        .filter_map(|r| {
            let id = r.get("id")?.trim();
            let name = r.get("fullName")?.trim();
            (!id.is_empty() && !name.is_empty()).then(|| (id15(id).to_string(), name.to_string()))
        })
        .collect()
}

/// The snapshot's profiles: labels as read, API names where `api_names` has them.
pub(crate) fn snapshot_profiles(
    profiles: &[ProfileRow],
    api_names: Option<&HashMap<String, String>>,
) -> Vec<idgap_model::SfProfile> {
    profiles
        .iter()
        .map(|p| idgap_model::SfProfile {
            id: p.id.clone(),
            label: p.name.clone(),
            api_name: api_names.and_then(|n| n.get(id15(&p.id)).cloned()),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssignedSet {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    is_owned_by_profile: bool,
    #[serde(default)]
    permissions_modify_all_data: bool,
    #[serde(default)]
    permissions_view_all_data: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AssignmentRow {
    assignee_id: String,
    /// False for a session-activated permission set that is not active (v52.0+).
    #[serde(default)]
    is_active: Option<bool>,
    /// True when a user access policy revoked the assignment; the field exists only in
    /// orgs with user access policies.
    #[serde(default)]
    is_revoked: Option<bool>,
    #[serde(default)]
    permission_set_group_id: Option<String>,
    #[serde(default)]
    permission_set: Option<AssignedSet>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRow {
    id: String,
    #[serde(default)]
    developer_name: Option<String>,
    #[serde(default)]
    master_label: Option<String>,
}

/// Assignments of permission sets (and groups) that carry ModifyAllData or ViewAllData,
/// plus the group names.
pub(crate) async fn assignments(
    rest: &Rest,
) -> Result<(Vec<AssignmentRow>, HashMap<String, String>), SyncError> {
    let query = |revoked: &str| {
        format!(
            "SELECT AssigneeId, IsActive{revoked}, PermissionSetId, PermissionSetGroupId, PermissionSet.Name, PermissionSet.Label, PermissionSet.IsOwnedByProfile, PermissionSet.PermissionsModifyAllData, PermissionSet.PermissionsViewAllData FROM PermissionSetAssignment WHERE PermissionSet.PermissionsModifyAllData = true OR PermissionSet.PermissionsViewAllData = true"
        )
    };
    let target = data("PermissionSetAssignment");
    let (rows, groups) = futures::join!(
        async {
            match rest
                .query::<AssignmentRow>(target, &query(", IsRevoked"))
                .await
            {
                // Without user access policies there is no IsRevoked, and nothing is revoked.
                Err(SyncError::Query { code, .. }) if code == "INVALID_FIELD" => {
                    rest.query::<AssignmentRow>(target, &query("")).await
                }
                other => other,
            }
        },
        rest.query::<GroupRow>(
            data("PermissionSetGroup"),
            "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetGroup",
        ),
    );
    // Orgs without permission-set groups (older editions) still have aggregate labels.
    let groups = match optional("permissions", groups)? {
        Ok(g) => g
            .records
            .into_iter()
            .filter_map(|g| Some((g.id, g.master_label.or(g.developer_name)?)))
            .collect(),
        Err(_) => HashMap::new(),
    };
    Ok((rows?.records, groups))
}

/// Effective ModifyAllData / ViewAllData with their sources, one row per
/// (user, permission, source), sorted.
pub(crate) fn effective_permissions(
    users: &[SfUser],
    profiles: &[ProfileRow],
    assignments: &[AssignmentRow],
    groups: &HashMap<String, String>,
) -> Vec<PermissionGrant> {
    let by_id: HashMap<&str, &ProfileRow> = profiles.iter().map(|p| (p.id.as_str(), p)).collect();
    let user_profile: HashMap<&str, Option<&str>> = users
        .iter()
        .map(|u| (u.id.as_str(), u.profile.as_deref()))
        .collect();
    let mut out = BTreeSet::new();
    let mut add = |user_id: &str, mad: bool, vad: bool, source: GrantSource| {
        for (held, permission) in [
            (mad, Permission::ModifyAllData),
            (vad, Permission::ViewAllData),
        ] {
            if held {
                out.insert(PermissionGrant {
                    user_id: user_id.to_string(),
                    permission,
                    source: source.clone(),
                });
            }
        }
    };
    for u in users {
        if let Some(p) = u.profile_id.as_deref().and_then(|id| by_id.get(id)) {
            add(
                &u.id,
                p.permissions_modify_all_data,
                p.permissions_view_all_data,
                GrantSource {
                    kind: GrantSourceKind::Profile,
                    name: p.name.clone(),
                },
            );
        }
    }
    for a in assignments {
        // A revoked assignment, or a session-activated set not active now, grants nothing.
        if a.is_revoked == Some(true) || a.is_active == Some(false) {
            continue;
        }
        let Some(ps) = &a.permission_set else {
            continue;
        };
        let label = ps
            .label
            .clone()
            .or_else(|| ps.name.clone())
            .unwrap_or_default();
        let source = if let Some(group_id) = &a.permission_set_group_id {
            GrantSource {
                kind: GrantSourceKind::PermissionSetGroup,
                name: groups.get(group_id).cloned().unwrap_or(label),
            }
        } else if ps.is_owned_by_profile {
            let profile = user_profile.get(a.assignee_id.as_str()).copied().flatten();
            GrantSource {
                kind: GrantSourceKind::Profile,
                name: profile.map(str::to_string).unwrap_or(label),
            }
        } else {
            GrantSource {
                kind: GrantSourceKind::PermissionSet,
                name: label,
            }
        };
        add(
            &a.assignee_id,
            ps.permissions_modify_all_data,
            ps.permissions_view_all_data,
            source,
        );
    }
    out.into_iter().collect()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenRow {
    #[serde(default)]
    app_name: Option<String>,
    /// Nillable in the field reference: a row without it names no one and is skipped.
    #[serde(default)]
    user_id: Option<String>,
    #[serde(deserialize_with = "datetime")]
    created_date: Timestamp,
    #[serde(default, deserialize_with = "opt_datetime")]
    last_used_date: Option<Timestamp>,
    #[serde(default)]
    use_count: Option<f64>,
}

impl TokenRow {
    /// The grant, or `None` for a row without a user.
    fn grant(self) -> Option<OAuthGrant> {
        Some(OAuthGrant {
            user_id: self.user_id?,
            app_name: self.app_name.unwrap_or_default(),
            created: Some(self.created_date),
            last_used: self.last_used_date,
            use_count: self.use_count.unwrap_or(0.0).max(0.0) as u64,
        })
    }
}

/// The grants of `rows`, counting the rows without a user in `skipped`.
fn grants(rows: impl Iterator<Item = TokenRow>, skipped: &Skipped) -> Vec<OAuthGrant> {
    let mut without_user = 0;
    let out = rows
        .filter_map(|r| {
            let g = r.grant();
            without_user += u64::from(g.is_none());
            g
        })
        .collect();
    skipped.add("OauthToken", "UserId", without_user);
    out
}

const TOKEN_FIELDS: &str = "AppName, UserId, CreatedDate, LastUsedDate, UseCount";
const TOKEN_ORDER: &str = "ORDER BY CreatedDate, UserId, AppName, LastUsedDate, UseCount";

/// Every OauthToken row. The object returns at most `cap` rows per query, so when
/// `COUNT()` is above the cap the rows are read in `CreatedDate` windows: each query
/// starts at the second of the last row read and skips the rows of that second it has
/// already seen (the order is total over the selected fields, so the skip is exact).
pub(crate) async fn oauth_grants(
    rest: &Rest,
    cap: u32,
    skipped: &Skipped,
) -> Result<Vec<OAuthGrant>, SyncError> {
    let target = data("OauthToken");
    let cap = cap.max(1) as usize;
    let count = rest
        .query::<serde_json::Value>(target, "SELECT COUNT() FROM OauthToken")
        .await?;
    if count.total_size as usize <= cap {
        let r = rest
            .query::<TokenRow>(target, &format!("SELECT {TOKEN_FIELDS} FROM OauthToken"))
            .await?;
        if r.records.len() as u64 >= r.total_size && r.records.len() < cap {
            return Ok(grants(r.records.into_iter(), skipped));
        }
    }
    // `totalSize` is the server's word: sized from it unchecked, a hostile or corrupt
    // count (e.g. u64::MAX) would abort on allocation.
    let mut out: Vec<OAuthGrant> = Vec::with_capacity(count.total_size.min(65_536) as usize);
    let mut window: Option<Timestamp> = None;
    let mut seen_in_window = 0usize;
    // Rows read, those skipped for a null user included: what `COUNT()` counts.
    let mut read = 0usize;
    loop {
        let filter = window
            .map(|w| format!(" WHERE CreatedDate >= {}", soql_datetime(w)))
            .unwrap_or_default();
        let soql = format!("SELECT {TOKEN_FIELDS} FROM OauthToken{filter} {TOKEN_ORDER}");
        let rows = rest.query::<TokenRow>(target, &soql).await?.records;
        let n = rows.len();
        if n >= cap && seen_in_window >= n {
            return Err(SyncError::Query {
                object: "OauthToken".into(),
                code: "ROW_CAP".into(),
                message: format!(
                    "more than {cap} OAuth grants were created within one second; read {read} of them"
                ),
            });
        }
        let last_second = rows.last().map(|r| floor_second(r.created_date));
        let in_last_second = last_second.map_or(0, |s| {
            rows.iter()
                .filter(|r| floor_second(r.created_date) == s)
                .count()
        });
        read += n - seen_in_window.min(n);
        out.extend(grants(rows.into_iter().skip(seen_in_window), skipped));
        // A short window is the end; so is having read as many rows as `COUNT()` said, which
        // saves the query that would only prove an exactly full last window was the last.
        if n < cap || read as u64 >= count.total_size {
            return Ok(out);
        }
        window = last_second;
        seen_in_window = in_last_second;
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuditRow {
    id: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    display: Option<String>,
    #[serde(deserialize_with = "datetime")]
    created_date: Timestamp,
    #[serde(default)]
    created_by_id: Option<String>,
    #[serde(default)]
    created_by: Option<UsernameRef>,
    #[serde(default)]
    delegate_user: Option<String>,
}

/// Setup audit rows newer than `since`, oldest first.
pub(crate) async fn audit_trail(
    rest: &Rest,
    since: Timestamp,
) -> Result<Vec<AuditEvent>, SyncError> {
    let soql = format!(
        "SELECT Id, Action, Section, Display, CreatedDate, CreatedById, CreatedBy.Username, DelegateUser FROM SetupAuditTrail WHERE CreatedDate >= {} ORDER BY CreatedDate",
        soql_datetime(floor_second(since))
    );
    let rows = rest
        .query::<AuditRow>(data("SetupAuditTrail"), &soql)
        .await?
        .records;
    Ok(rows
        .into_iter()
        .filter(|r| r.created_date > since)
        .map(|r| AuditEvent {
            id: r.id,
            action: r.action.unwrap_or_default(),
            section: r.section,
            display: r.display.unwrap_or_default(),
            created: r.created_date,
            created_by_id: r.created_by_id,
            created_by_username: r.created_by.and_then(|c| c.username),
            delegate_user: r.delegate_user.filter(|d| !d.is_empty()),
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobDetail {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    job_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CronRow {
    id: String,
    #[serde(default)]
    cron_job_detail: Option<JobDetail>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default, deserialize_with = "opt_datetime")]
    next_fire_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_datetime")]
    previous_fire_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "opt_datetime")]
    created_date: Option<Timestamp>,
    #[serde(default)]
    created_by_id: Option<String>,
    #[serde(default)]
    created_by: Option<UsernameRef>,
}

/// Scheduled Data Export jobs (`CronJobDetail.JobType` 0 or 1).
pub(crate) async fn export_jobs(rest: &Rest) -> Result<Vec<ExportJob>, SyncError> {
    let rows = rest
        .query::<CronRow>(
            data("CronTrigger"),
            "SELECT Id, CronJobDetail.Name, CronJobDetail.JobType, State, NextFireTime, PreviousFireTime, CreatedDate, CreatedById, CreatedBy.Username FROM CronTrigger WHERE CronJobDetail.JobType IN ('0','1')",
        )
        .await?
        .records;
    Ok(rows
        .into_iter()
        .map(|r| {
            let detail = r.cron_job_detail;
            ExportJob {
                id: r.id,
                name: detail
                    .as_ref()
                    .and_then(|d| d.name.clone())
                    .unwrap_or_default(),
                job_type: detail.and_then(|d| d.job_type).unwrap_or_default(),
                state: r.state.unwrap_or_default(),
                next_fire: r.next_fire_time,
                previous_fire: r.previous_fire_time,
                created: r.created_date,
                created_by_id: r.created_by_id,
                created_by_username: r.created_by.and_then(|c| c.username),
            }
        })
        .collect())
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "enabled" | "1" | "yes" | "on" => Some(true),
        "false" | "disabled" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Session IP posture: the Metadata API first, Health Check when that is refused, and a
/// gap when both are.
///
/// `api_names` is the `listMetadata(Profile)` answer, or the gap that says why the
/// Metadata API was not read; profiles are read by those names, never by a label.
pub(crate) async fn session_settings(
    rest: &Rest,
    profiles: &[ProfileRow],
    api_names: &Optional<HashMap<String, String>>,
    config: &SalesforceConfig,
) -> Result<Optional<SessionSettings>, SyncError> {
    // Any refusal of the Metadata API (a SOAP fault, or a 403/500 without one) falls back.
    let refused = match api_names {
        Err(gap) => gap.reason.clone(),
        Ok(names) => match from_metadata(rest, profiles, names, config).await {
            Ok(s) => return Ok(Ok(s)),
            Err(SyncError::Query { code, message, .. }) => {
                format!("refused ({code}: {message})")
            }
            Err(e) => return Err(e),
        },
    };
    match optional("sessionSettings", from_health_check(rest, config).await)? {
        Ok(Ok(s)) => Ok(Ok(s)),
        Ok(Err(missing))
        | Err(CollectorGap {
            reason: missing, ..
        }) => Ok(Err(CollectorGap {
            collector: "sessionSettings".into(),
            reason: format!("Metadata API: {refused}; Health Check: {missing}"),
            missing_permission: api_names
                .as_ref()
                .err()
                .and_then(|g| g.missing_permission.clone()),
        })),
    }
}

async fn from_metadata(
    rest: &Rest,
    profiles: &[ProfileRow],
    api_names: &HashMap<String, String>,
    config: &SalesforceConfig,
) -> Result<SessionSettings, SyncError> {
    let security = rest
        .read_metadata("SecuritySettings", &["Security".to_string()])
        .await?;
    let record = security.first().cloned().unwrap_or_default();
    let lock_path = "sessionSettings/lockSessionsToIp";
    let enforce_path = format!("sessionSettings/{}", config.enforce_ip_ranges_field);
    let lock = record.get(lock_path).and_then(truthy).unwrap_or(false);
    let enforce = record.get(&enforce_path).and_then(truthy).unwrap_or(false);
    let mut raw = vec![
        (
            "lockSessionsToIp".to_string(),
            record.get(lock_path).unwrap_or("absent").to_string(),
        ),
        (
            config.enforce_ip_ranges_field.clone(),
            record.get(&enforce_path).unwrap_or("absent").to_string(),
        ),
    ];
    let names: HashMap<String, String> = profiles
        .iter()
        .filter_map(|p| Some((api_names.get(id15(&p.id))?.clone(), p.name.clone())))
        .collect();
    let mut full_names: Vec<String> = names.keys().cloned().collect();
    full_names.sort();
    let mut with_ranges = Vec::new();
    for chunk in full_names.chunks(10) {
        for rec in rest.read_metadata("Profile", chunk).await? {
            if rec.has_prefix("loginIpRanges/")
                && let Some(name) = rec.get("fullName").and_then(|f| names.get(f))
            {
                with_ranges.push(name.clone());
            }
        }
    }
    with_ranges.sort();
    raw.push((
        "profilesWithLoginIpRanges".into(),
        with_ranges.len().to_string(),
    ));
    Ok(SessionSettings {
        source: SessionSettingsSource::MetadataApi,
        lock_sessions_to_ip: lock,
        enforce_ip_ranges_every_request: enforce,
        profiles_with_login_ip_ranges: with_ranges,
        raw,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RiskRow {
    #[serde(default)]
    setting: Option<String>,
    #[serde(default)]
    org_value: Option<String>,
    #[serde(default)]
    org_value_raw: Option<String>,
    #[serde(default)]
    risk_type: Option<String>,
}

/// `Ok(Err(reason))` when Health Check answered but lacks a setting idgap needs.
async fn from_health_check(
    rest: &Rest,
    config: &SalesforceConfig,
) -> Result<Result<SessionSettings, String>, SyncError> {
    let rows = rest
        .query::<RiskRow>(
            Target {
                object: "SecurityHealthCheckRisks",
                tooling: true,
            },
            "SELECT Setting, SettingGroup, OrgValue, OrgValueRaw, RiskType FROM SecurityHealthCheckRisks",
        )
        .await?
        .records;
    let find = |label: &str| {
        rows.iter().find(|r| {
            r.setting
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case(label.trim()))
        })
    };
    let labels = &config.health_check_labels;
    let mut values = Vec::new();
    let mut raw = Vec::new();
    for label in [&labels.lock_sessions_to_ip, &labels.enforce_ip_ranges] {
        let Some(row) = find(label) else {
            return Ok(Err(format!(
                "no Health Check row is labelled '{label}' (set spec.rules.healthCheckLabels to the org's wording)"
            )));
        };
        let value = row
            .org_value_raw
            .as_deref()
            .and_then(truthy)
            .or_else(|| row.org_value.as_deref().and_then(truthy));
        let Some(value) = value else {
            return Ok(Err(format!(
                "the Health Check value of '{label}' is not a yes/no value"
            )));
        };
        values.push(value);
        raw.push((
            label.clone(),
            format!(
                "{} ({})",
                row.org_value.as_deref().unwrap_or(""),
                row.risk_type.as_deref().unwrap_or("")
            ),
        ));
    }
    raw.push((
        "profilesWithLoginIpRanges".into(),
        "unknown: Health Check does not list profile login IP ranges".into(),
    ));
    Ok(Ok(SessionSettings {
        source: SessionSettingsSource::HealthCheck,
        lock_sessions_to_ip: values[0],
        enforce_ip_ranges_every_request: values[1],
        profiles_with_login_ip_ranges: Vec::new(),
        raw,
    }))
}

/// Fuzz-style properties for query pages and their records: a page that parses is complete
/// (every record of the body, the server's counts), anything else is an error, never a panic.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::rest::Page;
    use crate::wire::robustness::{Count, apply, config, mutation, prefixes};
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    fn page(records: Vec<Value>) -> Value {
        json!({
            "totalSize": records.len(),
            "done": false,
            "nextRecordsUrl": "/services/data/v62.0/query/01gxx-2000",
            "records": records,
        })
    }

    fn attributes(kind: &str) -> Value {
        json!({"type": kind, "url": format!("/services/data/v62.0/sobjects/{kind}/x")})
    }

    fn users() -> Value {
        page(vec![
            json!({"attributes": attributes("User"), "Id": "005A", "Username": "ada@acme.com", "Email": "ada@acme.com",
                "IsActive": true, "UserType": "Standard", "FederationIdentifier": "ada@idp.example", "ProfileId": "00eA",
                "Profile": {"attributes": attributes("Profile"), "Name": "System Administrator"},
                "UserRole": null, "LastLoginDate": "2023-07-23T16:18:23.000+0000", "CreatedDate": "2020-01-02T03:04:05.000+0000"}),
            json!({"attributes": attributes("User"), "Id": "005B", "Username": "bob@acme.com", "Email": null,
                "IsActive": false, "UserType": null, "FederationIdentifier": null, "ProfileId": null,
                "Profile": null, "UserRole": {"Name": "CEO"}, "LastLoginDate": null, "CreatedDate": null}),
        ])
    }

    fn tokens() -> Value {
        page(vec![
            json!({"attributes": attributes("OauthToken"), "AppName": "Data Loader", "UserId": "005A",
            "CreatedDate": "2023-07-23T16:18:23.000+0000", "LastUsedDate": null, "UseCount": 12}),
        ])
    }

    fn audit() -> Value {
        page(vec![
            json!({"attributes": attributes("SetupAuditTrail"), "Id": "0YmA", "Action": "changedPassword",
            "Section": "Manage Users", "Display": "Changed password", "CreatedDate": "2024-02-29T12:00:00.000+0000",
            "CreatedById": "005A", "CreatedBy": {"Username": "ada@acme.com"}, "DelegateUser": ""}),
        ])
    }

    fn crons() -> Value {
        page(vec![
            json!({"attributes": attributes("CronTrigger"), "Id": "08eA",
            "CronJobDetail": {"Name": "Weekly Export", "JobType": "1"}, "State": "WAITING",
            "NextFireTime": "2024-03-01T00:00:00.000+0000", "PreviousFireTime": null,
            "CreatedDate": "2024-01-01T00:00:00.000+0000", "CreatedById": "005A", "CreatedBy": null}),
        ])
    }

    fn assignments() -> Value {
        page(vec![
            json!({"attributes": attributes("PermissionSetAssignment"), "AssigneeId": "005A",
            "PermissionSetGroupId": null, "PermissionSet": {"Name": "X_Admin", "Label": "Admin", "IsOwnedByProfile": false,
            "PermissionsModifyAllData": true, "PermissionsViewAllData": true}}),
        ])
    }

    fn others() -> Vec<Value> {
        vec![
            page(vec![json!({"Id": "00DA", "IsSandbox": false})]),
            page(vec![
                json!({"Id": "00eA", "Name": "Standard User", "PermissionsModifyAllData": false}),
            ]),
            page(vec![json!({"UserId": "005A"})]),
            page(vec![
                json!({"Id": "0PGA", "DeveloperName": "Admins", "MasterLabel": null}),
            ]),
            page(vec![
                json!({"Setting": "Lock sessions", "OrgValue": "Enabled", "OrgValueRaw": "true", "RiskType": "MEETS_STANDARD"}),
            ]),
        ]
    }

    /// The page fields as the body states them, read independently of [`Page`].
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Stated {
        total_size: Value,
        done: Value,
        #[serde(default)]
        next_records_url: Option<Value>,
        records: Count,
    }

    /// Parses `body` as a page of `T`; an accepted page must carry everything the body said.
    fn check<T: DeserializeOwned>(body: &[u8]) -> Result<(), TestCaseError> {
        if let Ok(p) = serde_json::from_slice::<Page<T>>(body) {
            let stated: Stated = serde_json::from_str(&String::from_utf8_lossy(body))
                .expect("an accepted page has the page fields");
            prop_assert_eq!(Some(p.records.len()), stated.records.0);
            prop_assert_eq!(Some(p.total_size), stated.total_size.as_u64());
            prop_assert_eq!(Some(p.done), stated.done.as_bool());
            let next = stated.next_records_url.as_ref().and_then(Value::as_str);
            prop_assert_eq!(p.next_records_url.as_deref(), next);
        }
        Ok(())
    }

    /// Every record type, so a type that is accepted by one row struct but not another is
    /// still exercised by each.
    fn check_all(body: &[u8]) -> Result<(), TestCaseError> {
        check::<UserRow>(body)?;
        check::<TokenRow>(body)?;
        check::<AuditRow>(body)?;
        check::<CronRow>(body)?;
        check::<AssignmentRow>(body)?;
        check::<OrgRow>(body)?;
        check::<ProfileRow>(body)?;
        check::<FrozenRow>(body)?;
        check::<GroupRow>(body)?;
        check::<RiskRow>(body)?;
        check::<crate::access::AccessRow>(body)?;
        check::<Value>(body)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
            check_all(&body)?;
        }

        #[test]
        fn user_pages_are_whole_or_refused(m in mutation()) {
            check::<UserRow>(&apply(&users(), &m))?;
        }

        #[test]
        fn oauth_token_pages_are_whole_or_refused(m in mutation()) {
            let body = apply(&tokens(), &m);
            check::<TokenRow>(&body)?;
            if let Ok(p) = serde_json::from_slice::<Page<TokenRow>>(&body) {
                // Hostile UseCount (negative, 1e300) saturates instead of panicking.
                let _: Vec<OAuthGrant> = p.records.into_iter().filter_map(TokenRow::grant).collect();
            }
        }

        #[test]
        fn audit_pages_are_whole_or_refused(m in mutation()) {
            check::<AuditRow>(&apply(&audit(), &m))?;
        }

        #[test]
        fn cron_pages_are_whole_or_refused(m in mutation()) {
            check::<CronRow>(&apply(&crons(), &m))?;
        }

        #[test]
        fn assignment_pages_are_whole_or_refused(m in mutation()) {
            check::<AssignmentRow>(&apply(&assignments(), &m))?;
        }

        #[test]
        fn other_pages_are_whole_or_refused(which in 0usize..5, m in mutation()) {
            check_all(&apply(&others()[which], &m))?;
        }

        #[test]
        fn health_check_values_never_panic(v in any::<String>()) {
            let _ = truthy(&v);
        }
    }

    #[test]
    fn a_cut_page_is_never_read() {
        for valid in [users(), tokens(), audit(), crons(), assignments()] {
            for prefix in prefixes(&valid) {
                assert!(serde_json::from_slice::<Page<Value>>(&prefix).is_err());
            }
        }
    }

    #[test]
    fn a_bad_datetime_in_one_record_refuses_the_whole_page() {
        let mut body = users();
        body["records"][1]["CreatedDate"] = json!("yesterday");
        let err = serde_json::from_slice::<Page<UserRow>>(&serde_json::to_vec(&body).unwrap())
            .unwrap_err();
        assert!(err.is_data(), "{err}");
        assert!(
            err.to_string()
                .contains("not a Salesforce datetime: yesterday"),
            "{err}"
        );
    }

    #[test]
    fn extreme_use_counts_saturate() {
        let row = |n: f64| TokenRow {
            app_name: None,
            user_id: Some("005A".into()),
            created_date: Timestamp::UNIX_EPOCH,
            last_used_date: None,
            use_count: Some(n),
        };
        let count = |r: TokenRow| r.grant().unwrap().use_count;
        assert_eq!(count(row(-5.0)), 0);
        assert_eq!(count(row(1e300)), u64::MAX);
        assert_eq!(count(row(f64::NAN)), 0);
    }

    /// Regression: a row with `"UserId": null` (nillable) failed the whole page.
    #[test]
    fn a_token_or_frozen_row_without_a_user_is_skipped_and_counted() {
        let body = page(vec![
            json!({"attributes": attributes("OauthToken"), "AppName": "Data Loader", "UserId": null,
                   "CreatedDate": "2024-01-01T00:00:00.000+0000", "LastUsedDate": null, "UseCount": 1}),
            json!({"attributes": attributes("OauthToken"), "AppName": "Data Loader", "UserId": "005A",
                   "CreatedDate": "2024-01-01T00:00:00.000+0000", "LastUsedDate": null, "UseCount": 2}),
        ]);
        let p: Page<TokenRow> = serde_json::from_value(body).unwrap();
        let skipped = Skipped::default();
        let got = grants(p.records.into_iter(), &skipped);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].user_id, "005A");
        let frozen: FrozenRow = serde_json::from_value(json!({"UserId": null})).unwrap();
        assert_eq!(frozen.user_id, None);
        assert_eq!(
            skipped.records(),
            vec![SkippedRecords {
                object: "OauthToken".into(),
                field: "UserId".into(),
                count: 1
            }]
        );
    }
}

/// Entry points for the coverage-guided fuzz targets in `fuzz/`: the same page parsers the
/// robustness properties above call. No behaviour of its own.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::rest::Page;
    use serde::de::DeserializeOwned;

    /// What an accepted query page stated.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PageFacts {
        pub total_size: u64,
        pub done: bool,
        pub next_records_url: Option<String>,
        pub records: usize,
    }

    fn facts<T: DeserializeOwned>(body: &[u8]) -> Option<PageFacts> {
        let page = serde_json::from_slice::<Page<T>>(body).ok()?;
        Some(PageFacts {
            total_size: page.total_size,
            done: page.done,
            next_records_url: page.next_records_url,
            records: page.records.len(),
        })
    }

    /// `body` read as a query page of every record type idgap queries (OAuth token rows also
    /// converted as the collector does), then as untyped JSON records.
    pub fn query_page(body: &[u8]) -> Vec<(&'static str, Option<PageFacts>)> {
        let tokens = serde_json::from_slice::<Page<TokenRow>>(body)
            .ok()
            .map(|p| {
                let facts = PageFacts {
                    total_size: p.total_size,
                    done: p.done,
                    next_records_url: p.next_records_url,
                    records: p.records.len(),
                };
                let skipped = Skipped::default();
                let read = grants(p.records.into_iter(), &skipped);
                let left_out: u64 = skipped.records().iter().map(|s| s.count).sum();
                assert_eq!(read.len() as u64 + left_out, facts.records as u64);
                facts
            });
        vec![
            ("User", facts::<UserRow>(body)),
            ("UserLogin", facts::<FrozenRow>(body)),
            ("Organization", facts::<OrgRow>(body)),
            ("Profile", facts::<ProfileRow>(body)),
            ("PermissionSetAssignment", facts::<AssignmentRow>(body)),
            ("PermissionSetGroup", facts::<GroupRow>(body)),
            ("OauthToken", tokens),
            ("SetupAuditTrail", facts::<AuditRow>(body)),
            ("CronTrigger", facts::<CronRow>(body)),
            ("SecurityHealthCheckRisks", facts::<RiskRow>(body)),
            (
                "UserPermissionAccess",
                facts::<crate::access::AccessRow>(body),
            ),
            ("COUNT()", facts::<serde_json::Value>(body)),
        ]
    }

    /// How many `listMetadata` items were read, and the id → `fullName` map built from them.
    pub type ListedProfiles = (usize, HashMap<String, String>);

    /// A `listMetadataResponse` as `soap_call` reads it (its outermost `result` elements),
    /// then the profile id → `fullName` map the sync builds from it; `Err` is a SOAP fault.
    pub fn list_metadata_profiles(xml: &[u8]) -> Option<Result<ListedProfiles, (String, String)>> {
        Some(match crate::soap::parse_items(xml, "result")? {
            crate::soap::SoapBody::Records(items) => Ok((items.len(), api_names(items))),
            crate::soap::SoapBody::Fault { code, message } => Err((code, message)),
        })
    }

    /// A Health Check value read as yes/no, and the 15-character form of a record id.
    pub fn health_check_value(value: &str) -> (Option<bool>, String) {
        (truthy(value), id15(value).to_string())
    }
}
