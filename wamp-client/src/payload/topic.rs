//! [`Topic`]: the topic of a received event, shared with its subscription when it is the
//! subscribed topic itself.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use crate::session::event_queue::QueueRef;

/// The topic an event was published to: a string, read as a `&str` (it derefs to one, and
/// compares with `&str` and `String`).
///
/// For a subscription to one exact topic every event's topic is the subscribed topic, and the
/// event shares it with the subscription instead of carrying a copy of its own: receiving an
/// event allocates nothing for its topic. A pattern-based subscription's events carry the
/// concrete topic the router reported. Cloning a `Topic` never copies the string.
///
/// ```
/// # fn demo(event: wampkit::Event) {
/// let topic: &str = &event.topic;
/// if event.topic == "com.example.tick" || topic.starts_with("com.example.alarm.") {
///     println!("{}", event.topic);
/// }
/// let owned: String = event.topic.into();
/// # }
/// ```
#[derive(Clone)]
pub struct Topic(Repr);

#[derive(Clone)]
enum Repr {
    /// The subscribed topic, held by the subscription's queue.
    Subscribed(QueueRef),
    /// A topic of its own: the concrete topic of a pattern-based subscription's event.
    Own(Arc<str>),
}

impl Topic {
    /// The subscribed topic (or pattern), held by the subscription's queue.
    pub(crate) fn subscribed(queue: QueueRef) -> Self {
        Topic(Repr::Subscribed(queue))
    }

    /// The topic as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Subscribed(queue) => queue.topic(),
            Repr::Own(topic) => topic,
        }
    }
}

impl Deref for Topic {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Topic {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Topic {
    fn from(topic: &str) -> Self {
        Topic(Repr::Own(Arc::from(topic)))
    }
}

impl From<String> for Topic {
    fn from(topic: String) -> Self {
        Topic(Repr::Own(Arc::from(topic)))
    }
}

impl From<Topic> for String {
    fn from(topic: Topic) -> Self {
        topic.as_str().to_owned()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Topic {
    fn eq(&self, other: &Topic) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Topic {}

impl Hash for Topic {
    // As the `str` it borrows as, so that maps keyed by topics can be looked up by `&str`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Topic {
    fn partial_cmp(&self, other: &Topic) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Topic {
    fn cmp(&self, other: &Topic) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// `Topic == str`, `Topic == &str`, `Topic == String`, and each the other way round.
macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Topic {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<Topic> for $other {
            fn eq(&self, other: &Topic) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::session::event_queue::channel;

    #[test]
    fn a_subscribed_topic_reads_the_queues_topic_and_compares_as_a_string() {
        let (_sender, receiver) = channel("com.example.tick".to_owned(), 4, usize::MAX);
        let topic = receiver.topic_ref();
        assert_eq!(topic.as_str(), "com.example.tick");
        assert_eq!(topic, "com.example.tick");
        assert_eq!("com.example.tick", topic);
        assert_eq!(topic, "com.example.tick".to_owned());
        assert_eq!(topic, Topic::from("com.example.tick"));
        assert_ne!(topic, "com.example.tock");
        assert!(topic.starts_with("com.example."));
        assert_eq!(
            format!("{topic} {topic:?}"),
            "com.example.tick \"com.example.tick\""
        );
        assert_eq!(String::from(topic.clone()), "com.example.tick");
        // The queue behind a topic has locks, but the hash reads only the topic, which never
        // changes.
        #[allow(clippy::mutable_key_type)]
        let set: HashSet<Topic> = [topic].into_iter().collect();
        assert!(set.contains("com.example.tick"));
    }

    #[test]
    fn a_topic_is_no_larger_than_a_string() {
        assert!(std::mem::size_of::<Topic>() <= std::mem::size_of::<String>());
    }
}
