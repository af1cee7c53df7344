//! How long the watches wait before reconnecting after an error.
//!
//! kube's default follows client-go (0.8 s doubling to 30 s, reset only after two quiet
//! minutes). After a kube-apiserver outage of a few seconds that left changes made right after
//! the restart unseen for up to a minute. A short cap costs a recovering API server one list
//! per watch every few seconds, which one operator can afford.

use std::time::Duration;

use kube::runtime::utils::Backoff;

const FIRST: Duration = Duration::from_millis(500);
const CAP: Duration = Duration::from_secs(5);

/// 0.5 s, doubling up to 5 s; back to 0.5 s once a watch delivers again.
#[derive(Debug)]
pub struct WatchBackoff {
    next: Duration,
}

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff { next: FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let wait = self.next;
        self.next = (self.next * 2).min(CAP);
        Some(wait)
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets() {
        let mut b = WatchBackoff::default();
        let waits: Vec<u64> = b.by_ref().take(6).map(|d| d.as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 5000, 5000]);
        b.reset();
        assert_eq!(b.next(), Some(FIRST));
    }
}
