#!/usr/bin/env bash
# Runs every test: the workspace's tests, with the end-to-end suites against Crossbar.io (the
# reference router, installed into a cached venv on first use), then the end-to-end suites
# (tests/*.rs of the root package) again against the embedded router, wamp-router.
# Arguments go to both runs of `cargo test` (e.g. `-- --nocapture`).
set -euo pipefail
cd "$(dirname "$0")/.."

printf '\n== all tests; end-to-end suites against Crossbar.io\n'
WAMP_TEST_ROUTER=crossbar cargo test --workspace "$@"

printf '\n== end-to-end suites against the embedded router\n'
WAMP_TEST_ROUTER=embedded cargo test -p wamp-workspace --test '*' "$@"
