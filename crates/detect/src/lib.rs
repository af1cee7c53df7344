//! The rule catalogue: a pure function from an org snapshot, directory snapshots and a
//! policy to findings. No I/O, no clock reads (`now` is a parameter), no randomness; the
//! same input gives the same findings in the same order. `docs/rules.md` documents every
//! rule, the matching, the guards and the exclusions.

pub mod admin;
mod exclusions;
mod guards;
mod hash;
mod index;
mod naming;
mod normalize;
mod policy;
mod rules;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use idgap_model::{
    DirectorySnapshot, Finding, OrgSnapshot, ProviderKind, RuleId, SessionSettingsSource,
    SubjectKind, Timestamp, collector,
};
use serde::Serialize;

pub use admin::{ADMIN_PROFILE_API_NAME, Admins};
pub use exclusions::glob_match;
pub use naming::finding_name;
pub use policy::{
    DEFAULT_EXCLUDED_PROFILES, DEFAULT_EXPORT_ACTIONS, DEFAULT_EXPORT_SECTIONS, Exclusion, Policy,
};

use index::{IdentityIndex, Matcher};
use normalize::{Normalizer, clean_suffixes};
use rules::Ctx;

/// One linked identity provider as the sync left it.
#[derive(Debug, Clone, Copy)]
pub struct DirectoryInput<'a> {
    pub name: &'a str,
    pub provider: ProviderKind,
    /// The snapshot, or why the sync failed.
    pub result: Result<&'a DirectorySnapshot, &'a str>,
    /// The account count of the last sync that was trusted, for the shrink guard.
    pub last_good_accounts: Option<usize>,
}

/// What one run concluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detection {
    /// Sorted by severity (critical first), then rule, then key; keys are unique.
    pub findings: Vec<Finding>,
    /// Findings an exclusion matched, in the same order: counted, not lost.
    pub excluded: Vec<ExcludedFinding>,
    /// Rules evaluated completely: only their earlier findings may be pruned by the caller.
    pub evaluated: Vec<RuleId>,
    /// Rules not evaluated completely, with why: disabled, guarded (an IdP sync failed,
    /// came back empty or shrank; a Salesforce collector had a gap), or — for the export
    /// rules only — partially evaluated from the one source that was read. A partial rule
    /// can still have findings; like every rule listed here, it must not be pruned.
    pub skipped: Vec<SkippedRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExcludedFinding {
    pub finding: Finding,
    /// The exclusion's reason, as written in the spec.
    pub reason: String,
    /// Position of the exclusion in `Policy::exclusions`.
    pub exclusion: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRule {
    pub rule: RuleId,
    pub reason: String,
}

/// The rules that read the identity providers.
pub const IDP_RULES: [RuleId; 4] = [
    RuleId::AdminNotInIdp,
    RuleId::UserNotInIdp,
    RuleId::StaleActiveUser,
    RuleId::ConnectedAppUnknownUser,
];

/// The rules each Salesforce collector feeds: a gap in the collector keeps them from being
/// evaluated (the two export sources each feed both export rules, which run partially when
/// only one of them is read). `frozenState` and `profileNames` feed no rule on their own:
/// without them the frozen state is shown as unknown, and admins are still recognised by
/// Modify All Data (see [`admin`]).
pub const COLLECTOR_RULES: &[(&str, &[RuleId])] = &[
    (
        collector::USERS,
        &[
            RuleId::AdminNotInIdp,
            RuleId::UserNotInIdp,
            RuleId::StaleActiveUser,
            RuleId::ConnectedAppUnknownUser,
            RuleId::AdminModifyAllData,
            RuleId::AdminViewAllData,
            RuleId::DataExportByNonAdmin,
        ],
    ),
    (collector::OAUTH_GRANTS, &[RuleId::ConnectedAppUnknownUser]),
    (
        collector::PERMISSIONS,
        &[RuleId::AdminModifyAllData, RuleId::AdminViewAllData],
    ),
    (collector::SESSION_SETTINGS, &[RuleId::SessionIpNotEnforced]),
    (
        collector::AUDIT_TRAIL,
        &[RuleId::BulkDataExport, RuleId::DataExportByNonAdmin],
    ),
    (
        collector::EXPORT_JOBS,
        &[RuleId::BulkDataExport, RuleId::DataExportByNonAdmin],
    ),
    (collector::FROZEN_STATE, &[]),
    (collector::PROFILE_NAMES, &[]),
];

/// The rules `collector` feeds (empty for an unknown name).
pub fn rules_fed_by(collector: &str) -> &'static [RuleId] {
    COLLECTOR_RULES
        .iter()
        .find(|(c, _)| *c == collector)
        .map_or(&[], |(_, rules)| rules)
}

