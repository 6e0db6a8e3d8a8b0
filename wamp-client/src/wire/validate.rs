//! Type checks for the well-known keys of `Options` and `Details` dicts.
//!
//! Unknown keys are ignored, as the specification requires (routers send their own, such as
//! Crossbar's `x_cb_node`). A known key with a value of the wrong type is a protocol violation.

use crate::value::{Dict, Value};

/// What a well-known key must hold.
#[derive(Clone, Copy)]
enum Expect {
    Bool,
    Id,
    Integer,
    Str,
    IdList,
    StrList,
    DictList,
    OneOf(&'static [&'static str]),
    /// One of the choices, or a custom `x_...` name (as Autobahn's `is_valid_enc_algo`).
    OneOfOrCustom(&'static [&'static str]),
}

/// Every well-known Options/Details key of the messages that carry request options or delivery details.
/// No key has different types in different messages, so one table serves them all.
const KNOWN_KEYS: &[(&str, Expect)] = &[
    // PUBLISH options
    ("acknowledge", Expect::Bool),
    ("exclude_me", Expect::Bool),
    ("exclude", Expect::IdList),
    ("exclude_authid", Expect::StrList),
    ("exclude_authrole", Expect::StrList),
    ("eligible", Expect::IdList),
    ("eligible_authid", Expect::StrList),
    ("eligible_authrole", Expect::StrList),
    ("retain", Expect::Bool),
    ("disclose_me", Expect::Bool),
    // SUBSCRIBE / REGISTER options
    ("match", Expect::OneOf(&["exact", "prefix", "wildcard"])),
    ("get_retained", Expect::Bool),
    (
        "invoke",
        Expect::OneOf(&["single", "roundrobin", "random", "first", "last"]),
    ),
    ("disclose_caller", Expect::Bool),
    ("forward_timeout", Expect::Bool),
    // EVENT details
    ("publisher", Expect::Id),
    ("publisher_authid", Expect::Str),
    ("publisher_authrole", Expect::Str),
    ("topic", Expect::Str),
    ("retained", Expect::Bool),
    ("x_acknowledged_delivery", Expect::Bool),
    // CALL options, INVOCATION / RESULT details, YIELD options
    ("receive_progress", Expect::Bool),
    ("progress", Expect::Bool),
    ("timeout", Expect::Integer),
    ("caller", Expect::Id),
    ("caller_authid", Expect::Str),
    ("caller_authrole", Expect::Str),
    ("procedure", Expect::Str),
    // CANCEL / INTERRUPT options
    ("mode", Expect::OneOf(&["skip", "kill", "killnowait"])),
    // Router-to-router forwarding and end-to-end encryption (also seen on client links)
    ("transaction_hash", Expect::Str),
    ("forward_for", Expect::DictList),
    (
        "enc_algo",
        Expect::OneOfOrCustom(&["cryptobox", "mqtt", "xbr"]),
    ),
    ("enc_serializer", Expect::Str),
    ("ppt_scheme", Expect::Str),
    ("ppt_serializer", Expect::Str),
    ("ppt_cipher", Expect::Str),
    ("ppt_keyid", Expect::Str),
];

fn is_id(v: &Value) -> bool {
    matches!(v.as_u64(), Some(1..=super::message::MAX_ID)) && !matches!(v, Value::Float(_))
}

fn check(expect: Expect, value: &Value) -> Result<(), String> {
    let ok = match expect {
        Expect::Bool => matches!(value, Value::Bool(_)),
        Expect::Id => is_id(value),
        Expect::Integer => matches!(value, Value::UInt(_)),
        Expect::Str => matches!(value, Value::String(_)),
        Expect::IdList => value.as_list().is_some_and(|l| l.iter().all(is_id)),
        Expect::StrList => value
            .as_list()
            .is_some_and(|l| l.iter().all(|v| matches!(v, Value::String(_)))),
        Expect::DictList => value
            .as_list()
            .is_some_and(|l| l.iter().all(|v| matches!(v, Value::Dict(_)))),
        Expect::OneOf(choices) => value.as_str().is_some_and(|s| choices.contains(&s)),
        Expect::OneOfOrCustom(choices) => value
            .as_str()
            .is_some_and(|s| choices.contains(&s) || s.starts_with("x_")),
    };
    if ok {
        return Ok(());
    }
    let wanted = match expect {
        Expect::Bool => "a boolean".to_owned(),
        Expect::Id => "an id in 1..=2^53".to_owned(),
        Expect::Integer => "a non-negative integer".to_owned(),
        Expect::Str => "a string".to_owned(),
        Expect::IdList => "a list of ids".to_owned(),
        Expect::StrList => "a list of strings".to_owned(),
        Expect::DictList => "a list of dicts".to_owned(),
        Expect::OneOf(choices) => format!("one of {}", choices.join(", ")),
        Expect::OneOfOrCustom(choices) => {
            format!("one of {}, or a custom x_... name", choices.join(", "))
        }
    };
    Err(format!(
        "must be {wanted}, got {}",
        super::decode::describe(value)
    ))
}

/// Checks the well-known keys of an Options/Details dict. On failure returns the key and the problem.
pub(crate) fn check_known_keys(dict: &Dict) -> Result<(), (String, String)> {
    // The dictionary's entries (none or a few, usually) looked up among the known keys, not each
    // known key in the dictionary: this runs for every message received.
    for (key, value) in dict {
        if let Some((_, expect)) = KNOWN_KEYS.iter().find(|(known, _)| *known == key) {
            check(*expect, value).map_err(|problem| (key.clone(), problem))?;
        }
    }
    Ok(())
}
