#!/usr/bin/env python3
"""Autobahn|Python interop peer for the end-to-end tests of wamp-client.

Runs with the Python of the Crossbar.io venv (``scripts/crossbar.sh python``), which includes
Autobahn|Python. One process is one WAMP session doing one job:

  peer.py [--url URL] [--realm REALM] [--serializer json|msgpack|cbor] COMMAND ...

  callee [--prefix P] [--invoke POLICY]
      registers P.echo, P.add, P.fail and P.describe (P defaults to com.interop.py),
      prints "ready", then serves until SIGTERM/SIGINT
  call PROC [--args JSON] [--kwargs JSON] [--timeout SECS]
      prints {"args": [...], "kwargs": {...}}
      or, for an error reply, {"error": URI, "args": [...], "kwargs": {...}}
  subscribe TOPIC [--count N] [--match exact|prefix|wildcard]
      prints "ready" once subscribed, then one line per event:
      {"topic": URI, "args": [...], "kwargs": {...}, "publisher": ID or null}; exits after N events
  publish TOPIC [--args JSON] [--kwargs JSON] [--count N]
      publishes N times with acknowledge=True, then prints "published"

Input and output use JSON with one extension: bytes are written as {"$bytes": "<base64>"}.
Every output line is flushed at once. The exit status is 0 on success (an error reply to "call"
counts as success: it is printed), and 1 with a message on stderr on any other failure, such as
a connection that cannot be made or a session that is refused.

The URL selects the transport: ws:// and wss:// for WebSocket, rs:// and rss:// for RawSocket
(e.g. rs://127.0.0.1:8081). With --authid and --ticket the session authenticates with WAMP-Ticket.

End-to-end encryption: each --key PREFIX=SPEC adds a key to an Autobahn cryptobox KeyRing set as
the session's payload codec (the longest matching prefix wins; an empty PREFIX is the default key).
SPEC is shared:PRIV (KeyRing.set_key(prefix, PRIV)), originator:PRIV:RESPONDER_PUB (a caller or
publisher) or responder:PRIV:ORIGINATOR_PUB (a callee or subscriber); keys are base64.
"subscribe --raw" prints each EVENT as received, before any decoding:
{"topic": URI, "enc_algo": ..., "enc_serializer": ..., "payload": bytes or null, "args": [...],
"kwargs": {...}}.
"""

import argparse
import asyncio
import base64
import json
import signal
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.rawsocket.util import parse_url as parse_rs_url  # noqa: E402
from autobahn.wamp import message  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.wamp.types import (  # noqa: E402
    CallOptions,
    CallResult,
    ComponentConfig,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)
from autobahn.websocket.util import parse_url as parse_ws_url  # noqa: E402

SERIALIZERS = {
    "json": JsonSerializer,
    "msgpack": MsgPackSerializer,
    "cbor": CBORSerializer,
}

# Same limit as the router's endpoints (scripts/crossbar/config.json).
MAX_MESSAGE_SIZE = 16 * 1024 * 1024

# The keyword argument in which Autobahn hands event details to a subscribe handler. Not
# "details" (what SubscribeOptions(details=True) uses): that would replace an event keyword
# argument of the same name, and the subscriber must print the event's kwargs exactly.
DETAILS_KWARG = "_peer_py_event_details"


class PeerError(Exception):
    """A failure reported on stderr with exit status 1."""


# ---------------------------------------------------------------------------------------------
# JSON conventions: bytes <-> {"$bytes": "<base64>"}
# ---------------------------------------------------------------------------------------------


def _decode_bytes_hook(obj):
    if len(obj) == 1 and "$bytes" in obj:
        return base64.b64decode(obj["$bytes"], validate=True)
    return obj


def parse_json(text, what, expected_type):
    """Parses a command-line JSON value, turning {"$bytes": ...} objects into bytes."""
    try:
        value = json.loads(text, object_hook=_decode_bytes_hook)
    except ValueError as e:
        raise PeerError(f"{what}: invalid JSON: {e}") from e
    if not isinstance(value, expected_type):
        raise PeerError(f"{what}: expected a JSON {expected_type.__name__}, got {text!r}")
    return value


