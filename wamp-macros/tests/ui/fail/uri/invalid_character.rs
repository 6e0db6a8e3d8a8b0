use wampkit::service;

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(topic = "com.example.breaking-news")]
    async fn breaking(&self, text: String);
}

fn main() {}
