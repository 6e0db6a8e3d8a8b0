//! The router's side of every method, driven by the client's own authenticators.

mod hostile;
mod methods;

use wampkit_client::auth::{AuthError, AuthSession, Authenticator, Challenge};
use wampkit_client::{Dict, SessionDetails, Value};

use super::{Authentication, Denied, Identity, Step};

/// Crossbar.io's test principals (scripts/crossbar/config.json, credentials.json).
mod crossbar {
    pub const TICKET: (&str, &str) = ("ticket-user", "ticket-secret-123");
    pub const CRA: (&str, &str) = ("cra-user", "cra-secret-123");
    pub const CRA_SALTED: (&str, &str) = ("cra-salted-user", "cra-salted-secret");
    pub const CRA_SALT: (&str, u32, u32) = ("salt123", 100, 32);
    pub const CS_USER: &str = "cs-user";
    pub const CS_PRIVATE_KEY: &str =
        "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c";
    pub const CS_PUBLIC_KEY: &str =
        "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b";
    pub const SCRAM: (&str, &str) = ("scram-user", "scram-secret-123");
    pub const SCRAM_SALT: &str = "5ff8f9fad4f6c5ca86341dacf4ca3eae";
    pub const SCRAM_STORED_KEY: &str =
        "02cb23c30751cd481d7f59cdb80499c6d9e6096756a7d9efa9f4fa9e9327864c";
    pub const SCRAM_SERVER_KEY: &str =
        "45a39bb0eb7239e01c8ece71a2e7e2cfef51df9a06e932cada1a8161eb186951";
}

/// How a join ended.
#[derive(Debug)]
enum Joined {
    Welcome(Identity),
    Denied(Denied),
    /// The client refused the router (e.g. a wrong SCRAM server signature).
    ClientRefused(AuthError),
}

impl Joined {
    #[track_caller]
    fn identity(self) -> Identity {
        match self {
            Joined::Welcome(identity) => identity,
            other => panic!("expected WELCOME, got {other:?}"),
        }
    }

    #[track_caller]
    fn denied(self, reason: &str) -> Denied {
        match self {
            Joined::Denied(denied) if denied.reason == reason => denied,
            other => panic!("expected ABORT {reason}, got {other:?}"),
        }
    }
}

/// HELLO as the client builds it from `offered` (in order of preference), then CHALLENGE and
/// AUTHENTICATE, then the client's check of WELCOME.
async fn join(auth: &Authentication, offered: &[&dyn Authenticator]) -> Joined {
    join_as(auth, offered, None).await
}

/// [`join`] with the HELLO's authid set explicitly (`Some("")` sends none).
async fn join_as(
    auth: &Authentication,
    offered: &[&dyn Authenticator],
    authid: Option<&str>,
) -> Joined {
    let mut sessions: Vec<(String, Box<dyn AuthSession>)> = offered
        .iter()
        .map(|a| (a.method().to_owned(), a.start().unwrap()))
        .collect();
    let mut details = Dict::new();
    let methods = sessions.iter().map(|(m, _)| Value::from(m.as_str()));
    details.insert("authmethods".into(), Value::List(methods.collect()));
    let authid = match authid {
        Some("") => None,
        Some(authid) => Some(authid.to_owned()),
        None => sessions.iter().find_map(|(_, s)| s.authid()),
    };
    if let Some(authid) = authid {
        details.insert("authid".into(), Value::from(authid));
    }
    let mut authextra = Dict::new();
    for (_, session) in &sessions {
        authextra.extend(session.authextra());
    }
    details.insert("authextra".into(), Value::Dict(authextra));

    let identity = match auth.hello("realm1", &details).await {
        Step::Deny(denied) => return Joined::Denied(denied),
        Step::Welcome(identity) => identity,
        Step::Challenge {
            method,
            extra,
            pending,
        } => {
            let (_, session) = sessions
                .iter_mut()
                .find(|(m, _)| *m == method)
                .expect("a challenge for an offered method");
            let response = match session.respond(&Challenge::new(method, extra)).await {
                Ok(response) => response,
                Err(e) => return Joined::ClientRefused(e),
            };
            match pending
                .authenticate(response.signature(), response.extra())
                .await
            {
                Ok(identity) => identity,
                Err(denied) => return Joined::Denied(denied),
            }
        }
    };
    let welcome = welcome_details(&identity);
    for (_, session) in &mut sessions {
        if let Err(e) = session.welcome(&welcome) {
            return Joined::ClientRefused(e);
        }
    }
    Joined::Welcome(identity)
}

/// What the client would read from WELCOME.
fn welcome_details(identity: &Identity) -> SessionDetails {
    let mut details = Dict::new();
    details.insert("authid".into(), Value::from(identity.authid.as_str()));
    details.insert("authrole".into(), Value::from(identity.authrole.as_str()));
    details.insert(
        "authmethod".into(),
        Value::from(identity.authmethod.as_str()),
    );
    details.insert(
        "authprovider".into(),
        Value::from(identity.authprovider.as_str()),
    );
    details.insert("authextra".into(), Value::Dict(identity.authextra.clone()));
    SessionDetails {
        session: 1,
        realm: "realm1".into(),
        authid: Some(identity.authid.clone()),
        authrole: Some(identity.authrole.clone()),
        authmethod: Some(identity.authmethod.clone()),
        authprovider: Some(identity.authprovider.clone()),
        router_agent: None,
        details,
    }
}

#[track_caller]
fn assert_identity(identity: &Identity, authid: &str, role: &str, method: &str, provider: &str) {
    assert_eq!(identity.authid, authid);
    assert_eq!(identity.authrole, role);
    assert_eq!(identity.authmethod, method);
    assert_eq!(identity.authprovider, provider);
}
