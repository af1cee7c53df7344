//! When to sync: pure decisions from an object's metadata and status, so that the
//! operator's own status writes never trigger a sync before the interval elapses.

use std::time::Duration;

use jiff::Timestamp;

/// Why a sync runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Never synced (or the in-memory state was lost, e.g. after a restart).
    First,
    GenerationChanged,
    /// The `reconcile.idgap.io/requestedAt` annotation has a new value.
    Requested(String),
    /// A referenced Secret or a linked directory changed.
    DependencyChanged,
    IntervalElapsed,
}

impl Trigger {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::First => "first",
            Trigger::GenerationChanged => "generation",
            Trigger::Requested(_) => "requested",
            Trigger::DependencyChanged => "dependency",
            Trigger::IntervalElapsed => "interval",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Sync(Trigger),
    Wait(Duration),
}

/// What the decision looks at.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub generation: Option<i64>,
    pub observed_generation: Option<i64>,
    pub requested_at: Option<String>,
    pub last_handled_reconcile_at: Option<String>,
    pub last_sync_time: Option<Timestamp>,
    /// When the next sync is due, as written in status after the previous attempt.
    pub next_sync_time: Option<Timestamp>,
    /// Set by watches on Secrets and directories.
    pub dependency_changed: bool,
    /// The in-memory state this object needs is missing (e.g. after a restart).
    pub state_missing: bool,
}

/// What the operator itself last concluded for an object, kept in memory: the watch cache
/// may still hold an older status when the next reconcile runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub observed_generation: Option<i64>,
    pub last_handled_reconcile_at: Option<String>,
    pub last_sync_time: Timestamp,
    pub next_sync_time: Timestamp,
}

impl Facts {
    /// Uses `handled` where it is newer than what the (possibly stale) status says.
    pub fn overlay(&mut self, handled: Option<&Handled>) {
        let Some(h) = handled else { return };
        if self.last_sync_time.is_some_and(|t| t >= h.last_sync_time) {
            return;
        }
        self.observed_generation = h.observed_generation;
        self.last_handled_reconcile_at = h.last_handled_reconcile_at.clone();
        self.last_sync_time = Some(h.last_sync_time);
        self.next_sync_time = Some(h.next_sync_time);
    }
}

pub fn decide(f: &Facts, interval: Duration, now: Timestamp) -> Decision {
    if f.last_sync_time.is_none() || f.state_missing {
        return Decision::Sync(Trigger::First);
    }
    if f.generation.is_some() && f.generation != f.observed_generation {
        return Decision::Sync(Trigger::GenerationChanged);
    }
    if let Some(req) = &f.requested_at
        && f.last_handled_reconcile_at.as_ref() != Some(req)
    {
        return Decision::Sync(Trigger::Requested(req.clone()));
    }
    if f.dependency_changed {
        return Decision::Sync(Trigger::DependencyChanged);
    }
    let due = f.next_sync_time.unwrap_or_else(|| {
        f.last_sync_time.expect("checked above")
            + jiff::SignedDuration::try_from(interval).unwrap_or_default()
    });
    if now >= due {
        Decision::Sync(Trigger::IntervalElapsed)
    } else {
        let wait = now.duration_until(due);
        Decision::Wait(Duration::try_from(wait).unwrap_or(interval))
    }
}

/// `interval` ± `percent`%, with the offset derived from `seed` so it is stable for one
/// sync (re-deciding after a status write gives the same answer).
pub fn jittered(interval: Duration, percent: u32, seed: &str) -> Duration {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let unit = u16::from_be_bytes([digest[0], digest[1]]) as f64 / u16::MAX as f64; // 0..=1
    let spread = percent as f64 / 100.0;
    let factor = 1.0 + spread * (2.0 * unit - 1.0);
    Duration::from_secs_f64((interval.as_secs_f64() * factor).max(0.001))
}

/// Exponential backoff after `failures` consecutive failures: 5 s, 10 s, 20 s … jittered by
/// ±20%, capped at the interval.
pub fn backoff(failures: u32, interval: Duration, seed: &str) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let base = Duration::from_secs(5).saturating_mul(1u32 << exp);
    let capped = base.min(interval).max(Duration::from_secs(1).min(interval));
    jittered(capped, 20, seed).min(interval)
}

