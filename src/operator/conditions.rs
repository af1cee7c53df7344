//! kstatus-compatible conditions: `Ready` always present; `Reconciling` and `Stalled` only
//! while True ("abnormal-true"); `lastTransitionTime` moves only when a status flips.

use jiff::Timestamp;

use crate::resources::Condition;

pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
pub const CREDENTIALS_VALID: &str = "CredentialsValid";
pub const SALESFORCE_SYNCED: &str = "SalesforceSynced";
pub const IDENTITY_PROVIDERS_SYNCED: &str = "IdentityProvidersSynced";
pub const FINDINGS_TRUNCATED: &str = "FindingsTruncated";
pub const DIRECTORY_SYNCED: &str = "DirectorySynced";
/// False when the integration user lacks a permission some collector needs.
pub const PERMISSIONS_COMPLETE: &str = "PermissionsComplete";

/// `True`, `False` or `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    True,
    False,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }

    pub fn from_bool(b: bool) -> Self {
        if b { Status::True } else { Status::False }
    }
}

/// A condition as the reconciler wants it, before transition times are settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub type_: &'static str,
    pub status: Status,
    pub reason: String,
    pub message: String,
}

impl Desired {
    pub fn new(
        type_: &'static str,
        status: Status,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Desired {
            type_,
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Turns the desired conditions into the status list. Conditions of the previous list whose
/// type is not desired are dropped (so `Stalled`/`Reconciling` disappear when no longer True),
/// except those named in `keep`, which are carried over unchanged.
pub fn merge(
    previous: &[Condition],
    desired: &[Desired],
    keep: &[&str],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out = Vec::with_capacity(desired.len() + keep.len());
    for d in desired {
        let prior = previous.iter().find(|c| c.type_ == d.type_);
        let last_transition_time = match prior {
            Some(p) if p.status == d.status.as_str() => p.last_transition_time.clone(),
            _ => now.to_string(),
        };
        out.push(Condition {
            type_: d.type_.to_string(),
            status: d.status.as_str().to_string(),
            reason: d.reason.clone(),
            message: d.message.clone(),
            last_transition_time,
            observed_generation: generation,
        });
    }
    for k in keep {
        if out.iter().any(|c| c.type_ == *k) {
            continue;
        }
        if let Some(p) = previous.iter().find(|c| c.type_ == *k) {
            out.push(p.clone());
        }
    }
    out
}

/// Ready as it stands while a sync runs: the previous verdict, or Unknown on first sight
/// (so kstatus never mistakes a fresh object for a reconciled one).
pub fn ready_while_progressing(previous: &[Condition]) -> Desired {
    match find(previous, READY) {
        Some(c) if c.reason != "Suspended" => Desired {
            type_: READY,
            status: match c.status.as_str() {
                "True" => Status::True,
                "False" => Status::False,
                _ => Status::Unknown,
            },
            reason: c.reason.clone(),
            message: c.message.clone(),
        },
        _ => Desired::new(
            READY,
            Status::Unknown,
            "Progressing",
            "First sync in progress",
        ),
    }
}

pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let t1 = t("2026-01-01T00:00:00Z");
        let t2 = t("2026-01-01T01:00:00Z");
        let first = merge(
            &[],
            &[Desired::new(READY, Status::True, "Succeeded", "ok")],
            &[],
            Some(1),
            t1,
        );
        assert_eq!(first[0].last_transition_time, t1.to_string());

        // Same status, new reason and message: the time stays.
        let same = merge(
            &first,
            &[Desired::new(READY, Status::True, "Other", "still ok")],
            &[],
            Some(2),
            t2,
        );
        assert_eq!(same[0].last_transition_time, t1.to_string());
        assert_eq!(same[0].reason, "Other");
        assert_eq!(same[0].observed_generation, Some(2));

        // Flip: the time moves.
        let flipped = merge(
            &same,
            &[Desired::new(READY, Status::False, "Failed", "bad")],
            &[],
            Some(2),
            t2,
        );
        assert_eq!(flipped[0].last_transition_time, t2.to_string());
        assert_eq!(flipped[0].status, "False");
    }

    #[test]
    fn abnormal_true_conditions_disappear_when_not_desired() {
        let t1 = t("2026-01-01T00:00:00Z");
        let with_stalled = merge(
            &[],
            &[
                Desired::new(READY, Status::False, "SecretNotFound", "m"),
                Desired::new(STALLED, Status::True, "SecretNotFound", "m"),
            ],
            &[],
            Some(1),
            t1,
        );
        assert!(is_true(&with_stalled, STALLED));
        let recovered = merge(
            &with_stalled,
            &[Desired::new(READY, Status::True, "Succeeded", "")],
            &[],
            Some(1),
            t1,
        );
        assert!(find(&recovered, STALLED).is_none());
        assert_eq!(recovered.len(), 1);
    }

    #[test]
    fn kept_conditions_carry_over_unchanged() {
        let t1 = t("2026-01-01T00:00:00Z");
        let t2 = t("2026-01-02T00:00:00Z");
        let prev = merge(
            &[],
            &[
                Desired::new(READY, Status::True, "Succeeded", ""),
                Desired::new(SALESFORCE_SYNCED, Status::True, "Succeeded", "42 users"),
            ],
            &[],
            Some(1),
            t1,
        );
        let next = merge(
            &prev,
            &[Desired::new(
                RECONCILING,
                Status::True,
                "Progressing",
                "syncing",
            )],
            &[READY, SALESFORCE_SYNCED],
            Some(1),
            t2,
        );
        assert_eq!(next.len(), 3);
        let sf = find(&next, SALESFORCE_SYNCED).unwrap();
        assert_eq!(sf.message, "42 users");
        assert_eq!(sf.last_transition_time, t1.to_string());
        assert_eq!(
            find(&next, RECONCILING).unwrap().last_transition_time,
            t2.to_string()
        );
    }
}
