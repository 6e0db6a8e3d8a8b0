use wampkit::ApplicationError;

#[derive(Debug)]
pub struct Operand(pub f64);

#[derive(Debug, ApplicationError)]
pub enum DivError {
    #[wamp(uri = "com.example.error.bad_operand")]
    BadOperand(Operand),
}

fn main() {}
