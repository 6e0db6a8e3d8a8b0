//! Payload passthru mode: the router announces it, and forwards encoded payloads with their
//! options (CALL to INVOCATION, YIELD to RESULT, PUBLISH to EVENT, retained events too), on
//! every serializer. The sessions use a codec of the test's own that marks payloads without
//! encrypting them: only the router's forwarding is under test.
#![cfg(test)]

use std::time::Duration;

use futures_util::StreamExt;
use wampkit::e2ee::{DecodedPayload, EncodedPayload, PayloadCodec, PayloadCodecError, PayloadRole};
use wampkit::{Arguments, Dict, Invocation, Serializer, Session, Value};
use wampkit_router::Router;

const LIMIT: Duration = Duration::from_secs(10);

/// Encodes every URI under `com.hidden.` as the JSON text of its arguments.
#[derive(Debug)]
struct JsonCodec;

impl PayloadCodec for JsonCodec {
    fn encodes(&self, _role: PayloadRole, uri: &str) -> bool {
        uri.starts_with("com.hidden.")
    }

    fn encode(
        &self,
        role: PayloadRole,
        uri: &str,
        args: &[Value],
        _kwargs: &Dict,
    ) -> Result<Option<EncodedPayload>, PayloadCodecError> {
        Ok(self.encodes(role, uri).then(|| EncodedPayload {
            scheme: "x_json".into(),
            serializer: "json".into(),
            cipher: None,
            key_id: None,
            bytes: serde_json::to_vec(&Value::List(args.to_vec())).expect("JSON"),
        }))
    }

    fn decode(
        &self,
        _role: PayloadRole,
        _uri: &str,
        payload: &EncodedPayload,
    ) -> Result<DecodedPayload, PayloadCodecError> {
        let args: Vec<Value> =
            serde_json::from_slice(&payload.bytes).map_err(|e| PayloadCodecError::Malformed {
                reason: e.to_string(),
            })?;
        Ok(DecodedPayload {
            uri: None,
            args,
            kwargs: Dict::new(),
        })
    }
}

async fn join(router: &Router, serializer: Serializer) -> Session {
    let builder = Session::builder("memory://test", "realm1")
        .serializer(serializer)
        .payload_codec(JsonCodec);
    tokio::time::timeout(LIMIT, router.join(builder))
        .await
        .expect("join in time")
        .expect("join")
}

#[tokio::test]
async fn encoded_payloads_travel_with_their_options() {
    let router = Router::builder().realm("realm1").build();
    for serializer in Serializer::ALL {
        let callee = join(&router, serializer).await;
        for role in ["dealer", "broker"] {
            for feature in ["payload_passthru_mode", "payload_transparency"] {
                assert!(
                    callee.details().router_supports(role, feature),
                    "{role} {feature}"
                );
            }
        }
        let _registration = callee
            .register("com.hidden.echo", |inv: Invocation| async move {
                // Decoded: the INVOCATION carried the CALL's enc_algo.
                assert_eq!(inv.details.get("enc_algo"), Some(&Value::from("x_json")));
                Ok(Arguments {
                    args: inv.arguments().args,
                    kwargs: Dict::new(),
                })
            })
            .await
            .expect("register");
        let caller = join(&router, serializer).await;
        let result = tokio::time::timeout(LIMIT, caller.call("com.hidden.echo", (1, "two")))
            .await
            .expect("in time")
            .expect("a result");
        assert_eq!(result.details.get("enc_algo"), Some(&Value::from("x_json")));
        assert_eq!(
            result.arguments().args,
            vec![Value::from(1), Value::from("two")]
        );

        let topic = format!("com.hidden.news.{}", serializer.name());
        let mut events = callee.subscribe(&topic).await.expect("subscribe");
        caller
            .publish(&topic, ("fresh",))
            .retain()
            .acknowledge()
            .await
            .expect("publish");
        let event = tokio::time::timeout(LIMIT, events.next())
            .await
            .expect("in time")
            .expect("an event");
        assert_eq!(event.details.get("enc_algo"), Some(&Value::from("x_json")));
        assert_eq!(event.arg::<String>(0).expect("decoded"), "fresh");

        // A later subscriber gets the retained event, options and all.
        let mut retained = caller
            .subscribe(&topic)
            .get_retained()
            .await
            .expect("subscribe");
        let event = tokio::time::timeout(LIMIT, retained.next())
            .await
            .expect("in time")
            .expect("the retained event");
        assert!(event.retained());
        assert_eq!(event.arg::<String>(0).expect("decoded"), "fresh");
    }
}
