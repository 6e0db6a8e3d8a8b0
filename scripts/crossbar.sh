#!/usr/bin/env bash
# Local Crossbar.io router for the examples and end-to-end tests of this workspace.
#
# Usage:
#   scripts/crossbar.sh venv      ensure the Python venv (crossbar + autobahn); print its path
#   scripts/crossbar.sh python    ensure the venv; print the path of its python
#   scripts/crossbar.sh config DIR [--ws-port N] [--rawsocket-port N] [--rawsocket-auth-port N]
#                                  [EXTRA ENDPOINTS]
#                                 write DIR/.crossbar/config.json with the given ports
#   scripts/crossbar.sh run [--ws-port N] [--rawsocket-port N] [--rawsocket-auth-port N]
#                           [EXTRA ENDPOINTS] [--dir DIR] [--watch-pid PID]
#                                 run a router in the foreground; print one line
#                                 "ready ws://127.0.0.1:PORT" once it accepts connections; stop
#                                 it on SIGTERM/SIGINT, on EOF of a piped stdin, or when process
#                                 PID is gone. DIR (default: a temporary directory, removed at
#                                 the end) receives .crossbar/config.json and crossbar.log
#
# Extra endpoints (config and run; none by default), each a copy of the anonymous RawSocket
# endpoint or of the WebSocket endpoint with one difference:
#   --rawsocket-limited-port N    anonymous RawSocket accepting messages up to
#                                 --rawsocket-limited-size BYTES (default 65536)
#   --rawsocket-unix PATH         anonymous RawSocket on a Unix domain socket; a relative PATH is
#                                 relative to DIR. "run" prints "unix ABSOLUTE-PATH" before "ready"
#   --tls-cert FILE --tls-key FILE
#                                 PEM certificate (chain) and key for the TLS endpoints below
#   --wss-port N                  the WebSocket paths (/ws, /auth, ...) over TLS
#   --rss-port N                  anonymous RawSocket over TLS
#   --rss-mtls-port N --tls-client-ca FILE
#                                 anonymous RawSocket over TLS that requires a client certificate
#                                 issued by the CA in FILE
#   scripts/crossbar.sh start [--ws-port N] [--rawsocket-port N] [--rawsocket-auth-port N]
#                                 start a router in the background (for humans and demos; default
#                                 ports 8080, 8081, 8082); pid file in $XDG_RUNTIME_DIR or /tmp
#   scripts/crossbar.sh stop      stop the router started by "start"
#
# Environment:
#   WAMP_CROSSBAR_VENV   venv location; default: $XDG_CACHE_HOME (or ~/.cache)
#                        /wamp-client-rs/crossbar-<hash of scripts/crossbar/requirements.lock>,
#                        so a changed lock gets a new venv
#
# Only "ready ..." (run, start) and paths (venv, python) go to stdout; all else goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQUIREMENTS="$SCRIPT_DIR/crossbar/requirements.lock"
CONFIG_TEMPLATE="$SCRIPT_DIR/crossbar/config.json"

# Ports of the template config; "config" maps them onto the requested ones.
DEFAULT_WS_PORT=8080
DEFAULT_RAWSOCKET_PORT=8081
DEFAULT_RAWSOCKET_AUTH_PORT=8082

# How long "run" waits for the router to accept connections (it usually takes 4-5 s).
READY_TIMEOUT_SECS=60
# How long the router gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT_SECS=5

# "start"/"stop": where the background instance keeps its pid and output.
STATE_DIR="${XDG_RUNTIME_DIR:-/tmp}"
PID_FILE="$STATE_DIR/wamp-client-rs-crossbar.pid"
START_LOG="$STATE_DIR/wamp-client-rs-crossbar.log"

log() { printf 'crossbar.sh: %s\n' "$*" >&2 || true; }
die() {
    log "error: $*"
    exit 1
}
usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# venv
# ---------------------------------------------------------------------------------------------

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        python3 -c 'import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
    fi
}

