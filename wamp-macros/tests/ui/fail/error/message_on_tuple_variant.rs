use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub enum DivError {
    #[wamp(uri = "com.example.error.not_a_number", message = "not a number")]
    NotANumber(String),
}

fn main() {}
