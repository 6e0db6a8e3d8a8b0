//! A trait with errors is still emitted as written (without `#[wamp]`), so its `impl`s and the
//! types it names do not add errors or warnings of their own: only the mistake is reported.
use wampkit::{EventDetails, InvocationDetails, service};

#[service(prefix = "com.example")]
pub trait News {
    #[wamp(event)]
    async fn headline(&self, #[wamp(kwargs)] text: String, details: EventDetails);

    async fn count(&self, (a, b): (u32, u32), details: InvocationDetails) -> u32;
}

pub struct Paper;

impl News for Paper {
    async fn headline(&self, _text: String, _details: EventDetails) {}

    async fn count(&self, (a, b): (u32, u32), _details: InvocationDetails) -> u32 {
        a + b
    }
}

fn main() {}
