//! A `{name}` parameter's type must be `Display` (callers format it into the URI) and `FromStr`
//! (the service parses it back): `UserId` is only `FromStr`.
use wampkit::service;

pub struct UserId(pub u64);

impl std::str::FromStr for UserId {
    type Err = std::num::ParseIntError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(UserId)
    }
}

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{id}.rename")]
    async fn rename(&self, id: UserId, name: String);
}

fn main() {}
