use wampkit::{InvocationDetails, service};

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(event)]
    async fn headline(&self, text: String, details: InvocationDetails);
}

fn main() {}
