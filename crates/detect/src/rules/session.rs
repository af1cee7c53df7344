//! session-ip-not-enforced: one finding per org when sessions are neither locked to their
//! originating IP nor checked against login IP ranges on every request. "Enforce login IP
//! ranges on every request" only restricts users whose profile has login IP ranges, so it
//! counts only when a profile of an active user has them.

use idgap_model::{
    Evidence, Finding, RuleId, SessionSettings, SessionSettingsSource, Subject, SubjectKind,
};

use super::{Ctx, finding};

const REMEDIATION: &str = "In Setup → Session Settings, enable \"Lock sessions to the IP address from which they originated\", or set login IP ranges on profiles and enable \"Enforce login IP ranges on every request\".";
const MAX_LISTED_PROFILES: usize = 10;

pub(crate) fn run(ctx: &Ctx<'_>, settings: &SessionSettings, out: &mut Vec<Finding>) {
    let ranges_in_use = settings.profiles_with_login_ip_ranges.iter().any(|p| {
        ctx.org
            .users
            .iter()
            .any(|u| u.is_active && u.profile.as_deref() == Some(p.as_str()))
    });
    if settings.lock_sessions_to_ip || (settings.enforce_ip_ranges_every_request && ranges_in_use) {
        return;
    }
    let mut e = Evidence::new();
    e.insert(
        "source".into(),
        match settings.source {
            SessionSettingsSource::MetadataApi => "Metadata API (SecuritySettings)",
            SessionSettingsSource::HealthCheck => "Health Check (SecurityHealthCheckRisks)",
        }
        .into(),
    );
    e.insert("lockSessionsToIp".into(), "false".into());
    e.insert(
        "enforceIpRangesEveryRequest".into(),
        if settings.enforce_ip_ranges_every_request {
            "true, but no active user's profile has login IP ranges, so it restricts nothing"
        } else {
            "false"
        }
        .into(),
    );
    let mut profiles = settings.profiles_with_login_ip_ranges.clone();
    profiles.sort();
    profiles.dedup();
    e.insert(
        "profilesWithLoginIpRanges".into(),
        if profiles.is_empty() {
            "none".to_string()
        } else {
            let mut listed = profiles
                .iter()
                .take(MAX_LISTED_PROFILES)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if profiles.len() > MAX_LISTED_PROFILES {
                listed.push_str(&format!(
                    " and {} more",
                    profiles.len() - MAX_LISTED_PROFILES
                ));
            }
            format!("{} ({listed}); checked at login only", profiles.len())
        },
    );
    for (name, value) in &settings.raw {
        e.insert(format!("read.{name}"), value.clone());
    }
    let subject = Subject {
        kind: Some(SubjectKind::Org),
        salesforce_id: Some(ctx.org.org.id.clone()),
        ..Subject::default()
    };
    out.push(finding(
        RuleId::SessionIpNotEnforced,
        format!("{}:{}", RuleId::SessionIpNotEnforced, ctx.org.org.id),
        subject,
        e,
        REMEDIATION.to_string(),
        None,
    ));
}
