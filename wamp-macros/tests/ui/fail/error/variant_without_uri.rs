use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub enum DivError {
    #[wamp(uri = "com.example.error.division_by_zero")]
    DivisionByZero,
    NotANumber,
}

fn main() {}