pub fn add(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_add(jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn synced() -> Facts {
        Facts {
            generation: Some(2),
            observed_generation: Some(2),
            requested_at: Some("a".into()),
            last_handled_reconcile_at: Some("a".into()),
            last_sync_time: Some(t("2026-01-01T00:00:00Z")),
            next_sync_time: Some(t("2026-01-01T01:00:00Z")),
            ..Facts::default()
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn waits_for_the_remaining_interval() {
        let d = decide(&synced(), HOUR, t("2026-01-01T00:20:00Z"));
        assert_eq!(d, Decision::Wait(Duration::from_secs(40 * 60)));
    }

    #[test]
    fn syncs_when_due() {
        assert_eq!(
            decide(&synced(), HOUR, t("2026-01-01T01:00:00Z")),
            Decision::Sync(Trigger::IntervalElapsed)
        );
    }

    #[test]
    fn falls_back_to_last_sync_plus_interval() {
        let f = Facts {
            next_sync_time: None,
            ..synced()
        };
        assert_eq!(
            decide(&f, HOUR, t("2026-01-01T00:30:00Z")),
            Decision::Wait(Duration::from_secs(1800))
        );
    }

    #[test]
    fn triggers_in_order() {
        let now = t("2026-01-01T00:10:00Z");
        assert_eq!(
            decide(&Facts::default(), HOUR, now),
            Decision::Sync(Trigger::First)
        );
        let f = Facts {
            generation: Some(3),
            ..synced()
        };
        assert_eq!(
            decide(&f, HOUR, now),
            Decision::Sync(Trigger::GenerationChanged)
        );
        let f = Facts {
            requested_at: Some("b".into()),
            ..synced()
        };
        assert_eq!(
            decide(&f, HOUR, now),
            Decision::Sync(Trigger::Requested("b".into()))
        );
        let f = Facts {
            dependency_changed: true,
            ..synced()
        };
        assert_eq!(
            decide(&f, HOUR, now),
            Decision::Sync(Trigger::DependencyChanged)
        );
        // Our own status writes change none of these: no sync before the time is due.
        assert_eq!(
            decide(&synced(), HOUR, now),
            Decision::Wait(Duration::from_secs(50 * 60))
        );
        let f = Facts {
            state_missing: true,
            ..synced()
        };
        assert_eq!(decide(&f, HOUR, now), Decision::Sync(Trigger::First));
    }

    #[test]
    fn a_stale_status_does_not_cause_a_second_sync() {
        let handled = Handled {
            observed_generation: Some(3),
            last_handled_reconcile_at: Some("b".into()),
            last_sync_time: t("2026-01-01T00:05:00Z"),
            next_sync_time: t("2026-01-01T01:05:00Z"),
        };
        // The cache still shows the status from before the sync that just finished.
        let mut stale = Facts {
            generation: Some(3),
            requested_at: Some("b".into()),
            ..synced()
        };
        stale.overlay(Some(&handled));
        assert_eq!(
            decide(&stale, HOUR, t("2026-01-01T00:06:00Z")),
            Decision::Wait(Duration::from_secs(59 * 60))
        );
        // A never-synced object whose first sync just finished.
        let mut fresh = Facts {
            generation: Some(3),
            ..Facts::default()
        };
        fresh.overlay(Some(&handled));
        assert!(matches!(
            decide(&fresh, HOUR, t("2026-01-01T00:06:00Z")),
            Decision::Wait(_)
        ));
        // A newer status wins over the memory.
        let mut newer = Facts {
            last_sync_time: Some(t("2026-01-01T00:10:00Z")),
            next_sync_time: Some(t("2026-01-01T00:10:00Z")),
            ..synced()
        };
        newer.overlay(Some(&handled));
        assert_eq!(newer.next_sync_time, Some(t("2026-01-01T00:10:00Z")));
    }

    #[test]
    fn jitter_is_bounded_and_stable() {
        for seed in ["a", "b", "c", "uid-1/2026", "x"] {
            let j = jittered(HOUR, 5, seed);
            assert!(
                j >= Duration::from_secs(3420) && j <= Duration::from_secs(3780),
                "{j:?}"
            );
            assert_eq!(j, jittered(HOUR, 5, seed));
        }
        assert_ne!(jittered(HOUR, 5, "a"), jittered(HOUR, 5, "b"));
    }

    #[test]
    fn backoff_grows_and_is_capped_at_the_interval() {
        let b1 = backoff(1, HOUR, "s");
        let b4 = backoff(4, HOUR, "s");
        assert!(
            b1 >= Duration::from_secs(4) && b1 <= Duration::from_secs(6),
            "{b1:?}"
        );
        assert!(
            b4 >= Duration::from_secs(32) && b4 <= Duration::from_secs(48),
            "{b4:?}"
        );
        assert!(backoff(30, HOUR, "s") <= HOUR);
        assert!(backoff(30, Duration::from_secs(60), "s") <= Duration::from_secs(60));
    }
}
