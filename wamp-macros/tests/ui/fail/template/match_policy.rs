use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{id}", match = "prefix")]
    async fn anything(&self, id: u64);

    #[wamp(name = "user.{id}.get", match = "exact")]
    async fn get(&self, id: u64);
}

fn main() {}
