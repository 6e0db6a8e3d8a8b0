//! URIs chosen at run time: a trait without a prefix served and called under prefixes given at
//! run time, and URI templates whose `{name}` components are typed parameters.
#![deny(warnings)]

use wampkit::{CallError, NoError, Session};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Color {
    Red,
    Blue,
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Color::Red => "red",
            Color::Blue => "blue",
        })
    }
}

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "red" => Ok(Color::Red),
            "blue" => Ok(Color::Blue),
            other => Err(format!("unknown color `{other}`")),
        }
    }
}

/// No prefix: every relative URI is under the prefix given at run time.
#[wampkit::service]
pub trait Tenant {
    async fn add(&self, a: i64, b: i64) -> i64;

    /// `{prefix}.user.{id}.rename`.
    #[wamp(name = "user.{id}.rename")]
    async fn rename(&self, id: u64, name: String) -> String;

    /// A complete URI keeps it under every prefix.
    #[wamp(uri = "com.example.paint.{color}")]
    async fn paint(&self, color: Color, #[wamp(details)] details: wampkit::InvocationDetails);

    #[wamp(topic = "com.example.room.{room}.message")]
    async fn message(&self, room: String, text: String);

    /// A progressive procedure with a template.
    #[wamp(name = "count.{to}")]
    fn count(&self, to: u32) -> impl futures_util::Stream<Item = u32> + Send;
}

/// With a prefix: `new` and `register` use it, `with_prefix` replaces it.
#[wampkit::service(prefix = "com.example.calc")]
pub trait Calc {
    async fn add(&self, a: i64, b: i64) -> i64;

    #[wamp(uri = "com.example.user.{id}.rename")]
    async fn rename(&self, id: u64, #[wamp(kwargs)] change: std::collections::BTreeMap<String, String>) -> String;

    /// A pattern with a wildcard no parameter fills: registered, not callable.
    #[wamp(uri = "com.example..{id}.any", match = "wildcard")]
    async fn any(&self, id: u64) -> u64;
}

#[allow(dead_code)]
async fn calls(session: &Session) -> Result<(), CallError<NoError>> {
    let tenant = TenantClient::with_prefix(session, "com.acme.tenant42.calc")?;
    let _: i64 = tenant.add(1, 2).await?;
    let _: String = tenant.rename(42, "Ada".into()).await?;
    let (): () = tenant.paint(Color::Red).await?;
    let _: Option<wampkit::Id> = tenant.message("lobby".into(), "hi".into()).await?;
    let _ = tenant.count(3);
    let _: &str = tenant.prefix();

    let calc = CalcClient::new(session);
    let _: i64 = calc.add(1, 2).await?;
    let _: String = calc.rename(7, Default::default()).await?;
    let calc = CalcClient::with_prefix(session, "com.other.calc")?;
    let _: &str = calc.prefix();
    let _: &[&str] = CalcService::PROCEDURES;
    Ok(())
}

fn main() {}
