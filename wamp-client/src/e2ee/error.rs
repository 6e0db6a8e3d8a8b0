//! Why a payload could not be encoded or decoded.

/// Why an end-to-end encoded payload could not be encoded or decoded. It never carries key
/// material or payload bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadCodecError {
    /// The codec has no key for the URI (for this side: originator or responder).
    #[error("no end-to-end key for `{uri}`")]
    NoKey {
        /// The URI the payload was for.
        uri: String,
    },
    /// The payload did not decrypt: it was encrypted with another key, or changed on the way.
    #[error("the payload for `{uri}` does not decrypt: a wrong key, or tampered with")]
    Decrypt {
        /// The URI the payload was for.
        uri: String,
    },
    /// The payload's scheme or cipher is not one the codec reads.
    #[error("unknown payload scheme `{scheme}`")]
    UnknownScheme {
        /// The scheme (`enc_algo` or `ppt_scheme`, with `ppt_cipher` if any).
        scheme: String,
    },
    /// The serializer of the data inside is not one the codec reads.
    #[error("unknown payload serializer `{serializer}`")]
    UnknownSerializer {
        /// The `enc_serializer` or `ppt_serializer`.
        serializer: String,
    },
    /// The message or the decrypted data does not have the shape the scheme defines.
    #[error("malformed encoded payload: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The URI inside the payload is not the message's: the payload was made for another
    /// procedure, topic or error, and replayed here.
    #[error("the payload was encoded for `{inner}`, but arrived for `{envelope}`")]
    UriMismatch {
        /// The URI of the message.
        envelope: String,
        /// The URI inside the payload.
        inner: String,
    },
    /// A plain payload arrived for a URI the codec requires encoded (`KeyRing::require_encryption`).
    #[error("a plain payload arrived for `{uri}`, which is accepted only encrypted")]
    Unencoded {
        /// The URI the payload was for.
        uri: String,
    },
    /// The arguments could not be encoded.
    #[error("cannot encode the payload for `{uri}`: {reason}")]
    Encode {
        /// The URI the payload was for.
        uri: String,
        /// Why.
        reason: String,
    },
    /// The router did not announce the payload passthru mode for the role (`dealer` for calls,
    /// `broker` for publications): sending an encoded payload would be a protocol violation.
    #[error(
        "the router's {role} does not announce payload passthru mode \
         (`payload_passthru_mode` or `payload_transparency`); not sending an encoded payload for `{uri}`"
    )]
    RouterUnsupported {
        /// `dealer` or `broker`.
        role: &'static str,
        /// The procedure or topic.
        uri: String,
    },
    /// A key given to the key ring is not a valid key.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Why.
        reason: String,
    },
}

impl PayloadCodecError {
    /// The error URI a callee answers an INVOCATION with that it cannot decode (Autobahn's).
    pub(crate) fn error_uri(&self) -> &'static str {
        match self {
            PayloadCodecError::UriMismatch { .. } => "wamp.error.encryption.trusted_uri_mismatch",
            _ => "wamp.error.encryption.decrypt_error",
        }
    }
}
