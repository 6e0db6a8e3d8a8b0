use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{id}.rename.{id}")]
    async fn rename(&self, id: u64, name: String);
}

fn main() {}
