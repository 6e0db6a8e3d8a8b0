//! Request ids of one session: sequential from 1, wrapping after 2^53 (the largest id WAMP
//! allows) without ever reusing an id that still waits for its answer.

use crate::wire::{Id, MAX_ID};

#[derive(Default)]
pub(super) struct RequestIds {
    /// The id issued last (0 before the first).
    last: Id,
    /// Whether the ids have wrapped around since the session began: from then on every valid id
    /// may have been issued.
    wrapped: bool,
}

impl RequestIds {
    /// The next id, skipping those `in_use` says are still waiting for an answer. Until the ids
    /// wrap, every id is new and `in_use` is not asked.
    pub(super) fn next(&mut self, in_use: impl Fn(Id) -> bool) -> Id {
        loop {
            self.last = if self.last >= MAX_ID {
                self.wrapped = true;
                1
            } else {
                self.last + 1
            };
            // Terminates: a session cannot hold 2^53 requests at once.
            if !self.wrapped || !in_use(self.last) {
                return self.last;
            }
        }
    }

    /// Whether `id` was issued by this session: an answer for an id never issued is a protocol
    /// violation, one for an id issued earlier is a late answer.
    pub(super) fn was_issued(&self, id: Id) -> bool {
        self.wrapped || (1..=self.last).contains(&id)
    }

    /// A new session (after a reconnect) numbers its requests from 1 again.
    pub(super) fn reset(&mut self) {
        *self = RequestIds::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_from_one() {
        let mut ids = RequestIds::default();
        assert!(!ids.was_issued(1));
        assert_eq!(ids.next(|_| false), 1);
        assert_eq!(ids.next(|_| false), 2);
        assert!(ids.was_issued(2));
        assert!(!ids.was_issued(3));
        ids.reset();
        assert_eq!(ids.next(|_| false), 1);
    }

    #[test]
    fn wraps_after_the_largest_id_and_skips_ids_still_in_use() {
        let mut ids = RequestIds {
            last: MAX_ID - 1,
            wrapped: false,
        };
        // Before wrapping, no id can be in use.
        assert_eq!(ids.next(|_| true), MAX_ID);
        // Requests 1 and 2 are still pending (a long-running stream, say): never issued twice.
        assert_eq!(ids.next(|id| id == 1 || id == 2), 3);
        // Every id may have been issued now, including those above the last one.
        assert!(ids.was_issued(MAX_ID - 5));
        assert!(ids.was_issued(4));
    }
}
