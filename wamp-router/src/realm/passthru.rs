//! Payload passthru mode: the router forwards an encoded payload untouched, with the options
//! that tell the receiver how to decode it (Autobahn's `enc_*`, the specification's `ppt_*`).

use wampkit_client::value::Dict;

/// The options of CALL, YIELD and PUBLISH that go on into the INVOCATION, RESULT and EVENT.
const PASSTHRU_KEYS: [&str; 7] = [
    "enc_algo",
    "enc_key",
    "enc_serializer",
    "ppt_scheme",
    "ppt_serializer",
    "ppt_cipher",
    "ppt_keyid",
];

/// The feature's names in WELCOME: the specification's, and Crossbar.io's.
pub(crate) const FEATURES: [&str; 2] = ["payload_passthru_mode", "payload_transparency"];

/// Copies the passthru options of a request into the details of what it becomes.
pub(crate) fn forward(options: &Dict, details: &mut Dict) {
    for key in PASSTHRU_KEYS {
        if let Some(value) = options.get(key) {
            details.insert(key.to_owned(), value.clone());
        }
    }
}
