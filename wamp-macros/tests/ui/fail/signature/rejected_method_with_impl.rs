use wampkit::service;

#[service(prefix = "com.example")]
pub trait Greeter {
    async fn greet(&self, name: &str) -> String;

    async fn ping(&self) -> bool;
}

pub struct English;

impl Greeter for English {
    async fn greet(&self, name: &str) -> String {
        format!("hello {name}")
    }

    async fn ping(&self) -> bool {
        true
    }
}

fn main() {}
