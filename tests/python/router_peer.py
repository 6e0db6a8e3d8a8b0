#!/usr/bin/env python3
"""Autobahn|Python peer for the interoperability tests of the embedded router (wamp-router).

Runs with the Python of the Crossbar.io venv (``scripts/crossbar.sh python``). Unlike peer.py
(one session, one job), one process runs a whole scenario with as many sessions as it needs and
prints what it observed as JSON lines; the Rust test asserts on them.

  router_peer.py --url URL [--serializer S] [--realm R] COMMAND ...

  py-py [--prefix P] [--peer-url URL] [--peer-serializer S]
      A callee and a subscriber session (on --peer-url/--peer-serializer, by default the same as
      --url/--serializer) and a caller/publisher session: RPC with positional and keyword
      arguments, application errors, progressive results, cancel (kill, killnowait, skip), the
      dealer's call timeout, PubSub with and without acknowledge and with exclude_me false.
      Prints one JSON object.
  rust-peer [--prefix P] --rust-prefix R --events N
      The Python half of a test against a Rust session, which has registered R.add, R.fail,
      R.countdown and R.slow and subscribed R.topic: registers P.add, P.echo, P.fail,
      P.countdown, P.slow and P.status, subscribes P.topic, prints "ready"; calls the Rust
      procedures and publishes two events on R.topic, prints {"calls": ...}; then waits for N
      events on P.topic and prints {"events": [...]}.
  auth --credentials JSON
      Joins with ticket, wampcra (plain and salted), cryptosign and scram (stored keys and a
      password-derived principal), each with the right and a wrong secret, and prints
      {CASE: {"authid", "authrole", "authmethod", "call"} or {"error"}}.

Bytes are written as {"$bytes": "<base64>"} in the JSON output. Exit status 0 on success, 1 with
a message on stderr otherwise.

URLs: ws://HOST:PORT/PATH (WebSocket), rs://HOST:PORT (RawSocket over TCP), unix:///PATH
(RawSocket over a Unix domain socket).
"""

import argparse
import asyncio
import base64
import json
import sys
import time

import txaio

txaio.use_asyncio()

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory  # noqa: E402
from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.rawsocket.util import parse_url as parse_rs_url  # noqa: E402
from autobahn.wamp import auth as wamp_auth  # noqa: E402
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

SERIALIZERS = {"json": JsonSerializer, "msgpack": MsgPackSerializer, "cbor": CBORSerializer}

# Every wait of this peer is bounded; the Rust test bounds the whole process as well.
STEP_TIMEOUT = 15.0


class PeerError(Exception):
    """A failure reported on stderr with exit status 1."""


class Refused(Exception):
    """The router closed the session before it was established (ABORT)."""

    def __init__(self, reason, text):
        super().__init__(f"{reason}: {text}")
        self.reason = reason


