#!/usr/bin/env bash
# Starts / stops a private RabbitMQ 3.10 node with the AMQP 1.0 plugin, without systemd.
#
# Usage: scripts/peers/rabbitmq.sh start|stop|status
#   start   starts the node (or finds it running) and prints its AMQP port on stdout
#   stop    stops it by PID and waits for the exit
#   status  prints "running pid=<pid> port=<port>" (exit 0) or "stopped" (exit 3)
# Environment:
#   PORT=<n>          AMQP port (default: a free port; a restart of a stopped instance reuses its last port)
#   INSTANCE=<name>   independent node with its own state folder (default: "default")
#   CLEAN=1           on stop: delete the instance's state folder (queues, messages, logs)
#   OWNER_PID=<pid>   stop automatically once this process has exited (used by test/support/peers.ts)
#   READY_TIMEOUT=<s> readiness bound in seconds (default 60)
#
# Everything binds 127.0.0.1: AMQP listener, Erlang distribution, and a private epmd on its own port
# (ERL_EPMD_PORT), so no daemon outlives `stop`. State: <repo>/.peers/rabbitmq/<instance>/.
# Credentials: guest/guest with SASL PLAIN (loopback only), ANONYMOUS (acts as guest), or no SASL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RABBIT_BIN=/usr/lib/rabbitmq/bin/rabbitmq-server
INSTANCE="${INSTANCE:-default}"
check_instance "$INSTANCE"
STATE="$REPO_ROOT/.peers/rabbitmq/$INSTANCE"
PID_FILE="$STATE/server.pid"        # the setsid'ed rabbitmq-server wrapper (process group leader)
BEAM_PID_FILE="$STATE/beam.pid"     # written by RabbitMQ itself (RABBITMQ_PID_FILE)
EPMD_PID_FILE="$STATE/epmd.pid"
PORT_FILE="$STATE/port"
READY_TIMEOUT="${READY_TIMEOUT:-60}"

running_pid() { read_live_pid "$PID_FILE"; }

stop_all() {
  local pid
  stop_watchdog "$STATE"
  if pid="$(running_pid)"; then
    log "stopping rabbitmq ($INSTANCE) pid $pid"
    stop_pid "$pid" 30 || true
  fi
  # The Erlang VM itself, in case the wrapper died without taking it along.
  if pid="$(read_live_pid "$BEAM_PID_FILE")"; then stop_pid "$pid" 15 || true; fi
  if pid="$(read_live_pid "$EPMD_PID_FILE")"; then stop_pid "$pid" 5 || true; fi
  rm -f "$PID_FILE" "$BEAM_PID_FILE" "$EPMD_PID_FILE"
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
  stop_all
  if [ "${CLEAN:-0}" = "1" ]; then
    rm -rf "$STATE"
    log "removed $STATE"
  fi
}

cmd_start() {
  [ -x "$RABBIT_BIN" ] || die "RabbitMQ is not installed ($RABBIT_BIN): run scripts/peers/install.sh"
  local pid port dist_port epmd_port node
  if pid="$(running_pid)"; then
    port="$(cat "$PORT_FILE")"
    wait_ready "$port" "$READY_TIMEOUT" "$pid" || die "rabbitmq ($INSTANCE) pid $pid is running but port $port is not ready"
    echo "$port"
    return 0
  fi
  stop_all # leftovers of a crashed run (epmd, beam)

  mkdir -p "$STATE/mnesia" "$STATE/log" "$STATE/home"
  if [ -n "${PORT:-}" ]; then
    port="$PORT"
  elif [ -f "$PORT_FILE" ] && [ -d "$STATE/mnesia" ] && [ -n "$(ls -A "$STATE/mnesia")" ]; then
    port="$(cat "$PORT_FILE")" # restart of an existing node keeps its port (durability tests)
  else
    port="$(free_port)"
  fi
  [[ "$port" =~ ^[0-9]+$ ]] || die "invalid PORT '$port'"
  dist_port="$(free_port)"
  epmd_port="$(free_port)"
  node="rabbit-$INSTANCE@localhost"

  cat >"$STATE/rabbitmq.conf" <<CONF
listeners.tcp.1 = $HOST:$port
distribution.listener.interface = $HOST
distribution.listener.port_range.min = $dist_port
distribution.listener.port_range.max = $dist_port
loopback_users.guest = true
log.file.level = info
log.console = false
CONF
  echo '[rabbitmq_amqp1_0].' >"$STATE/enabled_plugins"
  : >"$STATE/rabbitmq-env.conf" # keep /etc/rabbitmq/rabbitmq-env.conf out of it
  echo "$port" >"$PORT_FILE"

  export HOME="$STATE/home" # the Erlang cookie lands here
  export ERL_EPMD_ADDRESS="$HOST" ERL_EPMD_PORT="$epmd_port"
  export RABBITMQ_NODENAME="$node"
  export RABBITMQ_CONF_ENV_FILE="$STATE/rabbitmq-env.conf"
  export RABBITMQ_CONFIG_FILE="$STATE/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$STATE/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$STATE/mnesia"
  export RABBITMQ_LOG_BASE="$STATE/log"
  export RABBITMQ_PID_FILE="$BEAM_PID_FILE"
  export RABBITMQ_DIST_PORT="$dist_port"
  unset RABBITMQ_NODE_PORT RABBITMQ_NODE_IP_ADDRESS

  # Our own epmd (RabbitMQ would otherwise start a shared daemon on 4369 that outlives the node).
  setsid /usr/bin/epmd -address "$HOST" -port "$epmd_port" </dev/null >"$STATE/log/epmd.log" 2>&1 &
  echo $! >"$EPMD_PID_FILE"

  setsid "$RABBIT_BIN" </dev/null >"$STATE/log/console.log" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "rabbitmq ($INSTANCE) pid $pid starting on $HOST:$port (state $STATE)"

  if ! wait_ready "$port" "$READY_TIMEOUT" "$pid"; then
    log "rabbitmq ($INSTANCE) did not become ready; last lines of its logs:"
    tail -n 30 "$STATE/log/console.log" >&2 || true
    tail -n 30 "$STATE/log/$node.log" >&2 2>/dev/null || true
    stop_all
    die "rabbitmq did not start"
  fi
  start_watchdog "$PEERS_DIR/rabbitmq.sh" "$STATE"
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
