//! The authentication settings of [`SessionBuilder`]: identity, methods and credentials.

use std::sync::Arc;

use super::SessionBuilder;
#[cfg(feature = "auth-cryptosign")]
use crate::auth::CryptoSign;
#[cfg(feature = "auth-scram")]
use crate::auth::Scram;
#[cfg(feature = "auth-wampcra")]
use crate::auth::WampCra;
use crate::auth::{Authenticator, Ticket};
use crate::value::Value;

/// Authentication. Methods are offered in the order they are added; the router picks one (see
/// [`auth`](crate::auth)). Without any, the session joins anonymously.
impl SessionBuilder {
    /// The `authid` to send in HELLO, overriding the one an authenticator would send.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// use wampkit::auth::Ticket;
    ///
    /// let token = std::fs::read_to_string("device.token").unwrap_or_default();
    /// let session = wampkit::Session::builder("wss://example.com/ws", "realm1")
    ///     .authid("device-17")
    ///     .authenticator(Ticket::new("device", token))
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn authid(mut self, authid: impl Into<String>) -> Self {
        self.auth.authid = Some(authid.into());
        self
    }

    /// The role to request in HELLO (`authrole`, understood by Crossbar.io and Autobahn; the
    /// router may refuse it with `wamp.error.no_such_role` or assign another).
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/ticket", "realm1")
    ///     .ticket("ticket-user", "ticket-secret-123")
    ///     .authrole("user")
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.details().authrole.as_deref(), Some("user"));
    /// # Ok(()) }
    /// ```
    pub fn authrole(mut self, authrole: impl Into<String>) -> Self {
        self.auth.authrole = Some(authrole.into());
        self
    }

    /// Adds an entry to HELLO's `authextra`, for a router's dynamic authenticator. The
    /// authenticators' own entries (`pubkey`, `nonce`, ...) take precedence.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("wss://example.com/ws", "realm1")
    ///     .ticket("alice", "a-token")
    ///     .authextra("tenant", "acme")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn authextra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.auth.authextra.insert(key.into(), value.into());
        self
    }

    /// Offers an authentication method. Repeatable: methods are offered in the order added
    /// (the router picks the first it accepts). See [`auth`](crate::auth) for the built-in
    /// methods and how to write your own.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// use wampkit::auth::{Anonymous, Ticket};
    ///
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/anyauth", "realm1")
    ///     .authenticator(Ticket::new("ticket-user", "ticket-secret-123"))
    ///     .authenticator(Anonymous)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn authenticator(mut self, authenticator: impl Authenticator + 'static) -> Self {
        self.auth.authenticators.push(Arc::new(authenticator));
        self
    }

    /// Offers ticket authentication ([`Ticket`]). The ticket travels in clear text: use TLS
    /// (`connect` logs a warning otherwise, unless the router is on the local machine).
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/ticket", "realm1")
    ///     .ticket("ticket-user", "ticket-secret-123")
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.details().authmethod.as_deref(), Some("ticket"));
    /// # Ok(()) }
    /// ```
    pub fn ticket(self, authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        self.authenticator(Ticket::new(authid, ticket))
    }

    /// Offers WAMP-CRA ([`WampCra`]), plain or salted (the router's challenge tells).
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/wampcra", "realm1")
    ///     .wampcra("cra-user", "cra-secret-123")
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.details().authid.as_deref(), Some("cra-user"));
    /// # Ok(()) }
    /// ```
    ///
    /// Available with the `auth-wampcra` feature.
    #[cfg(feature = "auth-wampcra")]
    #[cfg_attr(docsrs, doc(cfg(feature = "auth-wampcra")))]
    pub fn wampcra(self, authid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.authenticator(WampCra::new(authid, secret))
    }

    /// Offers cryptosign ([`CryptoSign`]) with an Ed25519 private key given as 64 hex digits.
    /// Without an `authid`, the router derives one from the public key.
    ///
    /// A malformed key makes [`connect`](SessionBuilder::connect) fail with
    /// [`Error::Authentication`](crate::Error::Authentication) (with a message saying what is
    /// wrong, never the key). Use [`CryptoSign::from_hex`] with
    /// [`authenticator`](SessionBuilder::authenticator) to check the key earlier, or for router
    /// authentication.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let key = std::env::var("WAMP_PRIVATE_KEY").unwrap_or_default();
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/cryptosign", "realm1")
    ///     .cryptosign(Some("cs-user"), &key)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// Available with the `auth-cryptosign` feature.
    #[cfg(feature = "auth-cryptosign")]
    #[cfg_attr(docsrs, doc(cfg(feature = "auth-cryptosign")))]
    pub fn cryptosign(mut self, authid: Option<&str>, private_key_hex: &str) -> Self {
        match CryptoSign::from_hex(private_key_hex) {
            Ok(mut authenticator) => {
                if let Some(authid) = authid {
                    authenticator = authenticator.authid(authid);
                }
                self.authenticator(authenticator)
            }
            Err(error) => {
                self.auth.error.get_or_insert(error);
                self
            }
        }
    }

    /// Offers WAMP-SCRAM ([`Scram`]) under Crossbar.io's method name `scram`; use
    /// [`Scram::wamp_scram`] with [`authenticator`](SessionBuilder::authenticator) for routers
    /// that follow the specification's `wamp-scram`.
    ///
    /// ```no_run
    /// # async fn demo() -> wampkit::Result<()> {
    /// let session = wampkit::Session::builder("ws://127.0.0.1:8080/scram", "realm1")
    ///     .scram("scram-user", "scram-secret-123")
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// Available with the `auth-scram` feature.
    #[cfg(feature = "auth-scram")]
    #[cfg_attr(docsrs, doc(cfg(feature = "auth-scram")))]
    pub fn scram(self, authid: impl Into<String>, password: impl Into<String>) -> Self {
        self.authenticator(Scram::new(authid, password))
    }
}
