use wampkit::ApplicationError;

#[derive(Debug, ApplicationError)]
pub enum DivError<T> {
    #[wamp(uri = "com.example.error.not_a_number")]
    NotANumber(T),
}

fn main() {}