venv_path() {
    if [[ -n "${WAMP_CROSSBAR_VENV:-}" ]]; then
        printf '%s\n' "$WAMP_CROSSBAR_VENV"
        return
    fi
    [[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
    local hash
    hash="$(sha256_of "$REQUIREMENTS")"
    printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/wamp-client-rs/crossbar-${hash:0:12}"
}

# Builds the venv unless it is complete. The caller holds the install lock.
install_venv() {
    local venv="$1"
    local install_log="$venv.install.log"
    if [[ -e "$venv" ]]; then
        log "removing incomplete venv $venv"
        rm -rf "$venv"
    fi
    command -v python3 >/dev/null 2>&1 ||
        die "python3 not found on PATH; it is needed to create the Crossbar.io venv"
    log "creating the Crossbar.io venv in $venv (takes about 2 minutes; log: $install_log)"
    if ! python3 -m venv "$venv" >"$install_log" 2>&1; then
        tail -n 20 "$install_log" >&2 || true
        die "python3 -m venv $venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    # Without this, bjdata builds a C extension against numpy 1.x that fails to import under
    # numpy 2.x and puts a warning in every router log.
    if ! PYBJDATA_NO_EXTENSION=1 "$venv/bin/pip" install --disable-pip-version-check \
        --no-input -r "$REQUIREMENTS" >>"$install_log" 2>&1; then
        tail -n 30 "$install_log" >&2 || true
        die "pip install -r $REQUIREMENTS failed; full log: $install_log"
    fi
    if ! "$venv/bin/python" -c 'import crossbar, autobahn' >>"$install_log" 2>&1; then
        tail -n 20 "$install_log" >&2 || true
        die "the new venv cannot import crossbar and autobahn; full log: $install_log"
    fi
    touch "$venv/.complete"
    log "venv ready: $venv"
}

# Ensures the venv exists and prints its path. Concurrent callers (parallel test binaries) wait on
# a lock file next to the venv, so only one of them installs.
ensure_venv() {
    local venv
    venv="$(venv_path)"
    if [[ ! -f "$venv/.complete" ]]; then
        mkdir -p "$(dirname "$venv")"
        command -v flock >/dev/null 2>&1 || die "flock not found (util-linux)"
        local lock_fd
        exec {lock_fd}>"$venv.lock"
        if ! flock -n "$lock_fd"; then
            log "waiting for another process to finish installing $venv"
            flock "$lock_fd"
        fi
        # Re-check: whoever held the lock may have finished the install meanwhile.
        if [[ ! -f "$venv/.complete" ]]; then
            install_venv "$venv"
        fi
        flock -u "$lock_fd"
        exec {lock_fd}>&-
    fi
    printf '%s\n' "$venv"
}

# ---------------------------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------------------------

# need_value OPTION [VALUE...]: fails unless the option has a value.
need_value() {
    [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"
}

check_port() {
    if ! [[ "$2" =~ ^[0-9]+$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
        die "$1: not a TCP port: '$2'"
    fi
}

# Extra endpoints of "config" and "run" (see the usage), as options for parse_extra.
EXTRA_LIMITED_PORT=""
EXTRA_LIMITED_SIZE=65536
EXTRA_UNIX=""
EXTRA_TLS_CERT=""
EXTRA_TLS_KEY=""
EXTRA_TLS_CLIENT_CA=""
EXTRA_WSS_PORT=""
EXTRA_RSS_PORT=""
EXTRA_RSS_MTLS_PORT=""

# parse_extra OPTION VALUE: sets an extra-endpoint option; fails (status 1) if OPTION is none.
parse_extra() {
    case "$1" in
    --rawsocket-limited-port) EXTRA_LIMITED_PORT="$2" ;;
    --rawsocket-limited-size) EXTRA_LIMITED_SIZE="$2" ;;
    --rawsocket-unix) EXTRA_UNIX="$2" ;;
    --tls-cert) EXTRA_TLS_CERT="$2" ;;
    --tls-key) EXTRA_TLS_KEY="$2" ;;
    --tls-client-ca) EXTRA_TLS_CLIENT_CA="$2" ;;
    --wss-port) EXTRA_WSS_PORT="$2" ;;
    --rss-port) EXTRA_RSS_PORT="$2" ;;
    --rss-mtls-port) EXTRA_RSS_MTLS_PORT="$2" ;;
    *) return 1 ;;
    esac
}