/// Runs every rule the policy enables and the guards allow.
///
/// `audit_window_start..=now` bounds the export rules: audit events and export-job runs
/// outside it are ignored.
pub fn detect(
    org: &OrgSnapshot,
    directories: &[DirectoryInput<'_>],
    policy: &Policy,
    now: Timestamp,
    audit_window_start: Timestamp,
) -> Detection {
    let mut plan = Plan::new(org, directories, policy);
    let ctx = Ctx::new(org, policy, now, audit_window_start);
    let mut raw: Vec<Finding> = Vec::new();

    let identity_on = rules::identity::Enabled {
        admin_not_in_idp: plan.runs(RuleId::AdminNotInIdp),
        user_not_in_idp: plan.runs(RuleId::UserNotInIdp),
        stale_active_user: plan.runs(RuleId::StaleActiveUser),
        connected_app_unknown_user: plan.runs(RuleId::ConnectedAppUnknownUser),
    };
    if IDP_RULES.iter().any(|r| plan.runs(*r)) {
        let mut trusted: Vec<(&str, ProviderKind, &DirectorySnapshot)> = directories
            .iter()
            .filter_map(|d| d.result.ok().map(|s| (d.name, d.provider, s)))
            .collect();
        trusted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let listed = trusted
            .iter()
            .map(|(name, provider, s)| {
                format!(
                    "{name} ({}, {} accounts)",
                    provider.as_str(),
                    s.accounts.len()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let norm = Normalizer::new(&policy.domain_aliases);
        match IdentityIndex::build(
            trusted.iter().map(|t| t.2).collect(),
            &norm,
            policy.match_personal_addresses,
        ) {
            Ok(index) => {
                let suffixes = clean_suffixes(&policy.sandbox_username_suffixes);
                let mut matcher = Matcher::new(&index, &norm, org.org.sandbox, &suffixes);
                rules::identity::run(&ctx, &mut matcher, &index, &listed, identity_on, &mut raw);
            }
            Err(_) => {
                for rule in IDP_RULES {
                    plan.block(
                        rule,
                        "the linked directories hold more than 4 GiB of identifiers, beyond what the identity index addresses".to_string(),
                    );
                }
            }
        }
    }
    for rule in [RuleId::AdminModifyAllData, RuleId::AdminViewAllData] {
        if plan.runs(rule) {
            rules::privilege::run(&ctx, rule, &mut raw);
        }
    }
    if plan.runs(RuleId::SessionIpNotEnforced)
        && let Some(settings) = &org.session_settings
    {
        rules::session::run(&ctx, settings, &mut raw);
    }
    let export_on = rules::export::Enabled {
        audit: plan.audit_readable,
        jobs: plan.jobs_readable,
        bulk: plan.runs(RuleId::BulkDataExport),
        non_admin: plan.runs(RuleId::DataExportByNonAdmin),
    };
    if export_on.bulk || export_on.non_admin {
        rules::export::run(&ctx, export_on, &mut raw);
    }

    let frozen_unknown = !org.has(collector::FROZEN_STATE);
    for f in &mut raw {
        f.severity = policy.severity_for(f.rule, f.severity);
        if frozen_unknown && f.subject.kind == Some(SubjectKind::User) {
            f.evidence.insert(
                "frozen".into(),
                "unknown (UserLogin was not readable)".into(),
            );
        }
    }
    let (mut findings, mut excluded) = exclusions::apply(raw, &policy.exclusions, now);
    findings.sort_by(compare_findings);
    findings.dedup_by(|b, a| a.rule == b.rule && a.key == b.key);
    excluded.sort_by(|a, b| {
        compare_findings(&a.finding, &b.finding).then(a.exclusion.cmp(&b.exclusion))
    });
    excluded.dedup_by(|b, a| a.finding.rule == b.finding.rule && a.finding.key == b.finding.key);

    Detection {
        findings,
        excluded,
        evaluated: plan.evaluated(),
        skipped: plan.skipped(),
    }
}

/// Severity, rule and key; the remaining fields only break ties between duplicates, so
/// the survivor of de-duplication does not depend on input order.
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    (a.severity, a.rule, &a.key)
        .cmp(&(b.severity, b.rule, &b.key))
        .then_with(|| {
            (
                &a.title,
                &a.subject,
                &a.evidence,
                &a.remediation,
                a.occurred_at,
            )
                .cmp(&(
                    &b.title,
                    &b.subject,
                    &b.evidence,
                    &b.remediation,
                    b.occurred_at,
                ))
        })
}

/// Which rules run, which are guarded, and why; decided before any rule runs.
struct Plan {
    /// Rules not evaluated, with every reason.
    blocked: BTreeMap<RuleId, Vec<String>>,
    /// Rules evaluated from part of their sources.
    partial: BTreeMap<RuleId, Vec<String>>,
    audit_readable: bool,
    jobs_readable: bool,
}

impl Plan {
    fn new(org: &OrgSnapshot, directories: &[DirectoryInput<'_>], policy: &Policy) -> Self {
        let mut plan = Plan {
            blocked: BTreeMap::new(),
            partial: BTreeMap::new(),
            audit_readable: org.has("auditTrail"),
            jobs_readable: org.has("exportJobs"),
        };
        for rule in RuleId::ALL {
            if policy.is_disabled(rule) {
                plan.block(rule, "disabled by policy (spec.rules.disabled)".to_string());
            }
        }
        for problem in guards::directory_problems(directories, policy.idp_shrink_threshold) {
            for rule in IDP_RULES {
                plan.block(rule, problem.clone());
            }
        }
        let needs = |collector: &str, rules: &[RuleId], plan: &mut Plan| {
            if let Some(gap) = guards::collector_gap(org, collector) {
                for rule in rules {
                    plan.block(*rule, gap.clone());
                }
            }
        };
        for (collector, rules) in COLLECTOR_RULES {
            // The export sources are weighed together below.
            if *collector != collector::AUDIT_TRAIL && *collector != collector::EXPORT_JOBS {
                needs(collector, rules, &mut plan);
            }
        }
        if let Some(s) = &org.session_settings
            && s.source == SessionSettingsSource::HealthCheck
            && s.enforce_ip_ranges_every_request
            && !s.lock_sessions_to_ip
        {
            plan.block(
                RuleId::SessionIpNotEnforced,
                "Health Check says login IP ranges are enforced on every request, but it does not list which profiles have ranges, and without ranges the setting restricts nothing; grant Modify Metadata so profiles can be read".to_string(),
            );
        }
        if org.has("sessionSettings") && org.session_settings.is_none() {
            plan.block(
                RuleId::SessionIpNotEnforced,
                "session settings were not read (neither the Metadata API nor Health Check answered)".to_string(),
            );
        }
        let export_rules = [RuleId::BulkDataExport, RuleId::DataExportByNonAdmin];
        let audit_gap = guards::collector_gap(org, "auditTrail");
        let jobs_gap = guards::collector_gap(org, "exportJobs");
        match (audit_gap, jobs_gap) {
            (Some(a), Some(j)) => {
                for rule in export_rules {
                    plan.block(rule, a.clone());
                    plan.block(rule, j.clone());
                }
            }
            (Some(gap), None) | (None, Some(gap)) => {
                for rule in export_rules {
                    plan.partial.entry(rule).or_default().push(format!(
                        "partially evaluated, from the other export source only: {gap}"
                    ));
                }
            }
            (None, None) => {}
        }
        plan
    }

    fn block(&mut self, rule: RuleId, reason: String) {
        let reasons = self.blocked.entry(rule).or_default();
        // A disabled rule needs no other explanation.
        if reasons.first().is_some_and(|r| r.starts_with("disabled")) {
            return;
        }
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    fn runs(&self, rule: RuleId) -> bool {
        !self.blocked.contains_key(&rule)
    }

    fn evaluated(&self) -> Vec<RuleId> {
        RuleId::ALL
            .into_iter()
            .filter(|r| self.runs(*r) && !self.partial.contains_key(r))
            .collect()
    }

    fn skipped(&self) -> Vec<SkippedRule> {
        RuleId::ALL
            .into_iter()
            .filter_map(|rule| {
                let reasons = self
                    .blocked
                    .get(&rule)
                    .or_else(|| self.partial.get(&rule))?;
                Some(SkippedRule {
                    rule,
                    reason: reasons.join("; "),
                })
            })
            .collect()
    }
}
