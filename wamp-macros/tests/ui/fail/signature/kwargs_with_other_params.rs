use serde::Deserialize;
use wampkit::service;

#[derive(Deserialize, serde::Serialize)]
pub struct Options {
    pub verbose: bool,
}

#[service(prefix = "com.example")]
pub trait Search {
    async fn find(&self, text: String, #[wamp(kwargs)] options: Options) -> Vec<String>;
}

fn main() {}