# Checks the extra-endpoint options; prints their TCP ports (one per line).
check_extra() {
    local option value
    for option in rawsocket-limited-port wss-port rss-port rss-mtls-port; do
        case "$option" in
        rawsocket-limited-port) value="$EXTRA_LIMITED_PORT" ;;
        wss-port) value="$EXTRA_WSS_PORT" ;;
        rss-port) value="$EXTRA_RSS_PORT" ;;
        rss-mtls-port) value="$EXTRA_RSS_MTLS_PORT" ;;
        esac
        if [[ -n "$value" ]]; then
            check_port "--$option" "$value"
            printf '%s\n' "$value"
        fi
    done
    if ! [[ "$EXTRA_LIMITED_SIZE" =~ ^[0-9]+$ ]] || ((EXTRA_LIMITED_SIZE < 512)); then
        die "--rawsocket-limited-size: not a size of at least 512 bytes: '$EXTRA_LIMITED_SIZE'"
    fi
    if [[ -n "$EXTRA_WSS_PORT$EXTRA_RSS_PORT$EXTRA_RSS_MTLS_PORT" ]]; then
        [[ -n "$EXTRA_TLS_CERT" && -n "$EXTRA_TLS_KEY" ]] ||
            die "--wss-port, --rss-port and --rss-mtls-port need --tls-cert and --tls-key"
        [[ -f "$EXTRA_TLS_CERT" ]] || die "--tls-cert: no file '$EXTRA_TLS_CERT'"
        [[ -f "$EXTRA_TLS_KEY" ]] || die "--tls-key: no file '$EXTRA_TLS_KEY'"
    fi
    if [[ -n "$EXTRA_RSS_MTLS_PORT" ]]; then
        [[ -f "$EXTRA_TLS_CLIENT_CA" ]] ||
            die "--rss-mtls-port needs --tls-client-ca FILE (no file '$EXTRA_TLS_CLIENT_CA')"
    fi
}

# An absolute path for FILE (which exists).
absolute_path() {
    printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"
}

