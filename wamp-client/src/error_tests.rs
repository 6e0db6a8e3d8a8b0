use super::*;

#[test]
fn router_texts_are_clipped_at_a_char_boundary() {
    assert_eq!(clip("short"), "short");
    let limit = "a".repeat(ROUTER_TEXT_LIMIT);
    assert_eq!(clip(&limit), limit);
    // Two-byte characters: the cut falls inside one and moves back before it.
    let long = format!("a{}", "é".repeat(ROUTER_TEXT_LIMIT));
    let clipped = clip(&long);
    assert_eq!(
        clipped,
        format!("a{}… (601 bytes)", "é".repeat(ROUTER_TEXT_LIMIT / 2 - 1))
    );
}

#[test]
fn close_reasons_from_the_router_are_clipped() {
    let mut details = Dict::new();
    details.insert("message".into(), Value::from("m".repeat(5000)));
    let reason = CloseReason::from_router(&"u".repeat(5000), &details);
    assert_eq!(reason.initiator, CloseInitiator::Router);
    assert!(
        reason.uri.as_str().ends_with("… (5000 bytes)"),
        "{}",
        reason.uri
    );
    assert!(reason.uri.as_str().len() < 400);
    assert!(reason.message.is_some_and(|m| m.len() < 400));
    let plain = CloseReason::from_router("wamp.close.killed", &Dict::new());
    assert_eq!(plain.uri, ErrorUri::Killed);
    assert_eq!(plain.message, None);
    let own = CloseReason::from_router("com.example.maintenance", &Dict::new());
    assert_eq!(own.uri, ErrorUri::Other("com.example.maintenance".into()));
}

#[test]
fn a_protocol_violation_keeps_the_wire_error() {
    let err = Error::from(InvalidMessage::UnknownType(99));
    assert_eq!(
        err.to_string(),
        "protocol violation: unknown WAMP message type code 99"
    );
    let source = std::error::Error::source(&err).expect("the wire error");
    assert_eq!(
        source.downcast_ref::<InvalidMessage>(),
        Some(&InvalidMessage::UnknownType(99))
    );
    let Error::ProtocolViolation(violation) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        violation.invalid_message(),
        Some(&InvalidMessage::UnknownType(99))
    );
    let plain = Error::ProtocolViolation(ProtocolViolation::new("RESULT before WELCOME"));
    assert_eq!(
        plain.to_string(),
        "protocol violation: RESULT before WELCOME"
    );
    assert!(std::error::Error::source(&plain).is_none());
}
