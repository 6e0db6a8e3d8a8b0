use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
#[wamp(prefix = "com.example.error")]
pub enum DivError {
    #[wamp(uri = "com.example.error.division_by_zero")]
    DivisionByZero,
}

fn main() {}
