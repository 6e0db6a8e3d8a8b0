//! Typed subscribers and publishers, with Rust and Python on either end.

use super::*;
use wampkit::EventDetails;

/// Typed events, under the prefix each test gives them.
#[wampkit::service]
pub trait Feed {
    /// A sensor reading (topic from the method's name, no details).
    #[wamp(event)]
    async fn reading(&self, sensor: String, value: f64);

    /// A note with bytes, on `PREFIX.notes` rather than its method's name (with details).
    #[wamp(event, name = "notes")]
    async fn note(&self, text: String, blob: Blob, details: EventDetails);

    /// Settings as keyword arguments.
    #[wamp(event)]
    async fn settings(&self, #[wamp(kwargs)] settings: Settings);

    /// A count; negative counts make the handler fail.
    #[wamp(event)]
    async fn count(&self, n: i64) -> Result<(), CalcError>;
}

impl Feed for Sink {
    async fn reading(&self, sensor: String, value: f64) {
        self.forward(Received::Reading(sensor, value));
    }

    async fn note(&self, text: String, blob: Blob, details: EventDetails) {
        self.forward(Received::Note {
            text,
            blob,
            topic: details.topic.into(),
            publisher: details.publisher,
        });
    }

    async fn settings(&self, settings: Settings) {
        self.forward(Received::Settings(settings));
    }

    async fn count(&self, n: i64) -> Result<(), CalcError> {
        if n < 0 {
            return Err(CalcError::OutOfRange(n, "negative".into()));
        }
        self.forward(Received::Count(n));
        Ok(())
    }
}

/// Typed subscribers receiving from the typed publisher and from Python, and Python receiving
/// from the typed publisher; malformed events are dropped.
pub(crate) async fn typed_subscribers(serializer: Serializer) {
    let prefix = prefix(serializer, "feed");
    let subscriber = connect(serializer).await;
    let publisher = connect(serializer).await;
    let (sink, mut rx) = Sink::new();
    let service = FeedService::register_with_prefix(&subscriber, &prefix, sink);
    let service = within("register", service).await.unwrap();
    let reading = uri(&prefix, "reading");
    let note_topic = uri(&prefix, "notes");
    let settings_topic = uri(&prefix, "settings");
    let count = uri(&prefix, "count");
    let topics: Vec<&str> = service.subscriptions().iter().map(|s| s.topic()).collect();
    assert_eq!(topics, [&reading, &note_topic, &settings_topic, &count]);
    assert_eq!(service.subscriptions().len(), 4);
    assert!(service.registrations().is_empty());

    // From the generated typed publisher (another session: the router does not send a
    // publisher its own events).
    let feed = FeedClient::with_prefix(&publisher, &prefix).unwrap();
    within("publish reading", feed.reading(UNICODE.into(), -1.5))
        .await
        .unwrap();
    assert_eq!(
        received(&mut rx).await,
        Received::Reading(UNICODE.into(), -1.5)
    );
    within("publish note", feed.note("note".into(), blob()))
        .await
        .unwrap();
    assert_eq!(
        received(&mut rx).await,
        Received::Note {
            text: "note".into(),
            blob: blob(),
            topic: note_topic.clone(),
            publisher: Some(publisher.id()),
        }
    );
    within("publish settings", feed.settings(settings()))
        .await
        .unwrap();
    assert_eq!(received(&mut rx).await, Received::Settings(settings()));
    within("publish count", feed.count(7)).await.unwrap();
    assert_eq!(received(&mut rx).await, Received::Count(7));

    // From Python: positional and keyword arguments, bytes.
    py_publish(serializer, &reading, json!(["py", 2.5]), json!({})).await;
    assert_eq!(received(&mut rx).await, Received::Reading("py".into(), 2.5));
    py_publish(
        serializer,
        &reading,
        json!([]),
        json!({"sensor": "kw", "value": -0.25}),
    )
    .await;
    assert_eq!(
        received(&mut rx).await,
        Received::Reading("kw".into(), -0.25)
    );
    py_publish(
        serializer,
        &note_topic,
        json!([UNICODE, blob_json()]),
        json!({}),
    )
    .await;
    match received(&mut rx).await {
        Received::Note {
            text,
            blob: bytes,
            topic,
            publisher: from,
        } => {
            assert_eq!(
                (text.as_str(), bytes, topic.as_str()),
                (UNICODE, blob(), note_topic.as_str())
            );
            assert!(from.is_some() && from != Some(publisher.id()), "{from:?}");
        }
        other => panic!("expected a note, got {other:?}"),
    }
    py_publish(
        serializer,
        &settings_topic,
        json!([]),
        json!({"name": "py", "level": 9, "ratio": -0.5}),
    )
    .await;
    assert_eq!(
        received(&mut rx).await,
        Received::Settings(Settings {
            name: "py".into(),
            level: 9,
            ratio: -0.5,
            verbose: None,
        })
    );

    // Malformed events are dropped; the handlers live on and take the next good one.
    py_publish(
        serializer,
        &reading,
        json!(["bad", "not a number"]),
        json!({}),
    )
    .await;
    py_publish(
        serializer,
        &reading,
        json!(["extra", 1.0, "arg"]),
        json!({}),
    )
    .await;
    py_publish(
        serializer,
        &reading,
        json!([]),
        json!({"sensor": "x", "value": 1.0, "unknown": 1.0}),
    )
    .await;
    py_publish(serializer, &note_topic, json!(["no bytes", 7]), json!({})).await;
    py_publish(
        serializer,
        &settings_topic,
        json!(["positional"]),
        json!({}),
    )
    .await;
    py_publish(serializer, &settings_topic, json!([]), json!({"name": "x"})).await;
    // A handler returning an error.
    within("publish count -1", feed.count(-1)).await.unwrap();
    py_publish(serializer, &reading, json!(["good", 1.0]), json!({})).await;
    assert_eq!(
        received(&mut rx).await,
        Received::Reading("good".into(), 1.0)
    );
    within("publish count", feed.count(8)).await.unwrap();
    assert_eq!(received(&mut rx).await, Received::Count(8));
    within("publish note", feed.note("again".into(), Blob(vec![])))
        .await
        .unwrap();
    assert!(matches!(received(&mut rx).await, Received::Note { text, .. } if text == "again"));
    within("publish settings", feed.settings(settings()))
        .await
        .unwrap();
    assert_eq!(received(&mut rx).await, Received::Settings(settings()));
    assert!(
        service.subscriptions().iter().all(|s| !s.is_finished()),
        "a handler task ended"
    );
    assert_quiet("after the good events", &mut rx).await;

    // A Python subscriber sees what the typed publisher sends.
    let python = python_subscriber(serializer, &reading).await;
    within("publish to python", feed.reading("to python".into(), 0.5))
        .await
        .unwrap();
    let (_python, event) = python_line(python).await;
    assert_eq!(event["args"], json!(["to python", 0.5]));
    assert_eq!(event["kwargs"], json!({}));
    assert_eq!(event["publisher"], json!(publisher.id()));
    assert_eq!(
        received(&mut rx).await,
        Received::Reading("to python".into(), 0.5)
    );
    let python = python_subscriber(serializer, &settings_topic).await;
    within("publish settings to python", feed.settings(settings()))
        .await
        .unwrap();
    let (_python, event) = python_line(python).await;
    assert_eq!(event["args"], json!([]));
    assert_eq!(
        event["kwargs"],
        json!({"name": UNICODE, "level": -3, "ratio": 0.125, "verbose": true})
    );
    assert_eq!(received(&mut rx).await, Received::Settings(settings()));
}
