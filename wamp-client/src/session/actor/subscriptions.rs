//! What the session task keeps of one router-side subscription.

use crate::session::event_queue::{EventSender, QueueRef};
use crate::value::Dict;

/// One router-side subscription and the local subscriptions it feeds: the session task's end of
/// each one's event queue, which also holds the topic, records a revocation and knows which
/// router-side subscription feeds it (so that no table maps local subscriptions to router ids).
///
/// Never empty: an operation that removes the last local subscription gives `None` instead.
pub(super) enum SubscriptionEntry {
    /// The common case: one local subscription, subscribed without options. Allocates nothing,
    /// and keeps the session's table of subscriptions small.
    Single(EventSender),
    /// Several local subscriptions the router merged into one, or SUBSCRIBE options to keep.
    Merged(Box<Merged>),
}

pub(super) struct Merged {
    /// The SUBSCRIBE options, to subscribe the same way after a reconnect.
    options: Dict,
    /// Never empty.
    sinks: Vec<EventSender>,
}

impl SubscriptionEntry {
    /// A subscription with its first local subscription, made with `options`.
    pub(super) fn new(sink: EventSender, options: Dict) -> Self {
        if options.is_empty() {
            return Self::Single(sink);
        }
        Self::Merged(Box::new(Merged {
            options,
            sinks: vec![sink],
        }))
    }

    /// The local subscriptions it feeds, in the order they were added.
    pub(super) fn sinks(&self) -> &[EventSender] {
        match self {
            Self::Single(sink) => std::slice::from_ref(sink),
            Self::Merged(merged) => &merged.sinks,
        }
    }

    /// The topic, held by each local subscription's queue (the router merges only subscriptions
    /// to the same topic).
    pub(super) fn topic(&self) -> &str {
        self.sinks().first().map_or("", EventSender::topic)
    }

    /// The SUBSCRIBE options it was made with, if any.
    pub(super) fn options(&self) -> Option<&Dict> {
        match self {
            Self::Single(_) => None,
            Self::Merged(merged) => Some(&merged.options),
        }
    }

    /// Adds a local subscription the router merged into this one (its own options are not
    /// kept: the router subscription was made with the first one's).
    pub(super) fn with(self, sink: EventSender) -> Self {
        match self {
            Self::Single(first) => Self::Merged(Box::new(Merged {
                options: Dict::new(),
                sinks: vec![first, sink],
            })),
            Self::Merged(mut merged) => {
                merged.sinks.push(sink);
                Self::Merged(merged)
            }
        }
    }

    /// Adds the local subscriptions of `other`, which the router merged into this one.
    pub(super) fn merge(self, other: Self) -> Self {
        match other {
            Self::Single(sink) => self.with(sink),
            Self::Merged(other) => other.sinks.into_iter().fold(self, Self::with),
        }
    }

    /// Keeps the local subscriptions `keep` accepts; `None` if none is left. A single one left
    /// without options goes back to the form that allocates nothing.
    pub(super) fn retain(self, mut keep: impl FnMut(&EventSender) -> bool) -> Option<Self> {
        match self {
            Self::Single(sink) => keep(&sink).then_some(Self::Single(sink)),
            Self::Merged(mut merged) => {
                merged.sinks.retain(|sink| keep(sink));
                if merged.options.is_empty() && merged.sinks.len() <= 1 {
                    return merged.sinks.pop().map(Self::Single);
                }
                (!merged.sinks.is_empty()).then_some(Self::Merged(merged))
            }
        }
    }

    /// Without the local subscription `queue`, if it is one of these; `None` if none is left.
    pub(super) fn without(self, queue: &QueueRef) -> Option<Self> {
        self.retain(|sink| !sink.is(queue))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::event_queue::{EventReceiver, channel};
    use crate::value::Value;

    fn sink() -> (EventSender, EventReceiver) {
        channel("com.example.topic".to_owned(), 4, usize::MAX)
    }

    fn is_single(entry: &SubscriptionEntry) -> bool {
        matches!(entry, SubscriptionEntry::Single(_))
    }

    /// The entry's sinks are exactly these receivers' senders, in this order.
    fn holds(entry: &SubscriptionEntry, receivers: &[&EventReceiver]) -> bool {
        entry.sinks().len() == receivers.len()
            && entry
                .sinks()
                .iter()
                .zip(receivers)
                .all(|(sink, receiver)| sink.is(&receiver.queue_ref()))
    }

    #[test]
    fn one_sink_without_options_allocates_nothing() {
        let (a, ra) = sink();
        let entry = SubscriptionEntry::new(a, Dict::new());
        assert!(is_single(&entry));
        assert!(holds(&entry, &[&ra]));
        assert_eq!(entry.topic(), "com.example.topic");
        assert!(entry.options().is_none());
        assert!(entry.without(&ra.queue_ref()).is_none());
    }

    #[test]
    fn two_sinks_then_one_removed_then_one_added_again() {
        let ((a, ra), (b, rb), (c, rc)) = (sink(), sink(), sink());
        let entry = SubscriptionEntry::new(a, Dict::new()).with(b);
        assert!(!is_single(&entry));
        assert!(holds(&entry, &[&ra, &rb]));

        // Removing one that is not there changes nothing.
        let entry = entry.without(&rc.queue_ref()).expect("entry");
        assert!(holds(&entry, &[&ra, &rb]));

        // Back to one: the form that allocates nothing.
        let entry = entry.without(&ra.queue_ref()).expect("entry");
        assert!(is_single(&entry));
        assert!(holds(&entry, &[&rb]));

        let entry = entry.with(c);
        assert!(holds(&entry, &[&rb, &rc]));
        let entry = entry.without(&rb.queue_ref()).expect("entry");
        let entry = entry.without(&rc.queue_ref());
        assert!(entry.is_none());
    }

    #[test]
    fn options_are_kept_with_one_sink_left() {
        let ((a, ra), (b, rb)) = (sink(), sink());
        let mut options = Dict::new();
        options.insert("match".into(), Value::from("prefix"));
        let entry = SubscriptionEntry::new(a, options.clone());
        assert!(!is_single(&entry));
        assert_eq!(entry.options(), Some(&options));

        let entry = entry.with(b).without(&ra.queue_ref()).expect("entry");
        assert!(holds(&entry, &[&rb]));
        assert_eq!(entry.options(), Some(&options));
        assert!(entry.without(&rb.queue_ref()).is_none());
    }

    #[test]
    fn merge_and_retain() {
        let ((a, ra), (b, rb), (c, rc)) = (sink(), sink(), sink());
        let entry = SubscriptionEntry::new(a, Dict::new())
            .merge(SubscriptionEntry::new(b, Dict::new()).with(c));
        assert!(holds(&entry, &[&ra, &rb, &rc]));

        // A closed receiver's sink is what restoring leaves out.
        drop(rb);
        let entry = entry.retain(|sink| !sink.is_closed()).expect("entry");
        assert!(holds(&entry, &[&ra, &rc]));
        assert!(entry.retain(|_| false).is_none());

        let (d, rd) = sink();
        let single = SubscriptionEntry::new(d, Dict::new());
        let merged = single.merge(SubscriptionEntry::new(sink().0, Dict::new()));
        assert_eq!(merged.sinks().len(), 2);
        assert!(
            merged
                .sinks()
                .first()
                .is_some_and(|s| s.is(&rd.queue_ref()))
        );
    }
}
