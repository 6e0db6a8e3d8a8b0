use wamp_client::ApplicationError;

#[derive(Debug, ApplicationError)]
#[wamp(crate = "::wamp_client", crate = "::wamp_client")]
pub enum DivError {
    #[wamp(uri = "com.example.error.division_by_zero")]
    DivisionByZero,
}

fn main() {}
