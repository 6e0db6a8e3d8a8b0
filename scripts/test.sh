#!/usr/bin/env bash
# Runs every test: the workspace's tests, with the end-to-end suites against Crossbar.io (the
# reference router, installed into a cached venv on first use), then the end-to-end suites
# (tests/*.rs of the root package) again against the embedded router, wampkit-router.
# Arguments go to both runs of `cargo test` (e.g. `-- --nocapture`).
set -euo pipefail
cd "$(dirname "$0")/.."

# tests/proxy.rs tunnels through a real HTTP proxy, Debian's tinyproxy.
if ! command -v tinyproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/tinyproxy ]; then
    printf '\n== installing tinyproxy (for tests/proxy.rs)\n'
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq tinyproxy >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq tinyproxy >/dev/null; } ||
        printf 'cannot install tinyproxy: the tests of tests/proxy.rs will fail\n' >&2
fi

# The routers under test listen on 127.0.0.1, which a proxy named by HTTP_PROXY would carry too.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

printf '\n== all tests; end-to-end suites against Crossbar.io\n'
WAMP_TEST_ROUTER=crossbar cargo test --workspace "$@"

printf '\n== end-to-end suites against the embedded router\n'
WAMP_TEST_ROUTER=embedded cargo test -p wamp-workspace --test '*' "$@"
