//! Writes the seed corpus: `cargo run --example seeds` (from `fuzz/`) fills `corpus/<target>/`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds = wamp_client_fuzz::seeds();
    for (index, (target, input)) in seeds.iter().enumerate() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{index:03}")), input)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), root.display());
    Ok(())
}
