use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub enum DivError {
    #[wamp(uri = "com.example.error.invalid")]
    DivisionByZero,
    #[wamp(uri = "com.example.error.invalid")]
    NotANumber,
}

fn main() {}
