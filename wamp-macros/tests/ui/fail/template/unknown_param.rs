use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{uid}.rename")]
    async fn rename(&self, id: u64, name: String);
}

fn main() {}
