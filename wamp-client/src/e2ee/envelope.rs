//! How an encoded payload travels: its options (`enc_*` or `ppt_*`) and its place in the
//! message, in both wire forms.

use super::{EncodedPayload, PayloadCodecError, WireForm};
use crate::value::{Dict, Value};
use crate::wire::Payload;

/// Autobahn's name for the `wamp` scheme with the XSalsa20-Poly1305 cipher.
const CRYPTOBOX: &str = "cryptobox";
/// The specification's scheme for end-to-end encryption.
pub(crate) const WAMP_SCHEME: &str = "wamp";
/// The cipher of a NaCl box.
pub(crate) const XSALSA20POLY1305: &str = "xsalsa20poly1305";

/// Puts `encoded` into a message's options (or details) in `form`, and gives the payload that
/// ends the message.
pub(crate) fn attach(encoded: EncodedPayload, form: WireForm, options: &mut Dict) -> Payload {
    let EncodedPayload {
        scheme,
        serializer,
        cipher,
        key_id,
        bytes,
    } = encoded;
    match form {
        WireForm::Autobahn => {
            let algo = if scheme == WAMP_SCHEME && cipher.as_deref() == Some(XSALSA20POLY1305) {
                CRYPTOBOX.to_owned()
            } else {
                scheme
            };
            options.insert("enc_algo".into(), Value::String(algo));
            options.insert("enc_serializer".into(), Value::String(serializer));
            if let Some(key_id) = key_id {
                options.insert("enc_key".into(), Value::String(key_id));
            }
            Payload::Transparent(bytes)
        }
        WireForm::Passthru => {
            options.insert("ppt_scheme".into(), Value::String(scheme));
            options.insert("ppt_serializer".into(), Value::String(serializer));
            if let Some(cipher) = cipher {
                options.insert("ppt_cipher".into(), Value::String(cipher));
            }
            if let Some(key_id) = key_id {
                options.insert("ppt_keyid".into(), Value::String(key_id));
            }
            Payload::Args {
                args: vec![Value::Bytes(bytes)],
                kwargs: Dict::new(),
            }
        }
    }
}

/// The encoded payload of a received message whose details carry `enc_algo` or `ppt_scheme`,
/// taken out of its arguments (`None` for a plain message, whose arguments stay as they are).
pub(crate) fn take_encoded(
    details: &Dict,
    args: &mut Vec<Value>,
    kwargs: &Dict,
) -> Option<Result<EncodedPayload, PayloadCodecError>> {
    let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
    let (scheme, serializer, cipher, key_id) = if let Some(algo) = text("enc_algo") {
        let (scheme, cipher) = if algo == CRYPTOBOX {
            (WAMP_SCHEME.to_owned(), Some(XSALSA20POLY1305.to_owned()))
        } else {
            (algo, None)
        };
        (scheme, text("enc_serializer"), cipher, text("enc_key"))
    } else if let Some(scheme) = text("ppt_scheme") {
        (
            scheme,
            text("ppt_serializer"),
            text("ppt_cipher"),
            text("ppt_keyid"),
        )
    } else {
        return None;
    };
    let bytes = match (args.as_mut_slice(), kwargs.is_empty()) {
        ([Value::Bytes(bytes)], true) => std::mem::take(bytes),
        _ => {
            return Some(Err(PayloadCodecError::Malformed {
                reason: "an encoded payload must be exactly one binary element".into(),
            }));
        }
    };
    args.clear();
    Some(Ok(EncodedPayload {
        scheme,
        // Autobahn leaves out nothing; the specification's default serializer is the session's
        // own, which this client does not use for encoded payloads.
        serializer: serializer.unwrap_or_else(|| "native".to_owned()),
        cipher,
        key_id,
        bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded() -> EncodedPayload {
        EncodedPayload {
            scheme: WAMP_SCHEME.into(),
            serializer: "json".into(),
            cipher: Some(XSALSA20POLY1305.into()),
            key_id: None,
            bytes: vec![1, 2, 3],
        }
    }

    fn round_trip(form: WireForm) -> (Dict, Payload, EncodedPayload) {
        let mut options = Dict::new();
        let payload = attach(encoded(), form, &mut options);
        let (mut args, kwargs) = payload.clone().into_parts();
        let back = take_encoded(&options, &mut args, &kwargs);
        assert!(args.is_empty());
        match back {
            Some(Ok(back)) => (options, payload, back),
            other => unreachable!("not read back: {other:?}"),
        }
    }

    #[test]
    fn the_autobahn_form_is_enc_algo_cryptobox_and_a_bare_binary_payload() {
        let (options, payload, back) = round_trip(WireForm::Autobahn);
        assert_eq!(options.get("enc_algo"), Some(&Value::from("cryptobox")));
        assert_eq!(options.get("enc_serializer"), Some(&Value::from("json")));
        assert!(!options.contains_key("enc_key"));
        assert_eq!(payload, Payload::Transparent(vec![1, 2, 3]));
        assert_eq!(back, encoded());
    }

    #[test]
    fn the_passthru_form_is_ppt_options_and_one_binary_argument() {
        let (options, payload, back) = round_trip(WireForm::Passthru);
        assert_eq!(options.get("ppt_scheme"), Some(&Value::from("wamp")));
        assert_eq!(options.get("ppt_serializer"), Some(&Value::from("json")));
        assert_eq!(
            options.get("ppt_cipher"),
            Some(&Value::from("xsalsa20poly1305"))
        );
        assert_eq!(
            payload,
            Payload::new(vec![Value::Bytes(vec![1, 2, 3])], Dict::new())
        );
        assert_eq!(back, encoded());
    }

    #[test]
    fn plain_messages_are_left_alone_and_odd_shapes_are_malformed() {
        let mut args = vec![Value::from(1)];
        assert!(take_encoded(&Dict::new(), &mut args, &Dict::new()).is_none());
        assert_eq!(args, vec![Value::from(1)]);

        let mut details = Dict::new();
        details.insert("ppt_scheme".into(), Value::from("wamp"));
        let malformed = take_encoded(&details, &mut args, &Dict::new());
        assert!(matches!(
            malformed,
            Some(Err(PayloadCodecError::Malformed { .. }))
        ));
    }
}
