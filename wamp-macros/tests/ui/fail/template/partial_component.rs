use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(uri = "com.example.user{id}.rename")]
    async fn rename(&self, id: u64, name: String);
}

fn main() {}
