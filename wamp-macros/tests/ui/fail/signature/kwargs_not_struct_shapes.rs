//! Every spelling that obviously cannot hold keyword arguments (a map) is rejected; structs,
//! maps and `wampkit::Value` are accepted (`pass/kwargs.rs`).
use wampkit::service;

#[service(prefix = "com.example")]
pub trait Search {
    async fn by_number(&self, #[wamp(kwargs)] limit: u32);
    async fn by_list(&self, #[wamp(kwargs)] words: Vec<String>);
    async fn by_pair(&self, #[wamp(kwargs)] pair: (String, u32));
    async fn by_array(&self, #[wamp(kwargs)] bytes: [u8; 4]);
    async fn by_option(&self, #[wamp(kwargs)] text: Option<String>);
    #[wamp(event)]
    async fn on_text(&self, #[wamp(kwargs)] text: Box<str>);
}

fn main() {}
