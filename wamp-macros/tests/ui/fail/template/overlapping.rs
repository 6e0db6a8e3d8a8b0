use wampkit::service;

#[service(prefix = "com.example")]
pub trait Users {
    #[wamp(name = "user.{id}.rename")]
    async fn rename(&self, id: u64, name: String);

    /// Matches `com.example.user.admin.rename` too.
    #[wamp(name = "{group}.admin.rename")]
    async fn rename_admin(&self, group: String, name: String);

    /// The same pattern as `rename`.
    #[wamp(name = "user.{name}.rename")]
    async fn rename_by_name(&self, name: String);
}

fn main() {}
