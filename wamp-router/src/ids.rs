//! Random ids: session ids (the specification's global scope) and anonymous authids.

use wamp_client::wire::{Id, MAX_ID};

/// A random id in `1..=2^53`.
pub(crate) fn random_id() -> Id {
    let random = getrandom::u64().unwrap_or_else(|_| fallback());
    (random % MAX_ID) + 1
}

/// An authid for an anonymous session that named none, in the shape Crossbar.io gives them.
pub(crate) fn anonymous_authid() -> String {
    let random = getrandom::u64().unwrap_or_else(|_| fallback());
    let text = format!("{random:016X}");
    let (head, tail) = text.split_at(4);
    let (mid, tail) = tail.split_at(4);
    let (four, five) = tail.split_at(4);
    format!("{head}-{mid}-{four}-{five}")
}

/// Ids need not be secret: without the system's generator, a clock-seeded one will do.
fn fallback() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_in_range_and_authids_shaped() {
        for _ in 0..1000 {
            let id = random_id();
            assert!((1..=MAX_ID).contains(&id));
        }
        let authid = anonymous_authid();
        assert_eq!(authid.len(), 19, "{authid}");
        assert_eq!(authid.matches('-').count(), 3, "{authid}");
    }
}
