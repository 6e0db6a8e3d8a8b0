use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub struct DivError {
    pub reason: String,
}

fn main() {}
