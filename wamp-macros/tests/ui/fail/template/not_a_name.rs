use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{}.rename")]
    async fn rename(&self, id: u64, name: String);

    #[wamp(name = "user.{user id}.delete")]
    async fn delete(&self, id: u64);
}

fn main() {}
