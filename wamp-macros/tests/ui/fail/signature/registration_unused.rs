//! A registration left unused is a warning (an error here) whose message says how to keep it:
//! rustc's own help suggests `let _ = ...`, which would drop it at once.
#![deny(unused_must_use)]

use wampkit::{Result, Session, service};

/// An inventory.
#[service(prefix = "com.example.inventory")]
pub trait Inventory {
    /// How many items are in stock.
    async fn count(&self) -> u32;
}

struct Shelf;

impl Inventory for Shelf {
    async fn count(&self) -> u32 {
        0
    }
}

async fn serve(session: &Session) -> Result<()> {
    InventoryService::register(session, Shelf).await?;
    Ok(())
}

fn main() {
    let _ = serve;
}
