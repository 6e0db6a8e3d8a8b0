#[wampkit::service]
pub trait Rooms {
    #[wamp(topic = "com.example.Room.{room}.message")]
    async fn message(&self, room: String, text: String);

    #[wamp(topic = "com.example..{room}.joined")]
    async fn joined(&self, room: String);
}

fn main() {}
