use wampkit::service;

#[service(prefix = "com.example")]
pub trait Store<T> {
    async fn get(&self, key: String) -> Option<String>;
}

fn main() {}
