"""Autobahn|Python (asyncio) running the bench's workloads, for the same targets as the Rust
clients. Run with the Crossbar venv's python (`bash scripts/crossbar.sh python`); normally
started by `wamp-bench run` (bench/run.sh), one process per measurement.

    python bench/autobahn_bench.py --url ws://127.0.0.1:PORT/ws --ser msgpack \
        --workload pipe100 --secs 2 --warmup 0.5 [--peer-pid PID]... [--cpu 0]

Prints one line `RESULT {json}` with the same fields as the Rust clients: ops, secs, cpu (user +
system seconds of this process over the window), peer_cpu (of the router processes), p50_us,
p99_us, errors, dropped.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from urllib.parse import urlparse

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import serializer as serializers
from autobahn.wamp.types import ComponentConfig, PublishOptions

ECHO = "bench.echo"
FLOOD = "bench.flood"
PUB_TOPIC = "bench.pub"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def pid_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Meter:
    def __init__(self, warmup, secs, peer_pids):
        self.warmup, self.secs, self.peer_pids = warmup, secs, peer_pids
        self.restart()
        self.start = self.end = None
        self.ops = self.errors = self.dropped = 0
        self.latencies = []
        self.check = 0
        self.done = asyncio.get_event_loop().create_future()

    def restart(self):
        self.t0 = time.perf_counter()

    def snapshot(self):
        return (
            time.perf_counter(),
            process_cpu(),
            sum(pid_cpu(p) for p in self.peer_pids),
        )

    def op(self, latency=None):
        """Counts one operation; False once the window is over."""
        if self.start is not None:
            self.ops += 1
            if latency is not None:
                self.latencies.append(latency)
        if latency is None:
            self.check += 1
            if self.check & 63:
                return True
        return self.tick()

    def error(self):
        if self.start is not None:
            self.errors += 1

    def tick(self):
        if self.end is not None:
            return False
        elapsed = time.perf_counter() - self.t0
        if self.start is None:
            if elapsed >= self.warmup:
                self.start = self.snapshot()
            return True
        if elapsed >= self.warmup + self.secs:
            self.end = self.snapshot()
            if not self.done.done():
                self.done.set_result(None)
            return False
        return True

    def report(self):
        if self.start is None:
            self.start = self.snapshot()
        if self.end is None:
            self.end = self.snapshot()
        lat = sorted(self.latencies)

        def q(p):
            if not lat:
                return None
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1e6

        return {
            "ops": self.ops,
            "secs": self.end[0] - self.start[0],
            "cpu": self.end[1] - self.start[1],
            "peer_cpu": self.end[2] - self.start[2],
            "p50_us": q(0.5),
            "p99_us": q(0.99),
            "errors": self.errors,
            "dropped": self.dropped,
        }


def first_int(result):
    results = getattr(result, "results", None)
    if results is not None:
        return bool(results) and isinstance(results[0], int)
    return isinstance(result, int)


class Bench(ApplicationSession):
    args = None
    finished = None

    async def onJoin(self, details):
        try:
            report = await self.workload()
            self.finished.set_result(report)
        except Exception as e:  # reported by main()
            self.finished.set_exception(e)

    def onDisconnect(self):
        if not self.finished.done():
            self.finished.set_exception(RuntimeError("disconnected"))

    async def workload(self):
        a = self.args
        w = a.workload
        meter = Meter(a.warmup, a.secs, a.peer_pid)
        if w == "seq":
            i = 0
            while True:
                t = time.perf_counter()
                try:
                    r = await self.call(ECHO, i, "bench")
                    if not first_int(r):
                        meter.error()
                except Exception:
                    meter.error()
                if not meter.op(time.perf_counter() - t):
                    break
                i += 1
            return meter.report()
        if w.startswith("pipe") or w.startswith("pub"):
            count = w[4:] if w.startswith("pipe") else w[3:]
            n = int(count[:-1]) * 1000 if count.endswith("k") else int(count)
            is_call = w.startswith("pipe")
            ack = PublishOptions(acknowledge=True)
            counter = [0]

            def start_one():
                counter[0] += 1
                t = time.perf_counter()
                if is_call:
                    f = self.call(ECHO, counter[0], "bench")
                else:
                    f = self.publish(PUB_TOPIC, counter[0], "bench", options=ack)
                f.add_done_callback(lambda f, t=t: on_done(f, t))

            def on_done(f, t):
                if f.cancelled() or f.exception() is not None:
                    meter.error()
                elif is_call and not first_int(f.result()):
                    meter.error()
                if meter.op(time.perf_counter() - t):
                    start_one()

            for _ in range(n):
                start_one()
            await meter.done
            return meter.report()
        if w == "events":

            def on_event(*args, **kwargs):
                if not args or not isinstance(args[0], int):
                    meter.error()
                meter.op()

            await self.subscribe(on_event, FLOOD)
            meter.restart()
            await meter.done
            return meter.report()
        raise RuntimeError(f"Autobahn does not run {w}")


def serializer(name):
    return {
        "json": serializers.JsonSerializer,
        "msgpack": serializers.MsgPackSerializer,
        "cbor": serializers.CBORSerializer,
    }[name]()


async def main(a):
    loop = asyncio.get_event_loop()
    Bench.args = a
    Bench.finished = loop.create_future()

    def make_session():
        return Bench(ComponentConfig(realm="realm1"))

    url = urlparse(a.url)
    if url.scheme == "rs":
        factory = WampRawSocketClientFactory(make_session, serializer=serializer(a.ser))
    else:
        factory = WampWebSocketClientFactory(
            make_session, url=a.url, serializers=[serializer(a.ser)]
        )
    transport, _ = await loop.create_connection(factory, url.hostname, url.port)
    try:
        report = await asyncio.wait_for(Bench.finished, a.warmup + a.secs + 60)
    finally:
        pass
    print("RESULT " + json.dumps(report), flush=True)
    os._exit(0)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--ser", default="msgpack", choices=["json", "msgpack", "cbor"])
    p.add_argument("--workload", required=True)
    p.add_argument("--secs", type=float, default=2.0)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--peer-pid", type=int, action="append", default=[])
    p.add_argument("--cpu", type=int, default=None)
    a = p.parse_args()
    if a.cpu is not None:
        os.sched_setaffinity(0, {a.cpu})
    try:
        asyncio.run(main(a))
    except Exception as e:
        print(f"error: {e!r}", file=sys.stderr)
        sys.exit(1)
