//! Arbitrary frames from two clients, fed to an embedded router next to a well-behaved callee
//! and subscriber (see `wamp_client_fuzz::router_messages` for the input format). The router must
//! never panic or hang, must forget every departed session, and must keep serving.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wamp_client_fuzz::router_messages(data);
});
