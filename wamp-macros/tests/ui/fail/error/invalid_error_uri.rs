use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub enum DivError {
    #[wamp(uri = "com.example.error.DivisionByZero")]
    DivisionByZero,
}

fn main() {}