def to_json_value(value):
    """Converts a received WAMP payload value into something json.dumps accepts."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    return value


def emit(line):
    """Writes one line to stdout and flushes it, so the test reading it sees it at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def emit_json(obj):
    emit(json.dumps(to_json_value(obj), ensure_ascii=False, separators=(",", ":")))


# ---------------------------------------------------------------------------------------------
# Commands. Each gets the joined session and the parsed arguments and returns the exit status.
# ---------------------------------------------------------------------------------------------


def echo(*args, **kwargs):
    """Returns its arguments exactly as received (as a YIELD with the same args and kwargs)."""
    return CallResult(*args, **kwargs)


def add(a, b):
    """Adds two values; callable with positional or keyword arguments."""
    return a + b


def fail(*args, **kwargs):
    """Always fails with an application error carrying args and kwargs."""
    raise ApplicationError("com.interop.error.failed", "it failed", 42, reason="because")


def describe(*args, **kwargs):
    """Reports the Python type of each received argument, e.g.
    {"args": ["int", "bytes"], "kwargs": {"k": "str"}}."""
    return {
        "args": [type(a).__name__ for a in args],
        "kwargs": {k: type(v).__name__ for k, v in kwargs.items()},
    }


async def cmd_callee(session, opts):
    # Round-robin by default, so that several callee peers (say, of tests running in parallel
    # against one shared router) can serve the same procedures.
    options = RegisterOptions(invoke=opts.invoke)
    for name, func in (("echo", echo), ("add", add), ("fail", fail), ("describe", describe)):
        await session.register(func, f"{opts.prefix}.{name}", options=options)
    emit("ready")
    await asyncio.Event().wait()  # serve until cancelled (SIGTERM/SIGINT)
    return 0


async def cmd_call(session, opts):
    args = parse_json(opts.args, "--args", list)
    kwargs = parse_json(opts.kwargs, "--kwargs", dict)
    # details=True: always get a CallResult, never Autobahn's "single value or None" shortcut,
    # so the printed args and kwargs are exactly those of the RESULT message.
    options = CallOptions(details=True, timeout=opts.timeout)
    try:
        result = await session.call(opts.procedure, *args, options=options, **kwargs)
    except ApplicationError as e:
        emit_json({"error": e.error, "args": list(e.args), "kwargs": e.kwargs or {}})
        return 0
    emit_json({"args": list(result.results or []), "kwargs": result.kwresults or {}})
    return 0


async def cmd_subscribe(session, opts):
    events = asyncio.Queue()
    if opts.raw:
        session.raw_events = events

    def on_event(*args, **kwargs):
        if opts.raw:
            return  # printed by PeerSession.onMessage, as received
        details = kwargs.pop(DETAILS_KWARG, None)
        events.put_nowait(
            {
                # The router puts the concrete topic in the details only for pattern-based
                # subscriptions; for exact ones it is the subscribed topic.
                "topic": (details.topic if details else None) or opts.topic,
                "args": list(args),
                "kwargs": kwargs,
                "publisher": details.publisher if details else None,
            }
        )

    options = SubscribeOptions(match=opts.match, details_arg=DETAILS_KWARG)
    await session.subscribe(on_event, opts.topic, options=options)
    emit("ready")
    for _ in range(opts.count):
        emit_json(await events.get())
    return 0


async def cmd_publish(session, opts):
    args = parse_json(opts.args, "--args", list)
    kwargs = parse_json(opts.kwargs, "--kwargs", dict)
    for _ in range(opts.count):
        await session.publish(
            opts.topic, *args, options=PublishOptions(acknowledge=True), **kwargs
        )
    emit("published")
    return 0


# ---------------------------------------------------------------------------------------------
# Session and transport
# ---------------------------------------------------------------------------------------------


