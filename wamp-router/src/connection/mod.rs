//! One client connection: the opening handshake, then the session's messages in and out.

use std::sync::Arc;

use wamp_client::Serializer;
use wamp_client::transport::Transport;

use crate::router::RouterInner;

/// Serves one connection until it ends.
pub(crate) async fn serve(
    _router: Arc<RouterInner>,
    _transport: Box<dyn Transport>,
    _serializer: Option<Serializer>,
    _peer: String,
) {
}
