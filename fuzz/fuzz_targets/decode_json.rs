//! `Serializer::Json.decode` on arbitrary bytes: it never panics, and whatever decodes encodes
//! again and decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wampkit::Serializer;

fuzz_target!(|data: &[u8]| {
    wamp_client_fuzz::decode_round_trip(Serializer::Json, data);
});
