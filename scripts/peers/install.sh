#!/usr/bin/env bash
# Installs the real AMQP 1.0 peers used by the interop tests (Debian 12, as root or through sudo):
#   python3-qpid-proton (Qpid Proton C engine + Python binding, for scripts/peers/proton-broker.py)
#   rabbitmq-server     (RabbitMQ 3.10 with the rabbitmq_amqp1_0 plugin, started by scripts/peers/rabbitmq.sh)
#   python3-uamqp       (Azure's Python uamqp, the library whose API we reproduce; TLS-only client)
#   python3-azure       (Azure's Python SDKs; azure-eventhub 5.11+ brings its own pure-Python AMQP stack)
#   python3-websocket   (the WebSocket transport azure-eventhub uses for AMQP over WebSocket)
#   socat, openssl      (TLS front for plain-TCP peers, test certificates)
# Idempotent and fast when everything is already installed (one dpkg-query call, no apt).
# Usage: bash scripts/peers/install.sh
set -euo pipefail

PACKAGES=(python3-qpid-proton rabbitmq-server python3-uamqp python3-azure python3-websocket socat openssl)

fail() {
  echo "peers/install.sh: error: $*" >&2
  exit 1
}

# Prints the packages of PACKAGES that are not fully installed.
missing_packages() {
  local status
  status="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! grep -Eq "^${pkg} ii" <<<"$status"; then
      echo "$pkg"
    fi
  done
}

command -v dpkg-query >/dev/null 2>&1 || fail "dpkg-query not found: this script needs Debian/Ubuntu (apt)"

mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -eq 0 ]; then
  echo "peers/install.sh: all peers installed (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "missing packages (${MISSING[*]}) and not root (no sudo either)"
  SUDO=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)

# rabbitmq-server's maintainer scripts start a service listening on 0.0.0.0 unless policy-rc.d forbids it.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
cleanup() {
  if [ "$CREATED_POLICY" -eq 1 ]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, created by scripts/peers/install.sh: do not start services\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  CREATED_POLICY=1
fi

echo "peers/install.sh: installing ${MISSING[*]}"
# apt-get update only when needed; a failing update is tolerated (the package lists / cache may suffice).
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -q; then
  echo "peers/install.sh: warning: apt-get update failed; trying with the existing package lists" >&2
fi
if ! "${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "${MISSING[@]}"; then
  fail "apt-get install failed for: ${MISSING[*]}"
fi

mapfile -t STILL_MISSING < <(missing_packages)
if [ "${#STILL_MISSING[@]}" -ne 0 ]; then
  fail "still not installed after apt-get: ${STILL_MISSING[*]}"
fi

# Sanity checks of what the tests rely on.
/usr/bin/python3 -c "import proton" || fail "python3-qpid-proton installed but /usr/bin/python3 cannot import proton"
/usr/bin/python3 -c "import uamqp" || fail "python3-uamqp installed but /usr/bin/python3 cannot import uamqp"
/usr/bin/python3 -c "import azure.eventhub" || fail "python3-azure installed but /usr/bin/python3 cannot import azure.eventhub"
/usr/bin/python3 -c "import websocket" || fail "python3-websocket installed but /usr/bin/python3 cannot import websocket"
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || fail "/usr/lib/rabbitmq/bin/rabbitmq-server not found"
echo "peers/install.sh: done"
