#!/usr/bin/env bash
# Packages and builds every published crate as crates.io would (`cargo publish --dry-run`), in
# dependency order: wampkit-macros, wampkit-client, wampkit-router, wampkit. Crates not yet on
# crates.io are taken from the packages made in the same run. Extra arguments go to cargo
# (e.g. --allow-dirty for a working tree with uncommitted changes).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/package-check}"
cargo publish --workspace --dry-run "$@"
