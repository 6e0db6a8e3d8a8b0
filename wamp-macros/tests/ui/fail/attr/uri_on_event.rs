use wampkit::service;

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(event, uri = "com.example.headline")]
    async fn headline(&self, text: String);
}

fn main() {}
