//! Arbitrary frames, as a router would send them after WELCOME, fed to a real `Session` with a
//! call, a subscription, a registration and an acknowledged publication pending (see
//! `wamp_client_fuzz::session_messages` for the input format). The session must never panic and
//! never hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wamp_client_fuzz::session_messages(data);
});
