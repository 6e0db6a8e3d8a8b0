//! Ticket-based authentication: the ticket itself is the answer to the challenge.

use std::fmt;

use super::{AuthError, AuthFuture, AuthResponse, AuthSession, Authenticator, Challenge, Secret};

/// The `ticket` method: HELLO carries the `authid`, the router answers with
/// `[4, "ticket", {}]`, and the client sends the ticket (a password or token) as the signature.
///
/// The ticket travels in clear text, so use it over TLS (`wss://`, `rss://`) only:
/// [`connect`](crate::SessionBuilder::connect) logs a warning when it is offered without TLS to
/// a host other than the local machine. `Debug` does not show it. For a ticket obtained at connect time, implement
/// [`Authenticator`] yourself (see the [module docs](super)).
///
/// ```no_run
/// # async fn demo() -> wampkit::Result<()> {
/// use wampkit::auth::Ticket;
///
/// let session = wampkit::Session::builder("wss://example.com/ws", "realm1")
///     .authenticator(Ticket::new("ticket-user", "ticket-secret-123"))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Ticket {
    authid: String,
    ticket: Secret,
}

impl Ticket {
    /// A ticket for `authid`.
    pub fn new(authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        Ticket {
            authid: authid.into(),
            ticket: Secret::new(ticket),
        }
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("authid", &self.authid)
            .field("ticket", &self.ticket)
            .finish()
    }
}

impl Authenticator for Ticket {
    fn method(&self) -> &str {
        "ticket"
    }

    fn start(&self) -> Result<Box<dyn AuthSession>, AuthError> {
        Ok(Box::new(self.clone()))
    }
}

impl AuthSession for Ticket {
    fn authid(&self) -> Option<String> {
        Some(self.authid.clone())
    }

    fn respond<'a>(
        &'a mut self,
        _challenge: &'a Challenge,
    ) -> AuthFuture<'a, Result<AuthResponse, AuthError>> {
        let response = AuthResponse::new(self.ticket.expose());
        Box::pin(async move { Ok(response) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Dict;

    #[tokio::test]
    async fn answers_with_the_ticket_and_hides_it() {
        let ticket = Ticket::new("ticket-user", "ticket-secret-123");
        assert!(!format!("{ticket:?}").contains("ticket-secret-123"));
        let mut session = ticket.start().unwrap();
        assert_eq!(session.authid().as_deref(), Some("ticket-user"));
        let response = session
            .respond(&Challenge::new("ticket", Dict::new()))
            .await
            .unwrap();
        assert_eq!(response.signature(), "ticket-secret-123");
        assert!(response.extra().is_empty());
        assert!(!format!("{response:?}").contains("ticket-secret-123"));
    }
}
