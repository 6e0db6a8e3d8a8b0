#!/usr/bin/env bash
# Checks wampkit's Cargo features: each feature alone compiles without warnings, the smallest
# useful build (`json`) passes clippy and its unit tests (among them the tests of the errors that
# name a disabled feature), every feature together compiles, the docs build without default
# features, and the `json` build's dependency tree holds none of the heavy optional crates.
#
# Usage: scripts/check-features.sh   (cargo check, not build: a few minutes on two cores.)
# CARGO_TARGET_DIR defaults to target/features, apart from the workspace's own target.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/features}"
# Warnings fail the checks: an import or helper that only one feature uses shows up only when
# that feature is off.
export RUSTFLAGS="${RUSTFLAGS:-} -D warnings"

FEATURES=(json msgpack cbor rawsocket tls tls-webpki-roots tls-native-roots auth-wampcra
          auth-cryptosign auth-scram macros proxy e2ee)
# What `json` alone must not compile.
HEAVY=(rustls ring webpki-roots rustls-native-certs rmp-serde ciborium argon2 pbkdf2 ed25519-dalek crypto_box)

step() { printf '\n== %s\n' "$*"; }

step "dependency tree of --no-default-features --features json"
tree=$(cargo tree -p wampkit -e normal --no-default-features --features json --prefix none)
found=()
for crate in "${HEAVY[@]}"; do
    if grep -q "^${crate} v" <<<"$tree"; then
        found+=("$crate")
    fi
done
if ((${#found[@]})); then
    echo "the json-only build pulls in: ${found[*]}" >&2
    exit 1
fi
echo "none of: ${HEAVY[*]}"

step "no feature at all"
cargo check -q -p wampkit-client --no-default-features

for feature in "${FEATURES[@]}"; do
    step "--no-default-features --features $feature"
    cargo check -q -p wampkit-client --no-default-features --features "$feature"
done

for combination in "json,tls-native-roots,rawsocket" "json,msgpack,cbor" "json,proxy,tls,rawsocket" \
                   "json,auth-wampcra,auth-cryptosign,auth-scram"; do
    step "--no-default-features --features $combination"
    cargo check -q -p wampkit-client --no-default-features --features "$combination"
done

step "docs without default features (no link to an item of a feature that is off)"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p wampkit-client --no-default-features --no-deps

step "default features"
cargo check -q -p wampkit-client

step "the wampkit facade: json alone, defaults, and with the embedded router"
cargo check -q -p wampkit --no-default-features --features json
cargo check -q -p wampkit
cargo check -q -p wampkit --features router

step "--all-features"
cargo check -q -p wampkit-client --all-features

step "clippy, --no-default-features --features json"
cargo clippy -q -p wampkit-client --no-default-features --features json -- -D warnings

step "unit tests, --no-default-features --features json"
cargo test -q -p wampkit-client --no-default-features --features json --lib

step "wampkit-client's own tests, alone, with its default features"
# In a workspace run, features unify; here a test that needs a feature must say so.
cargo test -q -p wampkit-client

step "rustdoc of each published crate alone, with its default features"
for crate in wampkit wampkit-client wampkit-macros wampkit-router; do
    RUSTDOCFLAGS="-D warnings" cargo doc -q -p "$crate" --no-deps
done

step "all feature checks passed"
