#!/usr/bin/env bash
# Runs the demo: examples/demo.rs (a callee, a caller, a publisher and a subscriber) talking
# through a WAMP router.
#
# Usage:
#   scripts/demo.sh               the embedded router (examples/router.rs) on a free port; Rust only
#   scripts/demo.sh --crossbar    a local Crossbar.io on free ports instead (installed into a cached
#                                 Python venv on first use; see scripts/crossbar.sh)
#   WAMP_URL=ws://HOST:PORT/ws scripts/demo.sh
#                                 a router already running at that URL
# WAMP_REALM names the realm (realm1 by default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

realm=${WAMP_REALM:-realm1}
router_kind=embedded
case "${1:-}" in
    "") ;;
    --crossbar) router_kind=crossbar ;;
    *)
        echo "usage: scripts/demo.sh [--crossbar]   (or WAMP_URL=ws://... scripts/demo.sh)" >&2
        exit 2
        ;;
esac
if [[ -n "${WAMP_URL:-}" ]]; then
    router_kind=external
fi

# Build first, so the router is not kept waiting on the compiler.
cargo build --quiet --example demo --example router

router=
ready=$(mktemp)
stop_router() {
    if [[ -n "$router" ]]; then
        kill "$router" 2>/dev/null || true
        wait "$router" 2>/dev/null || true
        router=
    fi
    rm -f "$ready"
}
trap stop_router EXIT

# Waits until the router started in the background has printed a line matching $1.
wait_for() {
    local deadline=$((SECONDS + 300))
    until grep -q "$1" "$ready"; do
        if ! kill -0 "$router" 2>/dev/null || ((SECONDS > deadline)); then
            echo "demo: the router did not start" >&2
            exit 1
        fi
        sleep 0.2
    done
}

case "$router_kind" in
    external)
        url=$WAMP_URL
        echo "using the router at $url" >&2
        ;;
    embedded)
        # Port 0: the router picks a free port and prints the URL it listens on.
        cargo run --quiet --example router -- --listen ws://127.0.0.1:0/ws --realm "$realm" \
            > "$ready" &
        router=$!
        wait_for '^ready$'
        url=$(sed -n 's/^listening on //p' "$ready" | head -n 1)
        echo "started the embedded router on $url" >&2
        ;;
    crossbar)
        # Three free ports (WebSocket, RawSocket, authenticated RawSocket), so no other router
        # is disturbed.
        read -r port raw raw_auth < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
        bash scripts/crossbar.sh run --ws-port "$port" --rawsocket-port "$raw" \
            --rawsocket-auth-port "$raw_auth" --watch-pid $$ > "$ready" &
        router=$!
        echo "starting Crossbar.io on 127.0.0.1:$port (the first run installs it; that takes a few minutes)" >&2
        wait_for '^ready '
        url="ws://127.0.0.1:$port/ws"
        ;;
esac

cargo run --quiet --example demo -- --url "$url" --realm "$realm"
