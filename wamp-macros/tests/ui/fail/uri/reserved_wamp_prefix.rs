use wampkit::service;

#[service(prefix = "com.example")]
pub trait Meta {
    #[wamp(uri = "wamp.session.count")]
    async fn count(&self) -> u64;
}

fn main() {}
