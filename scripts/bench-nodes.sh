#!/usr/bin/env bash
# Beyond one machine, side by side in one run (BENCHMARKS.md, "Several nodes"):
#  1. durable acknowledged ingest with DEVICES Teltonika connections on the embedded SQLite,
#     on PostgreSQL with one node, and on PostgreSQL with two nodes (half the devices on each);
#     the same simulator, rate and records per frame for all three;
#  2. the lease takeover after a node's SIGKILL, and the fleet view's propagation between the
#     nodes (sporvern_fleet_fanout_seconds on the surviving node: from a fix's acknowledgement
#     on the other node to its appearance in this node's fleet view).
# Usage: scripts/bench-nodes.sh [DEVICES] [RATE] [SECONDS] [RECORDS_PER_FRAME]
# Needs PostgreSQL (SPORVERN_BENCH_DATABASE, default postgres://root@127.0.0.1:5432/test; a
# fresh schema per configuration, dropped afterwards), NATS (SPORVERN_BENCH_NATS, default
# nats://127.0.0.1:4222), psql and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
rate=${2:-150000}
seconds=${3:-20}
per_frame=${4:-50}
bin=${SPORVERN_BIN:-target/release/sporvern}
pg=${SPORVERN_BENCH_DATABASE:-postgres://root@127.0.0.1:5432/test}
nats=${SPORVERN_BENCH_NATS:-nats://127.0.0.1:4222}
base=${BENCH_PORT_BASE:-20000}
[ -x "$bin" ] || cargo build --release -p sporvern
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pids=()
schemas=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for s in "${schemas[@]:-}"; do [ -n "$s" ] && psql -q "$pg" -c "DROP SCHEMA $s CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" simulate --devices "$devices" --write-org "$work/org.toml" >/dev/null
# The demo's completed register for the load fleet's two purposes (see bench-ingest.sh).
awk '
  /^\[\[measures\]\]/ { keep = 0; block = $0; next_is_id = 1; next }
  next_is_id && /^id = / { next_is_id = 0; keep = ($0 ~ /vehicle\.(driving_log|fleet_view)"/); if (keep) print block; }
  /^\[\[measures\.acknowledgements\]\]/ { skip = 1; next }
  /^\[/ { skip = 0 }
  keep && !skip { print }
' examples/register.toml > "$work/register.toml"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL: $(psql -tA "$pg" -c 'SHOW server_version') (synchronous_commit $(psql -tA "$pg" -c 'SHOW synchronous_commit'), on this machine); NATS: $nats"
echo "load: $devices devices, $rate records/s offered, $per_frame records per frame, $seconds s (+5 s ramp)"

# prepare NAME DB_ARGS... : a fresh database with the load fleet's organisation and register.
prepare() {
  local name=$1; shift
  mkdir -p "$work/$name"
  "$bin" --log warn org apply --data "$work/$name" "$@" "$work/org.toml" >/dev/null
  "$bin" --log warn register apply --data "$work/$name" "$@" "$work/register.toml" >/dev/null
}

# start NAME PORT_OFFSET NODE DB_ARGS... : one node; its pid in $started (no subshell: the
# node must stay a child of this script).
start() {
  local name=$1 off=$2 node=$3; shift 3
  # The embedded database is the prepared folder itself; on PostgreSQL each node has its own.
  local data="$work/$name-$node"
  case " $* " in *" --database "*) mkdir -p "$data" ;; *) data="$work/$name" ;; esac
  "$bin" --log warn serve --data "$data" "$@" --node "$node" \
    --http 127.0.0.1:$((base + off + 8080)) --teltonika 127.0.0.1:$((base + off + 5027)) \
    --osmand 127.0.0.1:$((base + off + 5055)) >"$work/$name-$node.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do
    curl -sf http://127.0.0.1:$((base + off + 8080))/readyz >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "node $node did not start:" >&2; cat "$work/$name-$node.log" >&2; exit 1; }
    sleep 0.1
  done
  # Another process on the port would have answered: this node must be the one alive.
  kill -0 "$pid" 2>/dev/null || { echo "node $node stopped:" >&2; tail -3 "$work/$name-$node.log" >&2; exit 1; }
  started=$pid
}

acked() { # PORT_OFFSET: the node's acknowledged Teltonika records
  curl -s http://127.0.0.1:$((base + $1 + 8080))/metrics | awk '/^sporvern_records_acknowledged_total\{protocol="teltonika"\}/{print $2}'
}

pg_schema() { # NAME: a fresh schema; its --database URL in $url
  local schema="bench_$1_$$"
  psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
  schemas+=("$schema")
  local sep='?'; case "$pg" in *\?*) sep='&';; esac
  url="${pg}${sep}options=-csearch_path%3D$schema"
}

# run LABEL NODES DB_ARGS... : the load against NODES nodes (devices split between them).
run() {
  local label=$1 nodes=$2; shift 2
  local name; name=$(echo "$label" | tr -c 'a-z0-9\n' '_')
  prepare "$name" "$@"
  local offs=()
  for n in $(seq 0 $((nodes - 1))); do
    local extra=(); [ "$nodes" -gt 1 ] && extra=(--nats-url "$nats")
    start "$name" $((n * 100)) "node$n" "$@" "${extra[@]}"
    offs+=($((n * 100)))
  done
  local per=$((devices / nodes)) sims=()
  for n in $(seq 0 $((nodes - 1))); do
    "$bin" --log warn simulate --teltonika 127.0.0.1:$((base + offs[n] + 5027)) --devices "$per" \
      --first-imei $((350000000000000 + n * per)) --rate $((rate / nodes)) \
      --records-per-frame "$per_frame" --duration "$seconds" --ramp 5 --json >"$work/$name-sim$n.json" 2>/dev/null &
    sims+=($!)
  done
  for s in "${sims[@]}"; do wait "$s" || true; done
  local rss=0
  for p in "${pids[@]}"; do
    [ -e "/proc/$p/status" ] && rss=$((rss + $(awk '/VmHWM/{print $2}' "/proc/$p/status")))
  done
  local total=0
  for o in "${offs[@]}"; do total=$((total + $(acked "$o"))); done
  python3 - "$label" "$total" $((rss / 1024)) "$work/$name"-sim*.json <<'EOF'
import json, sys
label, acked_server, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3]
reports = [json.load(open(f)) for f in sys.argv[4:]]
rate = sum(r["records_per_s"] for r in reports)
print(f"{label:<24} {rate:>9.0f} records/s acknowledged durably "
      f"({sum(r['acknowledged'] for r in reports)} by the simulators, {acked_server} by the servers' counters; "
      f"ACK p50 {max(r['ack_p50_ms'] for r in reports):.1f} ms, p99 {max(r['ack_p99_ms'] for r in reports):.1f} ms; "
      f"errors {sum(r['errors'] for r in reports)}; peak RSS of the node(s) {rss} MiB)")
EOF
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}

if [ "${BENCH_PART:-all}" != 2 ]; then
  echo
  echo "== 1. durable acknowledged ingest"
  run "SQLite (embedded)" 1
  pg_schema one
  run "PostgreSQL, one node" 1 --database "$url"
  pg_schema two
  run "PostgreSQL, two nodes" 2 --database "$url"
fi

echo
echo "== 2. lease takeover after SIGKILL, and the fleet view between nodes"
pg_schema takeover
# The demo organisation and its completed register (the load fleet's register lacks the
# organisation-wide records the gate asks of the fleet view), and its two Teltonika units.
mkdir -p "$work/takeover"
"$bin" --log warn org apply --data "$work/takeover" --database "$url" examples/org.toml >/dev/null
"$bin" --log warn register apply --data "$work/takeover" --database "$url" examples/register.toml >/dev/null
start takeover 0 node-a --database "$url" --nats-url "$nats"
a=$started
for _ in $(seq 100); do
  [ "$(psql -tA "$url" -c "SELECT count(*) FROM engine_lease WHERE name LIKE 'partition/%' AND holder = 'node-a'")" = 16 ] && break
  sleep 0.1
done
start takeover 100 node-b --database "$url" --nats-url "$nats"
for _ in $(seq 200); do
  [ "$(psql -tA "$url" -c "SELECT count(*) FROM engine_lease WHERE name LIKE 'partition/%' AND holder = 'node-b'")" = 8 ] && break
  sleep 0.1
done
# The units report to node A; node B's dispatcher view is fed over NATS for the vehicles
# node A's engine owns.
"$bin" --log warn simulate --teltonika 127.0.0.1:$((base + 5027)) --device teltonika:123456789012345 \
  --device teltonika:356307042441013 --rate 20 --records-per-frame 1 --duration 30 --ramp 1 | tail -1 || true
curl -s http://127.0.0.1:$((base + 100 + 8080))/metrics | awk '
  /^sporvern_fleet_fanout_seconds_bucket/ { match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; cum[n] = $2 }
  /^sporvern_fleet_fanout_seconds_count/ { total = $2 }
  END {
    if (total == 0) { print "fleet view between nodes: nothing arrived"; exit }
    for (i = 1; i <= n; i++) { if (!p50 && cum[i] >= 0.5 * total) p50 = les[i]; if (!p99 && cum[i] >= 0.99 * total) p99 = les[i] }
    printf "fleet view, node A -> node B (%d positions): p50 <= %s s, p99 <= %s s (from the acknowledgement on A to the view on B; histogram bucket bounds)\n", total, p50, p99
  }'
kill -0 "$a" 2>/dev/null || { echo "node A stopped:"; tail -5 "$work/takeover-node-a.log"; }
start_kill=$(date +%s.%N)
kill -9 "$a"
for _ in $(seq 400); do
  [ "$(psql -tA "$url" -c "SELECT count(*) FROM engine_lease WHERE name LIKE 'partition/%' AND holder = 'node-b' AND expires_at > sporvern_now_ms()")" = 16 ] && break
  sleep 0.05
done
end_kill=$(date +%s.%N)
printf 'lease takeover after SIGKILL of node A: node B holds all 16 partitions after %.2f s (bound: lease 6 s + one renewal round 1 s)\n' "$(echo "$end_kill - $start_kill" | bc -l)"
