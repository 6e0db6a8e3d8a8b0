#!/usr/bin/env bash
# Runs the whole benchmark suite with one command: builds the bench (release), makes sure the
# Crossbar.io / Autobahn|Python venv exists, runs every client against the instant router and
# Crossbar.io, prints the tables, and writes them into BENCHMARKS.md (between its results
# markers; a --quick run only prints them).
#
# Usage: bench/run.sh [--quick] [other `wamp-bench run` options, e.g. --only wampkit]
# Takes about 6 minutes (--quick: about 1.5); the first run also builds the bench and the venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

cargo build --release --manifest-path bench/Cargo.toml
PYTHON="$(bash scripts/crossbar.sh python)"

args=(run --python "$PYTHON" --json bench/target/results.json)
quick=0
for a in "$@"; do
    [[ "$a" == "--quick" ]] && quick=1
done
if [[ $quick -eq 0 && $# -eq 0 ]]; then
    args+=(--update BENCHMARKS.md)
fi
exec bench/target/release/wamp-bench "${args[@]}" "$@"