class PeerSession(ApplicationSession):
    """Joins the realm and reports the outcome through the futures of its runner."""

    def __init__(self, config, opts, joined, closed):
        super().__init__(config)
        self._opts = opts
        self._joined = joined
        self._closed = closed
        # "subscribe --raw": where EVENTs go as received.
        self.raw_events = None
        if opts.key:
            self.set_payload_codec(make_key_ring(opts.key))

    def onMessage(self, msg):
        if self.raw_events is not None and isinstance(msg, message.Event):
            self.raw_events.put_nowait(
                {
                    "topic": msg.topic or self._opts.topic,
                    "enc_algo": msg.enc_algo,
                    "enc_serializer": msg.enc_serializer,
                    "payload": msg.payload,
                    "args": list(msg.args or []),
                    "kwargs": msg.kwargs or {},
                }
            )
            return
        super().onMessage(msg)

    def onConnect(self):
        if self._opts.authid is not None:
            self.join(self.config.realm, authmethods=["ticket"], authid=self._opts.authid)
        else:
            self.join(self.config.realm)

    def onChallenge(self, challenge):
        if challenge.method == "ticket" and self._opts.ticket is not None:
            return self._opts.ticket
        raise PeerError(f"cannot answer an authentication challenge of method {challenge.method}")

    def onJoin(self, details):
        if not self._joined.done():
            self._joined.set_result(details)

    def onUserError(self, fail, msg):
        # An ApplicationError raised by a procedure (com.interop.py.fail) is an answer to the
        # caller, not a problem of this peer: keep it out of the log.
        if isinstance(getattr(fail, "value", None), ApplicationError):
            return
        super().onUserError(fail, msg)

    def onLeave(self, details):
        if not self._closed.done():
            message = f": {details.message}" if details.message else ""
            self._closed.set_exception(
                PeerError(f"session closed by the router: {details.reason}{message}")
            )
        self.disconnect()

    def onDisconnect(self):
        if not self._closed.done():
            self._closed.set_exception(PeerError("connection closed"))


def make_key_ring(specs):
    """An Autobahn cryptobox KeyRing from --key PREFIX=SPEC options."""
    from autobahn.wamp.cryptobox import Key, KeyRing

    ring = KeyRing()
    for spec in specs:
        prefix, sep, rest = spec.partition("=")
        kind, _, keys = rest.partition(":")
        parts = keys.split(":")
        if not sep:
            raise PeerError(f"--key {spec!r}: expected PREFIX=SPEC")
        if kind == "shared" and len(parts) == 1:
            key = parts[0]
        elif kind == "originator" and len(parts) == 2:
            key = Key(originator_priv=parts[0], responder_pub=parts[1])
        elif kind == "responder" and len(parts) == 2:
            key = Key(responder_priv=parts[0], originator_pub=parts[1])
        else:
            raise PeerError(f"--key {spec!r}: unknown key spec")
        ring.set_key(prefix, key)
    return ring


def make_transport_factory(opts, make_session, on_connection_lost):
    """Returns (factory, host, port, ssl) for a ws://, wss://, rs:// or rss:// URL."""
    serializer = SERIALIZERS[opts.serializer]
    if opts.url.startswith(("rs://", "rss://")):
        is_secure, host, port = parse_rs_url(opts.url)
        factory = WampRawSocketClientFactory(make_session, serializer=serializer())
        factory.setProtocolOptions(maxMessagePayloadSize=MAX_MESSAGE_SIZE)
    else:
        is_secure, host, port, _resource, _path, _params = parse_ws_url(opts.url)
        factory = WampWebSocketClientFactory(
            make_session, url=opts.url, serializers=[serializer()]
        )
        factory.setProtocolOptions(
            maxFramePayloadSize=MAX_MESSAGE_SIZE,
            maxMessagePayloadSize=MAX_MESSAGE_SIZE,
            openHandshakeTimeout=opts.connect_timeout,
            closeHandshakeTimeout=1.0,
            failByDrop=False,
            tcpNoDelay=True,
        )

    # Notice a connection that ends before or without a WAMP session (e.g. a failed WebSocket
    # handshake), which no session callback reports.
    base = factory.protocol

    class Protocol(base):
        def connection_lost(self, exc):
            super().connection_lost(exc)
            on_connection_lost(exc)

    factory.protocol = Protocol
    return factory, host, port, is_secure


