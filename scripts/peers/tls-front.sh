#!/usr/bin/env bash
# A TLS front (socat) for a plain-TCP peer, for TLS-only clients such as Python uamqp.
#
# Usage: TARGET_PORT=<peer port> scripts/peers/tls-front.sh start|stop|status
#   start   listens with TLS on 127.0.0.1 and forwards every connection to 127.0.0.1:$TARGET_PORT;
#           prints the TLS port on stdout
#   stop    stops it by PID (with its per-connection children)
#   status  prints "running pid=<pid> port=<port>" (exit 0) or "stopped" (exit 3)
# Environment:
#   TARGET_PORT=<n>   (start) the plain-TCP AMQP port to forward to (required)
#   PORT=<n>          TLS port (default: a free one)
#   INSTANCE=<name>   independent front (default: "default")
#   CLEAN=1           on stop: delete the instance's state folder
#   OWNER_PID=<pid>   stop automatically once this process has exited (used by test/support/peers.ts)
#   READY_TIMEOUT=<s> readiness bound in seconds (default 15; the check does the SASL header through TLS)
#
# Certificate: a self-signed one for CN=localhost with subjectAltName DNS:localhost, IP:127.0.0.1, made once
# with openssl: <repo>/.peers/tls/ca.pem (give it to clients as the CA, e.g. uamqp's `verify=`) and
# <repo>/.peers/tls/localhost.pem (certificate + key, for socat).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCE="${INSTANCE:-default}"
check_instance "$INSTANCE"
TLS_DIR="$REPO_ROOT/.peers/tls"
STATE="$TLS_DIR/$INSTANCE"
PID_FILE="$STATE/socat.pid"
PORT_FILE="$STATE/port"
LOG_FILE="$STATE/socat.log"
READY_TIMEOUT="${READY_TIMEOUT:-15}"

running_pid() { read_live_pid "$PID_FILE"; }

# Makes the certificate once (atomically, so concurrent starts do not clash).
ensure_certificate() {
  [ -s "$TLS_DIR/localhost.pem" ] && [ -s "$TLS_DIR/ca.pem" ] && return 0
  command -v openssl >/dev/null || die "openssl is not installed: run scripts/peers/install.sh"
  mkdir -p "$TLS_DIR"
  local tmp
  tmp="$(mktemp -d "$TLS_DIR/.cert.XXXXXX")"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
  cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/localhost.pem"
  chmod 600 "$tmp/localhost.pem"
  mv -f "$tmp/localhost.pem" "$TLS_DIR/localhost.pem"
  mv -f "$tmp/cert.pem" "$TLS_DIR/ca.pem"
  rm -rf "$tmp"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running pid=$pid port=$(cat "$PORT_FILE" 2>/dev/null || echo '?')"
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_stop() {
  local pid
  stop_watchdog "$STATE"
  if pid="$(running_pid)"; then
    log "stopping TLS front ($INSTANCE) pid $pid"
    stop_pid "$pid" 5 || true
  fi
  rm -f "$PID_FILE"
  if [ "${CLEAN:-0}" = "1" ]; then
    rm -rf "$STATE"
  fi
}

cmd_start() {
  command -v socat >/dev/null || die "socat is not installed: run scripts/peers/install.sh"
  local pid port target="${TARGET_PORT:-}"
  [[ "$target" =~ ^[0-9]+$ ]] || die "TARGET_PORT (the peer's plain-TCP port) is required"
  if pid="$(running_pid)"; then
    port="$(cat "$PORT_FILE")"
    wait_ready "$port" "$READY_TIMEOUT" "$pid" --tls || die "TLS front ($INSTANCE) pid $pid is running but port $port is not ready"
    echo "$port"
    return 0
  fi
  ensure_certificate
  mkdir -p "$STATE"
  port="${PORT:-$(free_port)}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "invalid PORT '$port'"
  setsid socat "openssl-listen:$port,bind=$HOST,reuseaddr,fork,cert=$TLS_DIR/localhost.pem,verify=0" \
    "tcp:$HOST:$target" </dev/null >"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  log "TLS front ($INSTANCE) pid $pid on $HOST:$port -> $HOST:$target"
  if ! wait_ready "$port" "$READY_TIMEOUT" "$pid" --tls; then
    log "TLS front ($INSTANCE) did not become ready; its log:"
    tail -n 30 "$LOG_FILE" >&2 || true
    cmd_stop
    die "TLS front did not start"
  fi
  start_watchdog "$PEERS_DIR/tls-front.sh" "$STATE"
  echo "$port"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 64
    ;;
esac
