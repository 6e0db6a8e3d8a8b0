#!/usr/bin/env python3
"""Where a client's CPU time goes, by kind of work, from a `perf` profile.

Usage:
    perf record -e cpu-clock --call-graph dwarf -o perf.data -- \
        bench/target/release/wamp-bench client --impl wampkit ... --workload pipe100
    perf script -i perf.data -F ip,sym > stacks.txt
    python3 bench/perf_buckets.py stacks.txt

Each sample counts once, for the first category its stack matches, looking from the innermost
frame outwards: a `malloc` called while encoding counts as the allocator, not as encoding.
"""

import collections
import sys

FRAMING = "WebSocket / RawSocket framing"

CATEGORIES = [
    ("kernel (system calls, wake-ups)", lambda f: f.startswith("ffffffff")),
    ("decoding: envelope and payload check (session task)",
     lambda f: "fast_path" in f or "decode_frame" in f or "value::de::check" in f),
    ("decoding: payload into the reader's type",
     lambda f: "wire::element" in f or "payload::read" in f or "like_value" in f),
    ("encoding a message into a frame", lambda f: "encode_frame" in f or "WireMessage" in f),
    ("arguments encoded or into values (caller)",
     lambda f: "wire::outgoing" in f or "positional_values" in f or "to_value" in f
     or "value::ser" in f),
    ("URI check", lambda f: "UriCheck" in f),
    ("allocator", lambda f: any(x in f for x in ("malloc", "_int_free", "cfree", "realloc"))),
    (FRAMING, lambda f: "tungstenite" in f or "rawsocket" in f),
    ("request handles in the caller's task (calls, publications, subscriptions)",
     lambda f: "wampkit_client::api::" in f),
    ("the bench's own loop and clock",
     lambda f: "wamp_bench" in f or "clock_gettime" in f or "hdrhistogram" in f),
    ("command queue, replies, wake-ups",
     lambda f: "command::" in f or "oneshot" in f or "AtomicWaker" in f
     or "handoff" in f or "reply" in f or "event_queue" in f),
    ("pending-request tables", lambda f: "hashbrown" in f or "caller::" in f),
    # Before the runtime: the session task's own code runs inside tokio's task poll frames.
    ("session task: routing, subscriptions, moving messages",
     lambda f: "session::actor" in f),
    ("tokio runtime", lambda f: "tokio::" in f),
]


def main(path):
    counts = collections.Counter()
    total = 0
    for stack in open(path).read().split("\n\n"):
        frames = [line.strip() for line in stack.strip().split("\n") if line.strip()]
        if not frames:
            continue
        total += 1
        found = None
        names = []
        for frame in frames:
            ip, _, symbol = frame.partition(" ")
            names.append(ip if ip.startswith("ffffffff") else symbol)
        for i, name in enumerate(names):
            # tokio-tungstenite registers the task's waker for reading and writing on every
            # poll of the stream: framing, whatever the waker belongs to.
            if "AtomicWaker" in name and any("tungstenite" in n for n in names[i + 1:i + 4]):
                found = FRAMING
                break
            found = next((label for label, test in CATEGORIES if test(name)), None)
            if found:
                break
        counts[found or "other"] += 1
    for label, count in counts.most_common():
        print(f"{100 * count / max(total, 1):5.1f}%  {label}")


if __name__ == "__main__":
    main(sys.argv[1])
