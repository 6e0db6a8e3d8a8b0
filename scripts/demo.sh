#!/usr/bin/env bash
# Runs the demo: a local Crossbar.io router (installed into a cached venv on first use) on free
# ports, and examples/demo.rs (a callee, a caller, a publisher and a subscriber) talking through it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Build first, so the router is not kept waiting on the compiler.
cargo build --quiet --example demo

# Three free ports (WebSocket, RawSocket, authenticated RawSocket), so no other router is disturbed.
read -r port raw raw_auth < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
ready=$(mktemp)
bash scripts/crossbar.sh run --ws-port "$port" --rawsocket-port "$raw" --rawsocket-auth-port "$raw_auth" \
    --watch-pid $$ > "$ready" &
router=$!
trap 'kill "$router" 2>/dev/null; wait "$router" 2>/dev/null; rm -f "$ready"' EXIT

echo "starting Crossbar.io on 127.0.0.1:$port (the first run installs it; that takes a few minutes)" >&2
until grep -q '^ready ' "$ready"; do
    if ! kill -0 "$router" 2>/dev/null; then
        echo "demo: the router did not start" >&2
        exit 1
    fi
    sleep 0.2
done

cargo run --quiet --example demo -- --url "ws://127.0.0.1:$port/ws" --realm realm1
