use wampkit::service;

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(event)]
    async fn headline(&self, text: String) -> bool;
}

fn main() {}
