use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
#[wamp(crate = "::wampkit", crate = "::wampkit")]
pub enum DivError {
    #[wamp(uri = "com.example.error.division_by_zero")]
    DivisionByZero,
}

fn main() {}
