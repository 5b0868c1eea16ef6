#!/usr/bin/env bash
# A local Redis Cluster of 3 masters and 3 replicas for the tests of the Redis-shared middleware:
# six `redis-server --cluster-enabled yes` on free loopback ports in a temp dir, joined by
# `redis-cli --cluster create --cluster-replicas 1`, ready once every node says cluster_state:ok.
#
#   scripts/redis-cluster.sh serve                           # for scripts/test-env.mjs, see below
#   eval "$(scripts/redis-cluster.sh start [--owner PID])"   # exports REDIS_CLUSTER_NODES, REDIS_CLUSTER_DIR
#   scripts/redis-cluster.sh stop DIR                        # stops the nodes and removes DIR
#
# `serve` is how `npm test` (scripts/test-env.mjs, its scriptLauncher) runs it: it prints
# REDIS_CLUSTER_NODES=… and READY, and stops the cluster on SIGTERM or once its parent is gone.
# With --owner, a watcher stops the cluster once that process exits, so nothing outlives the run.
# The tests' own clusters (the ones they kill nodes of) come from startRedisCluster in
# @extapi/core/testing; this script is for the cluster a whole run shares. REDIS_SERVER_BIN picks the redis-server (redis-cli is taken from beside it);
# REDIS_CLUSTER_NODE_TIMEOUT (ms, default 2000) is how long a master may be silent before its
# replica is promoted. Any failure exits non-zero with the nodes' logs on stderr.
set -euo pipefail

server=${REDIS_SERVER_BIN:-$(command -v redis-server || true)}
[ -n "$server" ] && [ -x "$server" ] || { echo "redis-cluster: redis-server not found (set REDIS_SERVER_BIN)" >&2; exit 1; }
cli="$(dirname "$server")/redis-cli"
[ -x "$cli" ] || cli=$(command -v redis-cli || true)
[ -n "$cli" ] || { echo "redis-cluster: redis-cli not found beside $server" >&2; exit 1; }

stop() {
  local dir=$1 pid
  for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

# Six ports p with p and p + 10000 (the cluster bus) both free on 127.0.0.1.
free_ports() {
  node -e '
    const net = require("node:net");
    const free = (port) => new Promise((resolve) => {
      const s = net.createServer().once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    (async () => {
      const ports = [];
      for (let tries = 0; ports.length < 6 && tries < 2000; tries++) {
        const p = 20000 + Math.floor(Math.random() * 25000);
        if (!ports.includes(p) && (await free(p)) && (await free(p + 10000))) ports.push(p);
      }
      if (ports.length < 6) process.exit(1);
      console.log(ports.join(" "));
    })();
  '
}

# Starts the cluster; sets CLUSTER_DIR and CLUSTER_NODES (host:port,…).
start() {
  local owner=${1:-}
  local timeout=${REDIS_CLUSTER_NODE_TIMEOUT:-2000} dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/extapi-redis-cluster-XXXXXX")
  # The nodes' logs, then the cleanup: nothing in this trap may fail (set -e would skip the stop).
  trap 'for log in "$dir"/*.log; do [ -f "$log" ] && { echo "== $log"; tail -n 20 "$log"; } >&2 || true; done; stop "$dir"' ERR
  local ports
  read -r -a ports <<<"$(free_ports)"
  local nodes=()
  for port in "${ports[@]}"; do
    "$server" --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "nodes-$port.conf" --cluster-node-timeout "$timeout" \
      --save '' --appendonly no --dir "$dir" --daemonize yes \
      --pidfile "$dir/$port.pid" --logfile "$dir/$port.log"
    nodes+=("127.0.0.1:$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do
      "$cli" -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
  done
  "$cli" --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1
  # Every node must agree before a client connects: one that still says fail would refuse commands.
  local ok
  for _ in $(seq 1 200); do
    ok=0
    for port in "${ports[@]}"; do
      "$cli" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" -eq 6 ] && break
    sleep 0.1
  done
  [ "$ok" -eq 6 ] || { echo "redis-cluster: cluster_state not ok on every node" >&2; false; }
  # And every replica must have synced once: one that never did refuses to stand for election
  # (its data counts as too old), so its master's death would leave the slots without an owner.
  local synced
  for _ in $(seq 1 200); do
    synced=0
    for port in "${ports[@]}"; do
      "$cli" -p "$port" info replication 2>/dev/null | grep -q -e '^role:master' -e '^master_link_status:up' && synced=$((synced + 1))
    done
    [ "$synced" -eq 6 ] && break
    sleep 0.1
  done
  [ "$synced" -eq 6 ] || { echo "redis-cluster: replicas not in sync" >&2; false; }
  if [ -n "$owner" ]; then
    # Detached from our stdout, so `eval "$(...)"` returns while the watcher runs.
    (while kill -0 "$owner" 2>/dev/null; do sleep 1; done; stop "$dir") </dev/null >/dev/null 2>&1 &
  fi
  trap - ERR
  CLUSTER_DIR=$dir
  CLUSTER_NODES=$(IFS=,; echo "${nodes[*]}")
}

case "${1:-}" in
  start)
    shift
    owner=
    if [ "${1:-}" = --owner ]; then owner=${2:?--owner needs a pid}; fi
    start "$owner"
    echo "export REDIS_CLUSTER_NODES=$CLUSTER_NODES REDIS_CLUSTER_DIR=$CLUSTER_DIR"
    echo "echo 'redis-cluster: on $CLUSTER_NODES' >&2"
    ;;
  serve)
    parent=$PPID
    start ""
    trap 'stop "$CLUSTER_DIR"; exit 0' TERM INT HUP
    echo "REDIS_CLUSTER_NODES=$CLUSTER_NODES"
    echo READY
    # `sleep & wait`, not a bare sleep: a SIGTERM then runs the trap at once.
    while kill -0 "$parent" 2>/dev/null; do
      sleep 1 &
      wait $! || true
    done
    stop "$CLUSTER_DIR"
    ;;
  stop) stop "${2:?stop needs the cluster dir}" ;;
  *) echo "usage: $0 serve | start [--owner PID] | stop DIR" >&2; exit 2 ;;
esac
