use wampkit::service;

#[service(prefix = "com.example.account")]
pub trait Account {
    async fn new(&self, owner: String) -> u64;
}

fn main() {}
