//! Random ids: session and publication ids (the specification's global scope) and anonymous
//! authids. They need not be unguessable, only unlikely to repeat.

use wampkit_client::wire::{Id, MAX_ID};

/// A random id in `1..=2^53`.
pub(crate) fn random_id() -> Id {
    fastrand::u64(1..=MAX_ID)
}

/// An authid for an anonymous session that named none, in the shape Crossbar.io gives them
/// (`XXXX-XXXX-XXXX-XXXX`).
pub(crate) fn anonymous_authid() -> String {
    let text = format!("{:016X}", fastrand::u64(..));
    let group = |range: std::ops::Range<usize>| text.get(range).unwrap_or("0000").to_owned();
    format!(
        "{}-{}-{}-{}",
        group(0..4),
        group(4..8),
        group(8..12),
        group(12..16)
    )
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
