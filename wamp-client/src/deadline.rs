//! Deadlines from durations the user chose: a duration too long for the clock means "never",
//! not a panic (`Instant + Duration` panics on overflow, e.g. with `Duration::MAX`).

use std::time::Duration;

use tokio::time::Instant;

/// About 30 years: as far as a deadline goes, the way tokio's own "far future" does.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `base + duration`, capped at about 30 years from `base`.
pub(crate) fn deadline_from(base: Instant, duration: Duration) -> Instant {
    // Only a clock within 30 years of its own end could overflow here; `base` then stands in.
    base.checked_add(duration.min(FAR_FUTURE)).unwrap_or(base)
}

/// `duration` from now, capped at about 30 years.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    deadline_from(Instant::now(), duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_mean_the_far_future() {
        let now = Instant::now();
        assert_eq!(deadline_from(now, Duration::MAX), now + FAR_FUTURE);
        assert_eq!(
            deadline_from(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert!(deadline_after(Duration::MAX) > now + FAR_FUTURE / 2);
    }
}
