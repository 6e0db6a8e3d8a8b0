use wampkit::service;

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(topic = "com.example.news")]
    async fn text(&self, text: String);

    #[wamp(topic = "com.example.news")]
    async fn html(&self, html: String);
}

fn main() {}