async def run(opts, command):
    loop = asyncio.get_running_loop()
    joined = loop.create_future()
    closed = loop.create_future()
    sessions = []

    def make_session():
        session = PeerSession(ComponentConfig(realm=opts.realm), opts, joined, closed)
        sessions.append(session)
        return session

    def on_connection_lost(exc):
        if not closed.done():
            reason = f": {exc}" if exc else ""
            closed.set_exception(PeerError(f"connection to {opts.url} lost{reason}"))

    factory, host, port, ssl = make_transport_factory(opts, make_session, on_connection_lost)
    try:
        transport, _protocol = await asyncio.wait_for(
            loop.create_connection(factory, host, port, ssl=ssl or None), opts.connect_timeout
        )
    except (OSError, asyncio.TimeoutError) as e:
        raise PeerError(f"cannot connect to {opts.url}: {e or 'timeout'}") from e

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(0))

    try:
        # Join, then run the command, while watching for a closed session and for signals.
        done, _ = await asyncio.wait(
            [joined, closed, stop],
            timeout=opts.connect_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not done:
            raise PeerError(f"no WAMP session on {opts.url} within {opts.connect_timeout} s")
        if closed.done() or stop.done():
            return await (closed if closed.done() else stop)

        task = asyncio.ensure_future(command(sessions[-1], opts))
        await asyncio.wait([task, closed, stop], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        return await (closed if closed.done() else stop)
    finally:
        # From here on, the end of the session is expected: resolve "closed" before leaving, or
        # mark an error it may hold as seen (it was reported, or a signal came first).
        if not closed.done():
            closed.set_result(0)
        elif not closed.cancelled():
            closed.exception()
        if sessions and sessions[-1].is_attached():
            try:
                await asyncio.wait_for(sessions[-1].leave(), 2.0)
            except Exception:  # leaving is best effort
                pass
        transport.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="ws://127.0.0.1:8080/ws", help="router URL")
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--serializer", choices=sorted(SERIALIZERS), default="json")
    parser.add_argument("--authid", help="authenticate with WAMP-Ticket as this authid")
    parser.add_argument("--ticket", help="the ticket for --authid")
    parser.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to connect and join"
    )
    parser.add_argument(
        "--log-level", default="warn", help="Autobahn log level on stderr (default: warn)"
    )
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="PREFIX=SPEC",
        help="an end-to-end key for a URI prefix (see above); repeatable",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("callee", help="serve the interop procedures")
    p.add_argument("--prefix", default="com.interop.py", help="procedure URI prefix")
    p.add_argument(
        "--invoke",
        default="roundrobin",
        choices=["single", "roundrobin", "random", "first", "last"],
        help="invocation policy of the registrations (default: roundrobin)",
    )
    p.set_defaults(handler=cmd_callee)

    p = commands.add_parser("call", help="call a procedure once and print the result")
    p.add_argument("procedure")
    p.add_argument("--args", default="[]", help="positional arguments as a JSON array")
    p.add_argument("--kwargs", default="{}", help="keyword arguments as a JSON object")
    p.add_argument("--timeout", type=float, help="call timeout in seconds (sent to the router)")
    p.set_defaults(handler=cmd_call)

    p = commands.add_parser("subscribe", help="print events of a topic")
    p.add_argument("topic")
    p.add_argument("--count", type=int, default=1, help="exit after this many events")
    p.add_argument("--match", choices=["exact", "prefix", "wildcard"], default="exact")
    p.add_argument(
        "--raw", action="store_true", help="print events as received, before any decoding"
    )
    p.set_defaults(handler=cmd_subscribe)

    p = commands.add_parser("publish", help="publish events (acknowledged)")
    p.add_argument("topic")
    p.add_argument("--args", default="[]", help="positional arguments as a JSON array")
    p.add_argument("--kwargs", default="{}", help="keyword arguments as a JSON object")
    p.add_argument("--count", type=int, default=1, help="number of publications")
    p.set_defaults(handler=cmd_publish)

    opts = parser.parse_args(argv)
    if (opts.authid is None) != (opts.ticket is None):
        parser.error("--authid and --ticket go together")
    return opts


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    # Output is UTF-8 whatever the locale; the tests parse it as such.
    sys.stdout.reconfigure(encoding="utf-8")
    txaio.start_logging(out=sys.stderr, level=opts.log_level)
    try:
        return asyncio.run(run(opts, opts.handler))
    except PeerError as e:
        print(f"peer.py {opts.command}: {e}", file=sys.stderr, flush=True)
        return 1
    except ApplicationError as e:
        print(f"peer.py {opts.command}: {e.error_message()}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
