use wampkit::service;

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(event, kwargs)]
    async fn headline(&self, text: String);
}

fn main() {}
