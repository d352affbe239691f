#!/usr/bin/env bash
# Starts / stops the project's small AMQP 1.0 broker on Qpid Proton (scripts/peers/proton-broker.py).
#
# Usage: scripts/peers/proton.sh start|stop|status
#   start   starts the broker (or finds it running) and prints its AMQP port on stdout
#   stop    stops it by PID and waits for the exit
#   status  prints "running pid=<pid> port=<port>" (exit 0) or "stopped" (exit 3)
# Environment:
#   PORT=<n>          port (default: a free one)
#   INSTANCE=<name>   independent broker with its own state folder (default: "default")
#   CLEAN=1           on stop: delete the instance's state folder
#   OWNER_PID=<pid>   stop automatically once this process has exited (used by test/support/peers.ts)
#   READY_TIMEOUT=<s> readiness bound in seconds (default 15)
#   VERBOSE=1         broker logs links / requeues to its log file
#   OFFERED_CAPABILITIES=<sym>[,<sym>...]
#                     the broker's OPEN offers these capabilities as an AMQP *list* of symbols, the way
#                     Proton applications send them (e.g. ANONYMOUS-RELAY); default: none offered
#
# Binds 127.0.0.1 only. SASL ANONYMOUS, or no SASL. Queues live in memory (gone on stop).
# State (PID file, port, log): <repo>/.peers/proton/<instance>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCE="${INSTANCE:-default}"
check_instance "$INSTANCE"
STATE="$REPO_ROOT/.peers/proton/$INSTANCE"
PID_FILE="$STATE/broker.pid"
PORT_FILE="$STATE/port"
LOG_FILE="$STATE/broker.log"
READY_TIMEOUT="${READY_TIMEOUT:-15}"

running_pid() { read_live_pid "$PID_FILE"; }

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
    log "stopping proton broker ($INSTANCE) pid $pid"
    stop_pid "$pid" 10 || true
  fi
  rm -f "$PID_FILE"
  if [ "${CLEAN:-0}" = "1" ]; then
    rm -rf "$STATE"
  fi
}

cmd_start() {
  "$PYTHON" -c 'import proton' 2>/dev/null ||
    die "Qpid Proton for $PYTHON is not installed (python3-qpid-proton): run scripts/peers/install.sh"
  local pid port
  if pid="$(running_pid)"; then
    port="$(cat "$PORT_FILE")"
    wait_ready "$port" "$READY_TIMEOUT" "$pid" || die "proton broker ($INSTANCE) pid $pid is running but port $port is not ready"
    echo "$port"
    return 0
  fi
  mkdir -p "$STATE"
  port="${PORT:-$(free_port)}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "invalid PORT '$port'"
  local args=(--host "$HOST" --port "$port")
  [ "${VERBOSE:-0}" = "1" ] && args+=(--verbose)
  if [ -n "${OFFERED_CAPABILITIES:-}" ]; then
    [[ "$OFFERED_CAPABILITIES" =~ ^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$ ]] ||
      die "invalid OFFERED_CAPABILITIES '$OFFERED_CAPABILITIES' (symbols separated by commas)"
    args+=(--offered-capabilities-list "$OFFERED_CAPABILITIES")
  fi
  setsid "$PYTHON" "$PEERS_DIR/proton-broker.py" "${args[@]}" </dev/null >"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  log "proton broker ($INSTANCE) pid $pid starting on $HOST:$port"
  if ! wait_ready "$port" "$READY_TIMEOUT" "$pid"; then
    log "proton broker ($INSTANCE) did not become ready; its log:"
    tail -n 30 "$LOG_FILE" >&2 || true
    cmd_stop
    die "proton broker did not start"
  fi
  start_watchdog "$PEERS_DIR/proton.sh" "$STATE"
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
