//! Joining over a transport given by the application instead of one opened from the URL.

use std::future::Future;
use std::sync::Mutex;

use super::{Session, SessionBuilder};
use crate::error::Result;
use crate::transport::{Transport, TransportError, TransportFactory};

impl SessionBuilder {
    /// Joins the realm over `transport` instead of connecting to the URL, and starts the session
    /// task on the current Tokio runtime.
    ///
    /// The messages travel encoded with the builder's first [serializer](Self::serializer)
    /// (JSON by default); the URL only names the connection in logs and errors. Everything
    /// else (authentication, timeouts, bounds) works as with [`connect`](Self::connect); the
    /// settings of the built-in transports (TLS, WebSocket, keepalive,
    /// [`max_message_size`](Self::max_message_size)) do not apply: limiting what it receives is
    /// the transport's business. A transport is used
    /// once: with a [reconnect policy](Self::reconnect), every reconnect attempt fails; use
    /// [`connect_with_factory`](Self::connect_with_factory) to reconnect.
    ///
    /// See [`transport::memory`](crate::transport::memory) for an example.
    pub async fn connect_with(self, transport: impl Transport + 'static) -> Result<Session> {
        let slot = Mutex::new(Some(transport));
        self.connect_with_factory(move || {
            let transport = match slot.lock() {
                Ok(mut slot) => slot.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            async move {
                transport.ok_or_else(|| {
                    TransportError::new(
                        "the transport given to connect_with was used already; reconnecting \
                         needs connect_with_factory",
                    )
                })
            }
        })
        .await
    }

    /// Joins the realm over a transport that `factory` opens, and starts the session task on
    /// the current Tokio runtime. With a [reconnect policy](Self::reconnect), every reconnect
    /// attempt calls `factory` again for a new transport; an `Err` counts as a failed attempt.
    ///
    /// As with [`connect_with`](Self::connect_with), messages are encoded with the builder's
    /// first serializer and the URL only names the connection.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wampkit::transport::memory;
    /// use wampkit::{ReconnectPolicy, Serializer, Session};
    ///
    /// // Each connection's router end goes to whoever plays the router.
    /// let (accept, mut routers) = tokio::sync::mpsc::unbounded_channel();
    /// let builder = Session::builder("memory://router", "realm1")
    ///     .serializer(Serializer::Json)
    ///     .reconnect(ReconnectPolicy::default());
    /// let connecting = tokio::spawn(builder.connect_with_factory(move || {
    ///     let (client, router) = memory::pair(Serializer::Json);
    ///     let sent = accept.send(router);
    ///     async move {
    ///         sent.map_err(|_| wampkit::transport::TransportError::new("no router"))?;
    ///         Ok(client)
    ///     }
    /// }));
    /// let mut router = routers.recv().await.unwrap();
    /// let hello = router.recv().await;
    /// assert!(matches!(hello, Some(Ok(wampkit::wire::Message::Hello { .. }))));
    /// # connecting.abort();
    /// # }
    /// ```
    pub async fn connect_with_factory<F, Fut, T>(mut self, factory: F) -> Result<Session>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, TransportError>> + Send + 'static,
        T: Transport + 'static,
    {
        self.transport.factory = Some(TransportFactory::new(factory));
        self.connect().await
    }
}
