//! End-to-end encoded payloads at the session task: outgoing arguments are sealed by the
//! session's payload codec before their message is built, received ones are opened before the
//! result, invocation or event that carries them is (see [`crate::e2ee`]).

use super::SessionTask;
use crate::e2ee::{PayloadCodecError, PayloadRole, attach, check_route, take_encoded};
use crate::value::{Dict, Value};
use crate::wire::Payload;

impl SessionTask {
    /// The payload for an outgoing message about `uri`: encoded (and its options added to
    /// `options`) if the codec has a key for it, plain otherwise. `router_role` names the
    /// router role (`dealer`, `broker`) that must have announced the passthru mode for an
    /// originator's message.
    pub(super) fn seal(
        &self,
        role: PayloadRole,
        router_role: &'static str,
        uri: &str,
        options: &mut Dict,
        payload: Payload,
    ) -> Result<Payload, PayloadCodecError> {
        let Some(codec) = &self.codec else {
            return Ok(payload);
        };
        let (args, kwargs) = payload.into_parts();
        // A responder answers what the router forwarded encoded: only an originator's request
        // needs the router's announcement.
        if role == PayloadRole::Originator {
            let details = || self.shared.upgrade().map(|shared| shared.current().details);
            check_route(&**codec, uri, router_role, details)?;
        }
        match codec.encode(role, uri, &args, &kwargs)? {
            Some(encoded) => Ok(attach(encoded, codec.wire_form(), options)),
            None => Ok(Payload::new(args, kwargs)),
        }
    }

    /// Opens a received payload about `uri` in place: `Ok(true)` if it was encoded and now
    /// holds the plain arguments, `Ok(false)` if it was plain (or the session has no codec, in
    /// which case an encoded payload stays one binary argument). With `strict`, a plain payload
    /// the codec requires encoded is an error (not for ERRORs: the router makes some of its
    /// own). On an error the arguments are emptied: nothing undecoded reaches the application.
    pub(super) fn open(
        &self,
        role: PayloadRole,
        strict: bool,
        uri: &str,
        details: &Dict,
        args: &mut Vec<Value>,
        kwargs: &mut Dict,
    ) -> Result<bool, PayloadCodecError> {
        let Some(codec) = &self.codec else {
            return Ok(false);
        };
        let opened = match take_encoded(details, args, kwargs) {
            None if strict && codec.requires_encoding(role, uri) => {
                Err(PayloadCodecError::Unencoded {
                    uri: uri.to_owned(),
                })
            }
            None => return Ok(false),
            Some(encoded) => encoded.and_then(|encoded| codec.decode(role, uri, &encoded)),
        };
        let decoded = opened.and_then(|decoded| match decoded.uri.as_deref() {
            Some(inner) if inner != uri => Err(PayloadCodecError::UriMismatch {
                envelope: uri.to_owned(),
                inner: inner.to_owned(),
            }),
            _ => Ok(decoded),
        });
        match decoded {
            Ok(decoded) => {
                *args = decoded.args;
                *kwargs = decoded.kwargs;
                Ok(true)
            }
            Err(error) => {
                args.clear();
                kwargs.clear();
                tracing::warn!(uri, %error, "a received payload cannot be decoded");
                Err(error)
            }
        }
    }

    /// [`open`](Self::open) for a whole received payload. A raw one is plain (the fast path
    /// leaves encoded payloads to the general decoder): it is only checked against a codec
    /// that requires encoding, and emptied if it fails that check.
    ///
    /// Inlined where it is called, the usual case (no codec) costs a test there, not a call
    /// returning its (large) result through memory for every received message.
    #[inline]
    pub(super) fn open_payload(
        &self,
        role: PayloadRole,
        strict: bool,
        uri: &str,
        details: &Dict,
        payload: &mut Payload,
    ) -> Result<bool, PayloadCodecError> {
        if self.codec.is_none() {
            return Ok(false);
        }
        self.open_payload_with_codec(role, strict, uri, details, payload)
    }

    fn open_payload_with_codec(
        &self,
        role: PayloadRole,
        strict: bool,
        uri: &str,
        details: &Dict,
        payload: &mut Payload,
    ) -> Result<bool, PayloadCodecError> {
        if let Payload::Raw(_) = payload {
            let result = self.open(
                role,
                strict,
                uri,
                details,
                &mut Vec::new(),
                &mut Dict::new(),
            );
            if result.is_err() {
                *payload = Payload::Empty;
            }
            return result;
        }
        let (mut args, mut kwargs) = std::mem::take(payload).into_parts();
        let result = self.open(role, strict, uri, details, &mut args, &mut kwargs);
        *payload = Payload::new(args, kwargs);
        result
    }
}