def to_json(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def emit(obj):
    sys.stdout.write(json.dumps(to_json(obj), separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def bounded(awaitable, what, timeout=STEP_TIMEOUT):
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError as e:
        raise PeerError(f"{what}: nothing within {timeout} s") from e


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------


class Session(ApplicationSession):
    """Joins with the given authenticator (or anonymously) and resolves `joined`."""

    def __init__(self, config, authenticator, joined):
        super().__init__(config)
        self._authenticator = authenticator
        self._joined = joined
        self.transport_handle = None

    def onConnect(self):
        a = self._authenticator
        if a is None:
            self.join(self.config.realm)
        else:
            self.join(
                self.config.realm,
                authmethods=[a.name],
                authid=a._args.get("authid"),
                authextra=a.authextra,
            )

    def onChallenge(self, challenge):
        if self._authenticator is None or challenge.method != self._authenticator.name:
            raise PeerError(f"unexpected challenge of method {challenge.method}")
        return self._authenticator.on_challenge(self, challenge)

    def onWelcome(self, msg):
        if self._authenticator is None:
            return None
        # The method named in WELCOME must be the one this session offered.
        if msg.authmethod != self._authenticator.name:
            return f"WELCOME names authmethod {msg.authmethod!r}, not {self._authenticator.name!r}"
        return self._authenticator.on_welcome(self, msg.authextra)

    def onJoin(self, details):
        if not self._joined.done():
            self._joined.set_result(details)

    def onUserError(self, fail, msg):
        # Application errors and cancellations of handlers are answers, not problems.
        if isinstance(getattr(fail, "value", None), (ApplicationError, asyncio.CancelledError)):
            return
        super().onUserError(fail, msg)

    def onLeave(self, details):
        if not self._joined.done():
            self._joined.set_exception(Refused(details.reason, details.message))
        self.disconnect()

    def onDisconnect(self):
        if not self._joined.done():
            self._joined.set_exception(PeerError("connection closed before the session joined"))


def make_factory(url, serializer, make_session):
    ser = SERIALIZERS[serializer]()
    if url.startswith("unix://"):
        factory = WampRawSocketClientFactory(make_session, serializer=ser)
        return factory, ("unix", url[len("unix://") :])
    if url.startswith("rs://"):
        _secure, host, port = parse_rs_url(url)
        factory = WampRawSocketClientFactory(make_session, serializer=ser)
        return factory, ("tcp", host, port)
    _secure, host, port, _resource, _path, _params = parse_ws_url(url)
    factory = WampWebSocketClientFactory(make_session, url=url, serializers=[ser])
    factory.setProtocolOptions(openHandshakeTimeout=STEP_TIMEOUT, closeHandshakeTimeout=1.0)
    return factory, ("tcp", host, port)


async def open_session(url, serializer, realm, authenticator=None):
    """A joined session; raises Refused if the router aborts the join."""
    loop = asyncio.get_running_loop()
    joined = loop.create_future()
    sessions = []

    def make_session():
        session = Session(ComponentConfig(realm=realm), authenticator, joined)
        sessions.append(session)
        return session

    factory, where = make_factory(url, serializer, make_session)
    try:
        if where[0] == "unix":
            transport, _ = await bounded(loop.create_unix_connection(factory, where[1]), url)
        else:
            transport, _ = await bounded(loop.create_connection(factory, where[1], where[2]), url)
    except OSError as e:
        raise PeerError(f"cannot connect to {url}: {e}") from e
    try:
        await bounded(joined, f"joining {realm} on {url}")
    except BaseException:
        transport.close()
        raise
    session = sessions[-1]
    session.transport_handle = transport
    return session


async def close_session(session):
    if session.is_attached():
        try:
            await asyncio.wait_for(session.leave(), 2.0)
        except Exception:  # leaving is best effort
            pass
    if session.transport_handle is not None:
        session.transport_handle.close()


# ---------------------------------------------------------------------------------------------
# Procedures
# ---------------------------------------------------------------------------------------------


def add(a, b):
    return a + b


def echo(*args, **kwargs):
    return CallResult(*args, **kwargs)


def fail(*args, **kwargs):
    raise ApplicationError("com.interop.error.failed", "it failed", 42, reason="because")


class Slow:
    """A procedure that sleeps, remembering whether it was interrupted or completed."""

    def __init__(self):
        self.started = []
        self.interrupted = []
        self.completed = []
        self.changed = asyncio.Event()

    async def __call__(self, label, seconds):
        self.started.append(label)
        self.changed.set()
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.interrupted.append(label)
            self.changed.set()
            # Raised instead of the cancellation: with mode "kill" the caller gets this error.
            raise ApplicationError("com.interop.error.interrupted", label)
        self.completed.append(label)
        self.changed.set()
        return label

    async def wait_until(self, done, what):
        while not done():
            self.changed.clear()
            await bounded(self.changed.wait(), what)

    async def wait_started(self, label):
        await self.wait_until(lambda: label in self.started, f"the callee's start of {label}")

    async def wait_for(self, label):
        await self.wait_until(
            lambda: label in self.interrupted or label in self.completed,
            f"the callee's fate of {label}",
        )

    def status(self):
        return {
            "started": list(self.started),
            "interrupted": list(self.interrupted),
            "completed": list(self.completed),
        }


async def countdown(n, details=None):
    for i in range(n, 0, -1):
        if details is not None and details.progress is not None:
            details.progress(i)
        await asyncio.sleep(0)
    return "liftoff"


async def register_all(session, prefix, slow):
    for name, func, options in (
        ("add", add, None),
        ("echo", echo, None),
        ("fail", fail, None),
        ("countdown", countdown, RegisterOptions(details_arg="details")),
        ("slow", slow, None),
        ("status", slow.status, None),
    ):
        registering = session.register(func, f"{prefix}.{name}", options=options)
        await bounded(registering, f"register {name}")


# ---------------------------------------------------------------------------------------------
# Calls, observed
# ---------------------------------------------------------------------------------------------


async def call(session, procedure, *args, options=None, **kwargs):
    """{"args", "kwargs"} of the result, or {"error", "args", "kwargs"}."""
    options = options or CallOptions()
    options.details = True
    try:
        result = await bounded(session.call(procedure, *args, options=options, **kwargs), procedure)
    except ApplicationError as e:
        return {"error": e.error, "args": list(e.args), "kwargs": e.kwargs or {}}
    return {"args": list(result.results or []), "kwargs": result.kwresults or {}}


async def call_progressive(session, procedure, *args):
    """{"progress": [args of each progressive result], "result": the final value}.

    Without details=True: Autobahn cannot hand a progressive result without kwargs to an
    on_progress handler as a CallResult."""
    progress = []
    options = CallOptions(on_progress=lambda *a, **kw: progress.append(list(a)))
    try:
        result = await bounded(session.call(procedure, *args, options=options), procedure)
    except ApplicationError as e:
        return {"error": e.error, "progress": progress}
    return {"progress": progress, "result": result}


async def call_and_cancel(session, procedure, mode, *args, started=None):
    """Calls, sends CANCEL with `mode` once `started` (an awaitable: the callee has the
    invocation) is done, or after 0.2 s, and returns the call's outcome and how long it took.
    Autobahn's own cancel sends no mode, so the CANCEL is sent here."""
    began = time.monotonic()
    future = session.call(procedure, *args, options=CallOptions(details=True))
    request = next(r for r, req in session._call_reqs.items() if req.on_reply is future)
    if started is None:
        await asyncio.sleep(0.2)
    else:
        await started
    session._transport.send(message.Cancel(request, mode=mode))
    try:
        result = await bounded(future, f"{procedure} canceled with {mode}")
        outcome = {"args": list(result.results or [])}
    except ApplicationError as e:
        outcome = {"error": e.error, "args": list(e.args)}
    outcome["elapsed"] = time.monotonic() - began
    return outcome


async def call_with_timeout(session, procedure, timeout_ms, *args):
    """A call with the dealer's timeout option, in milliseconds as the specification says (and
    as Autobahn sends the value it is given)."""
    started = time.monotonic()
    outcome = await call(session, procedure, *args, options=CallOptions(timeout=timeout_ms))
    outcome["elapsed"] = time.monotonic() - started
    return outcome


ECHO_ARGS = [-7, 2.5, "zwölf ✓ 日本", b"\x00\x01\xfe\xff", [1, None, True], {"k": -1}]
ECHO_KWARGS = {"blob": b"\x09\x08", "neg": -1}


async def rpc_scenario(caller, prefix, slow):
    """The RPC observations of a caller against the procedures of register_all."""
    out = {
        "add_positional": await call(caller, f"{prefix}.add", 2, -5),
        "add_kwargs": await call(caller, f"{prefix}.add", a=40, b=2),
        "echo": await call(caller, f"{prefix}.echo", *ECHO_ARGS, **ECHO_KWARGS),
        "fail": await call(caller, f"{prefix}.fail"),
        "missing": await call(caller, f"{prefix}.missing"),
        "progress": await call_progressive(caller, f"{prefix}.countdown", 3),
        "cancel": {},
    }
    # kill: the callee is interrupted and its error reaches the caller. killnowait: the caller
    # gets wamp.error.canceled at once, the callee is interrupted. skip: the caller gets
    # wamp.error.canceled, the callee is not interrupted and finishes.
    for mode, seconds in (("kill", 30), ("killnowait", 30), ("skip", 0.5)):
        label = f"cancel-{mode}"
        outcome = await call_and_cancel(
            caller, f"{prefix}.slow", mode, label, seconds, started=slow.wait_started(label)
        )
        await slow.wait_for(label)
        out["cancel"][mode] = outcome
    timeout = await call_with_timeout(caller, f"{prefix}.slow", 300, "timeout", 30)
    await slow.wait_for("timeout")
    out["timeout"] = timeout
    out["callee"] = slow.status()
    return out


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def event_recorder():
    events = []
    arrived = asyncio.Event()

    def on_event(*args, **kwargs):
        events.append({"args": list(args), "kwargs": kwargs})
        arrived.set()

    async def wait_for(count, what):
        while len(events) < count:
            arrived.clear()
            await bounded(arrived.wait(), f"{what}: {len(events)} of {count} events")

    return events, on_event, wait_for


async def cmd_py_py(opts):
    peer_url = opts.peer_url or opts.url
    peer_ser = opts.peer_serializer or opts.serializer
    callee = await open_session(peer_url, peer_ser, opts.realm)
    subscriber = await open_session(peer_url, peer_ser, opts.realm)
    caller = await open_session(opts.url, opts.serializer, opts.realm)
    try:
        slow = Slow()
        await register_all(callee, opts.prefix, slow)
        out = await rpc_scenario(caller, opts.prefix, slow)

        topic = f"{opts.prefix}.topic"
        theirs, on_theirs, wait_theirs = event_recorder()
        mine, on_mine, wait_mine = event_recorder()
        await bounded(subscriber.subscribe(on_theirs, topic), "subscribe")
        await bounded(caller.subscribe(on_mine, topic), "subscribe (publisher)")
        # Three without acknowledge (the publisher excluded, as by default), two acknowledged
        # with exclude_me=False, then an acknowledged last one that both sides get: events of one
        # publisher arrive in order, so once it is there every earlier one is.
        for i in range(3):
            result = caller.publish(topic, i, n=i)
            if result is not None:
                raise PeerError(f"an unacknowledged publish returned {result!r}")
        acks = []
        for i in range(3, 5):
            publication = await bounded(
                caller.publish(
                    topic, i, n=i, options=PublishOptions(acknowledge=True, exclude_me=False)
                ),
                "acknowledged publish",
            )
            acks.append(publication.id)
        await bounded(
            caller.publish(
                topic, "last", options=PublishOptions(acknowledge=True, exclude_me=False)
            ),
            "last publish",
        )
        await wait_theirs(6, "subscriber")
        await wait_mine(3, "publisher's own subscription")
        try:
            await bounded(
                caller.publish("wamp.interop.reserved", options=PublishOptions(acknowledge=True)),
                "publish to a reserved URI",
            )
            bad = {"published": True}
        except ApplicationError as e:
            bad = {"error": e.error}
        out["pubsub"] = {"subscriber": theirs, "publisher": mine, "acks": acks, "invalid": bad}
        emit(out)
    finally:
        for session in (caller, subscriber, callee):
            await close_session(session)
    return 0


async def cmd_rust_peer(opts):
    session = await open_session(opts.url, opts.serializer, opts.realm)
    try:
        slow = Slow()
        await register_all(session, opts.prefix, slow)
        events, on_event, wait_events = event_recorder()
        await bounded(session.subscribe(on_event, f"{opts.prefix}.topic"), "subscribe")
        sys.stdout.write("ready\n")
        sys.stdout.flush()

        r = opts.rust_prefix
        calls = {
            "add_positional": await call(session, f"{r}.add", 2, -5),
            "add_kwargs": await call(session, f"{r}.add", a=40, b=2),
            "fail": await call(session, f"{r}.fail"),
            "progress": await call_progressive(session, f"{r}.countdown", 3),
            # The Rust callee sees an INTERRUPT whenever it comes: a fixed pause will do.
            "cancel": {
                mode: await call_and_cancel(session, f"{r}.slow", mode, f"cancel-{mode}", seconds)
                for mode, seconds in (("kill", 30), ("killnowait", 30), ("skip", 0.5))
            },
            "timeout": await call_with_timeout(session, f"{r}.slow", 300, "timeout", 30),
        }
        for i in range(2):
            await bounded(
                session.publish(
                    f"{r}.topic", i, n=i, options=PublishOptions(acknowledge=True)
                ),
                "publish",
            )
        emit({"calls": calls})
        await wait_events(opts.events, "events from the Rust session")
        emit({"events": events})
    finally:
        await close_session(session)
    return 0


def authenticators(credentials):
    """(case, authenticator) pairs: each method with the right and with a wrong secret."""
    c = credentials
    t, cra, salted, cs, scram = (
        c["ticket"],
        c["wampcra"],
        c["wampcra_salted"],
        c["cryptosign"],
        c["scram"],
    )
    # A key pair that is not the principal's.
    wrong_key = "11" * 32
    make = wamp_auth.create_authenticator
    return [
        ("ticket", make("ticket", authid=t["authid"], ticket=t["ticket"])),
        ("ticket_wrong", make("ticket", authid=t["authid"], ticket="not-the-ticket")),
        ("wampcra", make("wampcra", authid=cra["authid"], secret=cra["secret"])),
        ("wampcra_wrong", make("wampcra", authid=cra["authid"], secret="not-the-secret")),
        ("wampcra_salted", make("wampcra", authid=salted["authid"], secret=salted["secret"])),
        ("cryptosign", make("cryptosign", authid=cs["authid"], privkey=cs["privkey"])),
        ("cryptosign_wrong", make("cryptosign", authid=cs["authid"], privkey=wrong_key)),
        ("scram", make("scram", authid=scram["authid"], password=scram["password"])),
        ("scram_wrong", make("scram", authid=scram["authid"], password="not-the-password")),
        (
            "scram_derived",
            make(
                "scram",
                authid=c["scram_derived"]["authid"],
                password=c["scram_derived"]["password"],
            ),
        ),
        ("ticket_unknown", make("ticket", authid="nobody", ticket="whatever")),
    ]


async def cmd_auth(opts):
    credentials = json.loads(opts.credentials)
    out = {}
    for case, authenticator in authenticators(credentials):
        try:
            session = await open_session(opts.url, opts.serializer, opts.realm, authenticator)
        except Refused as e:
            out[case] = {"error": e.reason}
            continue
        try:
            details = session._session_details
            out[case] = {
                "authid": details.authid,
                "authrole": details.authrole,
                "authmethod": details.authmethod,
            }
            # An authenticated session routes like any other.
            out[case]["call"] = await call(session, "wamp.session.count")
        finally:
            await close_session(session)
    emit(out)
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--serializer", choices=sorted(SERIALIZERS), default="json")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("py-py")
    p.add_argument("--prefix", default="com.interop.pp")
    p.add_argument("--peer-url")
    p.add_argument("--peer-serializer", choices=sorted(SERIALIZERS))
    p.set_defaults(handler=cmd_py_py)

    p = commands.add_parser("rust-peer")
    p.add_argument("--prefix", default="com.interop.py")
    p.add_argument("--rust-prefix", required=True)
    p.add_argument("--events", type=int, required=True)
    p.set_defaults(handler=cmd_rust_peer)

    p = commands.add_parser("auth")
    p.add_argument(
        "--credentials",
        required=True,
        help="JSON: ticket, wampcra, wampcra_salted, cryptosign, scram, scram_derived principals",
    )
    p.set_defaults(handler=cmd_auth)
    return parser.parse_args(argv)


def main():
    opts = parse_args(sys.argv[1:])
    sys.stdout.reconfigure(encoding="utf-8")
    txaio.start_logging(out=sys.stderr, level="warn")
    try:
        return asyncio.run(opts.handler(opts))
    except (PeerError, Refused, ApplicationError) as e:
        print(f"router_peer.py {opts.command}: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
