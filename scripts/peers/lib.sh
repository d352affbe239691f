# Shared helpers of scripts/peers/*.sh (sourced, not executed).
# Conventions: servers bind 127.0.0.1 only; every process we start is recorded in a PID file and
# stopped by that PID (never by name); state lives under <repo>/.peers/ (git-ignored).

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEERS_DIR/../.." && pwd)"
PYTHON=/usr/bin/python3
HOST=127.0.0.1

die() {
  echo "peers: error: $*" >&2
  exit 1
}

log() {
  echo "peers: $*" >&2
}

# Validates an instance name (used in folder and Erlang node names).
check_instance() {
  [[ "$1" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "invalid INSTANCE '$1' (letters, digits, _ and - only)"
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True when PID is a live (non-zombie) process.
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    state="$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
    [ "$state" != "Z" ] || return 1
  fi
  return 0
}

# Reads a PID file; prints the PID when the process is alive.
read_live_pid() {
  local file="$1" pid
  [ -f "$file" ] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  pid_alive "$pid" || return 1
  echo "$pid"
}

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS for the exit, then SIGKILL (bounded).
# Also signals the rest of the process group when PID leads its own group (we start servers with setsid).
stop_pid() {
  local pid="$1" seconds="$2" group=0 i
  pid_alive "$pid" || return 0
  if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then group=1; fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    log "pid $pid still running after ${seconds}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ "$group" -eq 1 ]; then
    # Leftover children of the server (same process group, created by our setsid).
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid did not exit"
  return 1
}

# wait_ready PORT SECONDS PID [--tls]: polls the SASL header exchange (see wait-ready.py).
wait_ready() {
  "$PYTHON" "$PEERS_DIR/wait-ready.py" "$HOST" "$@"
}

# start_watchdog SCRIPT STATE: when OWNER_PID is set, starts a small process that runs `SCRIPT stop`
# once OWNER_PID has exited (so a crashed or killed test run does not leave a server behind).
# Its PID goes to STATE/watchdog.pid; stop_watchdog STATE ends it.
start_watchdog() {
  local script="$1" state="$2"
  [ -n "${OWNER_PID:-}" ] || return 0
  [[ "$OWNER_PID" =~ ^[0-9]+$ ]] || die "invalid OWNER_PID '$OWNER_PID'"
  # shellcheck disable=SC2016
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    rm -f "$3"
    exec bash "$2" stop' watchdog "$OWNER_PID" "$script" "$state/watchdog.pid" \
    </dev/null >>"$state/watchdog.log" 2>&1 &
  echo $! >"$state/watchdog.pid"
}

stop_watchdog() {
  local state="$1" pid
  if pid="$(read_live_pid "$state/watchdog.pid")"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/watchdog.pid"
}