# The extra endpoints as JSON for write_config's Python; DIR resolves a relative unix path.
extra_json() {
    local dir="$1" unix="$EXTRA_UNIX" cert="" key="" ca=""
    if [[ -n "$unix" && "$unix" != /* ]]; then
        unix="$dir/$unix"
    fi
    [[ -z "$EXTRA_TLS_CERT" ]] || cert="$(absolute_path "$EXTRA_TLS_CERT")"
    [[ -z "$EXTRA_TLS_KEY" ]] || key="$(absolute_path "$EXTRA_TLS_KEY")"
    [[ -z "$EXTRA_TLS_CLIENT_CA" ]] || ca="$(absolute_path "$EXTRA_TLS_CLIENT_CA")"
    python3 -c 'import json, sys
keys = ["limited_port", "limited_size", "unix", "tls_cert", "tls_key", "tls_client_ca",
        "wss_port", "rss_port", "rss_mtls_port"]
print(json.dumps({k: v for k, v in zip(keys, sys.argv[1:]) if v}))' \
        "$EXTRA_LIMITED_PORT" "$EXTRA_LIMITED_SIZE" "$unix" "$cert" "$key" "$ca" \
        "$EXTRA_WSS_PORT" "$EXTRA_RSS_PORT" "$EXTRA_RSS_MTLS_PORT"
}

# The absolute path of the extra Unix socket endpoint for DIR, or nothing.
extra_unix_path() {
    local dir="$1"
    if [[ -n "$EXTRA_UNIX" && "$EXTRA_UNIX" != /* ]]; then
        printf '%s/%s\n' "$dir" "$EXTRA_UNIX"
    elif [[ -n "$EXTRA_UNIX" ]]; then
        printf '%s\n' "$EXTRA_UNIX"
    fi
}

# write_config DIR WS_PORT RAWSOCKET_PORT RAWSOCKET_AUTH_PORT
# (plus the extra endpoints parsed by parse_extra)
write_config() {
    local dir="$1" ws="$2" raw="$3" rawauth="$4"
    [[ -f "$CONFIG_TEMPLATE" ]] || die "missing $CONFIG_TEMPLATE"
    mkdir -p "$dir/.crossbar"
    # Parse the template as JSON rather than editing text, so that each listening endpoint is
    # mapped by its template port exactly once, whatever the new ports are.
    local python=python3
    local venv
    venv="$(venv_path)"
    if [[ -f "$venv/.complete" ]]; then
        python="$venv/bin/python"
    fi
    command -v "$python" >/dev/null 2>&1 || die "python3 not found on PATH"
    local extra
    extra="$(extra_json "$dir")" || die "could not encode the extra endpoints"
    WAMP_CROSSBAR_EXTRA="$extra" "$python" - "$CONFIG_TEMPLATE" "$dir/.crossbar/config.json" \
        "$DEFAULT_WS_PORT=$ws" "$DEFAULT_RAWSOCKET_PORT=$raw" \
        "$DEFAULT_RAWSOCKET_AUTH_PORT=$rawauth" <<'PY' ||
import copy, json, os, sys

template, target, *mappings = sys.argv[1:]
ports = {int(old): int(new) for old, new in (m.split("=") for m in mappings)}
with open(template, encoding="utf-8") as f:
    config = json.load(f)
seen = set()
for worker in config.get("workers", []):
    for transport in worker.get("transports", []):
        endpoint = transport.get("endpoint", {})
        old = endpoint.get("port")
        if old in ports:
            endpoint["port"] = ports[old]
            seen.add(old)
missing = sorted(set(ports) - seen)
if missing:
    sys.exit(f"template {template} has no transport on port(s) {missing}")

# Extra endpoints: copies of the anonymous RawSocket endpoint and of the WebSocket endpoint.
extra = json.loads(os.environ.get("WAMP_CROSSBAR_EXTRA") or "{}")
if extra:
    worker = config["workers"][0]
    transports = worker["transports"]
    by_port = {t.get("endpoint", {}).get("port"): t for t in transports}
    rawsocket = by_port[ports[8081]]
    web = by_port[ports[8080]]

    def add(base, **endpoint):
        transport = copy.deepcopy(base)
        transport["endpoint"].update(endpoint)
        transports.append(transport)
        return transport

    if "limited_port" in extra:
        limited = add(rawsocket, port=int(extra["limited_port"]))
        limited["options"]["max_message_size"] = int(extra["limited_size"])
    if "unix" in extra:
        unix = add(rawsocket)
        unix["endpoint"] = {"type": "unix", "path": extra["unix"]}
    if "tls_cert" in extra:
        tls = {"certificate": extra["tls_cert"], "key": extra["tls_key"]}
        if "wss_port" in extra:
            add(web, port=int(extra["wss_port"]), tls=tls)
        if "rss_port" in extra:
            add(rawsocket, port=int(extra["rss_port"]), tls=tls)
        if "rss_mtls_port" in extra:
            mtls = dict(tls, ca_certificates=[extra["tls_client_ca"]])
            add(rawsocket, port=int(extra["rss_mtls_port"]), tls=mtls)
with open(target, "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
PY
        die "could not write $dir/.crossbar/config.json"
}

cmd_config() {
    [[ $# -ge 1 && "$1" != --* ]] || usage
    local dir="$1"
    shift
    local ws=$DEFAULT_WS_PORT raw=$DEFAULT_RAWSOCKET_PORT rawauth=$DEFAULT_RAWSOCKET_AUTH_PORT
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --ws-port)
            need_value "$@"
            ws="$2"
            shift 2
            ;;
        --rawsocket-port)
            need_value "$@"
            raw="$2"
            shift 2
            ;;
        --rawsocket-auth-port)
            need_value "$@"
            rawauth="$2"
            shift 2
            ;;
        *)
            need_value "$@"
            parse_extra "$1" "$2" || die "config: unknown argument '$1'"
            shift 2
            ;;
        esac
    done
    check_port --ws-port "$ws"
    check_port --rawsocket-port "$raw"
    check_port --rawsocket-auth-port "$rawauth"
    check_extra >/dev/null
    write_config "$dir" "$ws" "$raw" "$rawauth"
}

# ---------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------

# State shared by cmd_run and its EXIT trap.
RUN_DIR=""
RUN_DIR_CREATED=0
CROSSBAR_PID=""

port_open() {
    # bash's /dev/tcp: succeeds once something accepts connections on the port.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True while any process of the router's process group (controller or worker) exists.
# shellcheck disable=SC2329 # used by stop_crossbar
crossbar_group_alive() {
    [[ -n "$CROSSBAR_PID" ]] && kill -0 -- "-$CROSSBAR_PID" 2>/dev/null
}

# True while the controller itself runs (bash reaps its exited children, so no zombie counts).
crossbar_alive() {
    [[ -n "$CROSSBAR_PID" ]] && kill -0 "$CROSSBAR_PID" 2>/dev/null
}

# True while process $1 exists and is not a zombie.
pid_alive() {
    if [[ -r "/proc/$1/stat" ]]; then
        local stat
        stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
        # Field 3 (after the parenthesised command name) is the state.
        stat="${stat##*) }"
        [[ "${stat:0:1}" != Z ]]
    else
        kill -0 "$1" 2>/dev/null || [[ "$(ps -o pid= -p "$1" 2>/dev/null)" != "" ]]
    fi
}

log_tail() {
    if [[ -f "$RUN_DIR/crossbar.log" ]]; then
        log "last lines of $RUN_DIR/crossbar.log:"
        tail -n 40 "$RUN_DIR/crossbar.log" >&2 || true
    fi
}

# Stops the router: SIGTERM to the controller (it stops its worker), or to what is left of its
# process group if the controller is gone already; SIGKILL to the whole group after
# STOP_TIMEOUT_SECS.
# shellcheck disable=SC2329 # used by on_run_exit
stop_crossbar() {
    [[ -n "$CROSSBAR_PID" ]] || return 0
    if crossbar_group_alive; then
        if crossbar_alive; then
            kill -TERM "$CROSSBAR_PID" 2>/dev/null || true
        else
            kill -TERM -- "-$CROSSBAR_PID" 2>/dev/null || true
        fi
        local deadline=$((SECONDS + STOP_TIMEOUT_SECS))
        while crossbar_group_alive && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if crossbar_group_alive; then
            log "router did not stop within ${STOP_TIMEOUT_SECS}s; killing it"
            kill -KILL -- "-$CROSSBAR_PID" 2>/dev/null || true
            sleep 0.1
        fi
    fi
    wait "$CROSSBAR_PID" 2>/dev/null || true
    CROSSBAR_PID=""
}

# shellcheck disable=SC2329 # invoked by the EXIT trap of cmd_run
on_run_exit() {
    local status=$?
    # Finish the cleanup even if more signals come (say, SIGTERM right after stdin's EOF).
    trap - EXIT
    trap '' TERM INT HUP
    stop_crossbar
    if ((RUN_DIR_CREATED)) && [[ -n "$RUN_DIR" ]]; then
        rm -rf "$RUN_DIR" || true
    fi
    exit "$status"
}

cmd_run() {
    local ws=$DEFAULT_WS_PORT raw=$DEFAULT_RAWSOCKET_PORT rawauth=$DEFAULT_RAWSOCKET_AUTH_PORT
    local dir="" watch_pid=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --ws-port)
            need_value "$@"
            ws="$2"
            shift 2
            ;;
        --rawsocket-port)
            need_value "$@"
            raw="$2"
            shift 2
            ;;
        --rawsocket-auth-port)
            need_value "$@"
            rawauth="$2"
            shift 2
            ;;
        --dir)
            need_value "$@"
            dir="$2"
            shift 2
            ;;
        --watch-pid)
            need_value "$@"
            watch_pid="$2"
            shift 2
            ;;
        *)
            [[ "$1" == --* ]] || die "run: unknown argument '$1'"
            need_value "$@"
            parse_extra "$1" "$2" || die "run: unknown argument '$1'"
            shift 2
            ;;
        esac
    done
    check_port --ws-port "$ws"
    check_port --rawsocket-port "$raw"
    check_port --rawsocket-auth-port "$rawauth"
    local extra_ports
    extra_ports="$(check_extra)" || exit 1
    if [[ -n "$watch_pid" ]]; then
        [[ "$watch_pid" =~ ^[0-9]+$ ]] || die "--watch-pid: not a pid: '$watch_pid'"
        pid_alive "$watch_pid" || die "--watch-pid: process $watch_pid does not exist"
    fi

    # The reader of our stdout may go away (a test process that died); never die of SIGPIPE
    # before the router is stopped.
    trap '' PIPE
    trap on_run_exit EXIT
    trap 'exit 0' TERM INT HUP

    local venv
    venv="$(ensure_venv)"

    local port
    # shellcheck disable=SC2086 # extra_ports is a list of numbers
    for port in "$ws" "$raw" "$rawauth" $extra_ports; do
        if port_open "$port"; then
            log "port $port on 127.0.0.1 is already in use"
            exit 3
        fi
    done

    if [[ -z "$dir" ]]; then
        RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/wamp-crossbar.XXXXXX")"
        RUN_DIR_CREATED=1
    else
        mkdir -p "$dir"
        RUN_DIR="$(cd "$dir" && pwd)"
    fi
    write_config "$RUN_DIR" "$ws" "$raw" "$rawauth"

    # setsid: the router (controller and the worker it spawns) gets its own session and process
    # group, so it can be stopped as a whole and does not get the terminal's Ctrl-C directly.
    # (This script runs without job control, so the background child is no group leader and
    # setsid execs in place: $! is the controller's pid and its process group id.)
    setsid "$venv/bin/crossbar" start --cbdir "$RUN_DIR/.crossbar" --color false \
        --logformat standard --loglevel info >"$RUN_DIR/crossbar.log" 2>&1 </dev/null &
    CROSSBAR_PID=$!

    # The router opens its transports in config order, and the WebSocket paths are added right
    # after the WebSocket port listens. Once the last RawSocket port accepts, everything is up.
    local deadline=$((SECONDS + READY_TIMEOUT_SECS))
    # shellcheck disable=SC2086 # extra_ports is a list of numbers
    for port in "$ws" "$raw" "$rawauth" $extra_ports; do
        until port_open "$port"; do
            if ! crossbar_alive; then
                local status=0
                wait "$CROSSBAR_PID" 2>/dev/null || status=$?
                log "crossbar exited with status $status before it was ready"
                log_tail
                if grep -q -i -e 'address already in use' -e "couldn't listen" \
                    "$RUN_DIR/crossbar.log" 2>/dev/null; then
                    exit 3
                fi
                exit 1
            fi
            if ((SECONDS >= deadline)); then
                log "crossbar did not accept connections on port $port" \
                    "within ${READY_TIMEOUT_SECS}s"
                log_tail
                exit 1
            fi
            sleep 0.1
        done
    done

    local unix_path
    unix_path="$(extra_unix_path "$RUN_DIR")"
    if [[ -n "$unix_path" ]]; then
        until [[ -S "$unix_path" ]]; do
            if ! crossbar_alive || ((SECONDS >= deadline)); then
                log "crossbar did not listen on the Unix socket $unix_path"
                log_tail
                exit 1
            fi
            sleep 0.1
        done
        printf 'unix %s\n' "$unix_path" || true
    fi

    # The router's process group, for tests that kill it abruptly (kill -9 -PGID).
    printf 'pgid %s\n' "$CROSSBAR_PID" || true
    printf 'ready ws://127.0.0.1:%s\n' "$ws" || true

    # Stay in the foreground until told to stop. A piped stdin reaching EOF means our parent is
    # gone (or closed it on purpose); `read -t` doubles as the poll interval.
    local watch_stdin=0
    if [[ -p /dev/stdin ]]; then
        watch_stdin=1
    fi
    while true; do
        if ! crossbar_alive; then
            local status=0
            wait "$CROSSBAR_PID" 2>/dev/null || status=$?
            log "crossbar exited unexpectedly with status $status"
            log_tail
            exit 1
        fi
        if [[ -n "$watch_pid" ]] && ! pid_alive "$watch_pid"; then
            log "watched process $watch_pid is gone; stopping the router"
            exit 0
        fi
        if ((watch_stdin)); then
            # Status 0: a line (ignored); > 128: timeout; anything else: EOF.
            local rc=0
            read -r -t 0.5 _ || rc=$?
            if ((rc != 0 && rc <= 128)); then
                exit 0
            fi
        else
            # A background sleep plus wait lets the TERM/INT trap run at once.
            sleep 0.5 &
            wait $! || true
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# start / stop (background instance on the default ports, for humans and demos)
# ---------------------------------------------------------------------------------------------

cmd_start() {
    # Port options as for "run" (default: 8080, 8081, 8082).
    local ports=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --ws-port | --rawsocket-port | --rawsocket-auth-port)
            need_value "$@"
            check_port "$1" "$2"
            ports+=("$1" "$2")
            shift 2
            ;;
        *) die "start: unknown argument '$1'" ;;
        esac
    done
    if [[ -f "$PID_FILE" ]]; then
        local old
        old="$(cat "$PID_FILE" 2>/dev/null || true)"
        if [[ "$old" =~ ^[0-9]+$ ]] && kill -0 "$old" 2>/dev/null; then
            log "already running (pid $old; stop it with: $0 stop)"
            grep -m1 '^ready ' "$START_LOG" 2>/dev/null || true
            return 0
        fi
        rm -f "$PID_FILE"
    fi
    ensure_venv >/dev/null
    mkdir -p "$STATE_DIR"
    setsid bash "${BASH_SOURCE[0]}" run "${ports[@]}" >"$START_LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + READY_TIMEOUT_SECS + 10))
    while ! grep -q '^ready ' "$START_LOG" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            cat "$START_LOG" >&2 || true
            die "the router did not start"
        fi
        if ((SECONDS >= deadline)); then
            cat "$START_LOG" >&2 || true
            kill -TERM "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            die "the router was not ready in time"
        fi
        sleep 0.2
    done
    log "running in the background (pid $pid, output: $START_LOG); stop it with: $0 stop"
    grep -m1 '^ready ' "$START_LOG"
}

cmd_stop() {
    [[ $# -eq 0 ]] || die "stop takes no arguments"
    if [[ ! -f "$PID_FILE" ]]; then
        log "not running (no $PID_FILE)"
        return 0
    fi
    local pid
    pid="$(cat "$PID_FILE")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        local deadline=$((SECONDS + STOP_TIMEOUT_SECS + 5))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            die "process $pid did not stop; see $START_LOG"
        fi
        log "stopped (pid $pid)"
    else
        log "not running (stale pid file)"
    fi
    rm -f "$PID_FILE"
}

# ---------------------------------------------------------------------------------------------

main() {
    [[ $# -ge 1 ]] || usage
    local cmd="$1"
    shift
    case "$cmd" in
    venv)
        [[ $# -eq 0 ]] || usage
        ensure_venv
        ;;
    python)
        [[ $# -eq 0 ]] || usage
        local venv
        venv="$(ensure_venv)"
        printf '%s\n' "$venv/bin/python"
        ;;
    config) cmd_config "$@" ;;
    run) cmd_run "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    -h | --help | help) usage ;;
    *)
        log "unknown command '$cmd'"
        usage
        ;;
    esac
}

# On one line, so that bash has read everything it runs before main starts: editing this file
# (or a git checkout) while a router runs cannot confuse the running instance.
main "$@"; exit
