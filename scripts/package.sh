#!/usr/bin/env bash
# Packages and builds every published crate as crates.io would (`cargo publish --dry-run`), in
# dependency order: wampkit-macros, wampkit-client, wampkit-router, wampkit. Crates not yet on
# crates.io are taken from the packages made in the same run. Extra arguments go to cargo
# (e.g. --allow-dirty for a working tree with uncommitted changes).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/package-check}"
# Each package made here is unpacked into cargo's registry sources, to build the crates that
# depend on it, under the same name and version every run; cargo uses a copy unpacked by an
# earlier run as it is, stale (an earlier version of the sources). Remove those copies first.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/*/wampkit-[0-9]* \
    "$cargo_home"/registry/src/*/wampkit-{client,macros,router}-[0-9]*
cargo publish --workspace --dry-run "$@"
