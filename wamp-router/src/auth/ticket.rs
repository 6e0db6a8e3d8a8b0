//! `ticket`: the client's AUTHENTICATE carries the ticket itself.

use std::fmt;

use subtle::ConstantTimeEq as _;
use wampkit_client::Dict;

use super::store::Secret;
use super::{Denied, Found, Hello, Identity, PendingState, Step};

/// Waiting for the ticket of `found` (none for an unknown authid).
pub(super) struct Pending {
    method: String,
    found: Option<Found>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ticket::Pending")
            .field("authid", &self.found.as_ref().map(|p| &p.authid))
            .finish_non_exhaustive()
    }
}

/// `[4, "ticket", {}]` for a named authid, known or not.
pub(super) async fn hello(hello: Hello<'_>) -> Step {
    let Some(authid) = hello.authid else {
        return Step::Deny(Denied::not_authorized_because(
            "ticket authentication needs an authid",
        ));
    };
    let found = hello
        .auth
        .lookup(hello.realm, authid, super::AuthMethod::Ticket)
        .await;
    let pending = Pending {
        method: hello.method.to_owned(),
        found,
    };
    Step::challenge(hello.method, Dict::new(), PendingState::Ticket(pending))
}

impl Pending {
    pub(super) fn authenticate(self, signature: &str) -> Result<Identity, Denied> {
        let found = self.found.ok_or_else(Denied::not_authorized)?;
        let Secret::Ticket(ticket) = &found.credential.secret else {
            return Err(Denied::not_authorized());
        };
        if !bool::from(ticket.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(Denied::not_authorized());
        }
        Ok(found.identity(&self.method))
    }
}
