//! bulk-data-export and data-export-by-non-admin: export events in the audit trail and
//! runs of scheduled Data Export jobs inside the audit window.

use idgap_model::{
    AuditEvent, Evidence, ExportJob, Finding, RuleId, SfUser, Subject, SubjectKind, Timestamp,
};

use super::{Ctx, finding};

const BULK_REMEDIATION: &str = "Confirm the export was authorised (Setup → Data Export shows the schedule and who requested it); cancel unexpected schedules and review who holds the Weekly Data Export permission.";
const MAX_DISPLAY_CHARS: usize = 300;

/// Which sources and rules this pass covers (a source is off when its collector had a gap).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Enabled {
    pub audit: bool,
    pub jobs: bool,
    pub bulk: bool,
    pub non_admin: bool,
}

/// Decides whether an audit row is a data export, from the policy's lists.
pub(crate) struct ExportMatcher {
    sections: Vec<String>,
    actions: Vec<String>,
    display_words: Vec<String>,
}

impl ExportMatcher {
    pub(crate) fn new(ctx: &Ctx<'_>) -> Self {
        let lower = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        ExportMatcher {
            sections: lower(&ctx.policy.export_sections),
            actions: lower(&ctx.policy.export_actions),
            display_words: lower(&ctx.policy.export_display_contains),
        }
    }

    /// Why the row is an export, or `None`: its Action equals a configured action token, or
    /// its Section contains a configured section (the audit trail files export requests
    /// under *Data Management*) and its Display contains a configured word — that section
    /// also holds imports, mass deletes and other data tools, so the section alone is not
    /// enough.
    pub(crate) fn reason(&self, ev: &AuditEvent) -> Option<&'static str> {
        let action = ev.action.trim().to_lowercase();
        if self.actions.contains(&action) {
            return Some("action");
        }
        let section = ev.section.as_deref().unwrap_or("").to_lowercase();
        if self.sections.iter().any(|s| section.contains(s.as_str())) {
            let display = ev.display.to_lowercase();
            if self
                .display_words
                .iter()
                .any(|w| display.contains(w.as_str()))
            {
                return Some("section and display");
            }
        }
        None
    }
}

pub(crate) fn run(ctx: &Ctx<'_>, on: Enabled, out: &mut Vec<Finding>) {
    if on.audit {
        let matcher = ExportMatcher::new(ctx);
        for ev in &ctx.org.audit_events {
            if !ctx.in_window(ev.created) {
                continue;
            }
            let Some(why) = matcher.reason(ev) else {
                continue;
            };
            let actor = ev.created_by_id.as_deref().and_then(|id| ctx.user(id));
            let mut e = Evidence::new();
            e.insert("source".into(), "setup audit trail".into());
            e.insert("auditId".into(), ev.id.clone());
            e.insert("action".into(), ev.action.clone());
            e.insert(
                "section".into(),
                ev.section.clone().unwrap_or_else(|| "(none)".into()),
            );
            e.insert("display".into(), shorten(&ev.display));
            e.insert("matchedOn".into(), why.into());
            e.insert("time".into(), ev.created.to_string());
            actor_evidence(
                &mut e,
                ctx,
                actor,
                ev.created_by_id.as_deref(),
                ev.created_by_username.as_deref(),
            );
            if let Some(delegate) = ev.delegate_user.as_deref().filter(|d| !d.trim().is_empty()) {
                e.insert("delegateUser".into(), delegate.to_string());
                e.insert(
                    "note".into(),
                    format!("performed by {delegate} logged in as the actor (Login As); the actor's permissions were used"),
                );
            }
            emit(
                ctx,
                on,
                &format!("event:{}", ev.id),
                &ev.id,
                actor,
                e,
                ev.created,
                out,
            );
        }
    }
    if on.jobs {
        for job in &ctx.org.export_jobs {
            let Some(fired) = job.previous_fire.filter(|t| ctx.in_window(*t)) else {
                continue;
            };
            let actor = job.created_by_id.as_deref().and_then(|id| ctx.user(id));
            let e = job_evidence(ctx, job, fired, actor);
            emit(
                ctx,
                on,
                &format!("job:{}:{fired}", job.id),
                &job.id,
                actor,
                e,
                fired,
                out,
            );
        }
    }
}

fn job_evidence(
    ctx: &Ctx<'_>,
    job: &ExportJob,
    fired: Timestamp,
    actor: Option<&SfUser>,
) -> Evidence {
    let mut e = Evidence::new();
    e.insert(
        "source".into(),
        "scheduled Data Export (CronTrigger)".into(),
    );
    e.insert("jobId".into(), job.id.clone());
    e.insert("jobName".into(), job.name.clone());
    e.insert("jobType".into(), job.job_type.clone());
    e.insert("state".into(), job.state.clone());
    e.insert("time".into(), fired.to_string());
    if let Some(next) = job.next_fire {
        e.insert("nextRun".into(), next.to_string());
    }
    actor_evidence(
        &mut e,
        ctx,
        actor,
        job.created_by_id.as_deref(),
        job.created_by_username.as_deref(),
    );
    e
}

/// The actor: the user recorded as CreatedBy. Everything beyond what the row itself says
/// comes from the org's user list, and only when the user is in it.
fn actor_evidence(
    e: &mut Evidence,
    ctx: &Ctx<'_>,
    actor: Option<&SfUser>,
    id: Option<&str>,
    row_username: Option<&str>,
) {
    match actor {
        Some(u) => {
            e.insert("actorId".into(), u.id.clone());
            e.insert("actorUsername".into(), u.username.clone());
            e.insert(
                "actorProfile".into(),
                u.profile.clone().unwrap_or_else(|| "(none)".into()),
            );
            e.insert("actorIsAdmin".into(), ctx.is_admin(u).to_string());
        }
        None => {
            e.insert("actorId".into(), id.unwrap_or("(none)").to_string());
            if let Some(name) = row_username {
                e.insert("actorUsername".into(), name.to_string());
            }
            e.insert(
                "actorIsAdmin".into(),
                "unknown (actor not in org snapshot)".into(),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn emit(
    ctx: &Ctx<'_>,
    on: Enabled,
    subject_key: &str,
    record_id: &str,
    actor: Option<&SfUser>,
    evidence: Evidence,
    at: Timestamp,
    out: &mut Vec<Finding>,
) {
    let subject = Subject {
        kind: Some(SubjectKind::AuditEvent),
        salesforce_id: Some(record_id.to_string()),
        username: actor.map(|u| u.username.clone()),
        email: actor.map(|u| u.email.clone()),
        profile: actor.and_then(|u| u.profile.clone()),
        app: None,
    };
    if on.bulk {
        out.push(finding(
            RuleId::BulkDataExport,
            format!("{}:{subject_key}", RuleId::BulkDataExport),
            subject.clone(),
            evidence.clone(),
            BULK_REMEDIATION.to_string(),
            Some(at),
        ));
    }
    // An unknown actor cannot be called a non-admin: the bulk finding still reports it.
    if on.non_admin
        && let Some(user) = actor.filter(|u| !ctx.is_admin(u))
    {
        let remediation = format!(
            "Find out why {} could export data: remove the Weekly Data Export permission from their profile or permission sets, and treat an unexpected export as a possible data leak.",
            user.username
        );
        out.push(finding(
            RuleId::DataExportByNonAdmin,
            format!("{}:{subject_key}", RuleId::DataExportByNonAdmin),
            subject,
            evidence,
            remediation,
            Some(at),
        ));
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_DISPLAY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
