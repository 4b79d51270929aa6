#!/usr/bin/env bash
# End-to-end durable ingest over loopback: a release server on a fresh data folder, and
# `sporvern simulate` as the device fleet (real Teltonika TCP, ACK after commit).
# Usage: scripts/bench-ingest.sh [DEVICES] [RATE] [SECONDS] [RECORDS_PER_FRAME]
# Prints the simulator's report, the server's peak RSS, and the purpose engine's lag (sampled
# each second) and fix-to-fleet-view latency: the fleet's organisation gets a completed
# compliance register, so the purposes collect. Results go in BENCHMARKS.md.
# With SPORVERN_BENCH_DATABASE=postgres://… the server runs on PostgreSQL instead (a fresh
# schema in that database, dropped afterwards; needs psql).
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
rate=${2:-150000}
seconds=${3:-30}
per_frame=${4:-20}
bin=${SPORVERN_BIN:-target/release/sporvern}
# Ports: BENCH_PORT_BASE (default 10000) + 8080 web, + 5027 Teltonika, + 5055 OsmAnd.
base=${BENCH_PORT_BASE:-10000}
web=127.0.0.1:$((base + 8080)) tk=127.0.0.1:$((base + 5027)) osm=127.0.0.1:$((base + 5055))
[ -x "$bin" ] || cargo build --release -p sporvern
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
db_args=()
if [ -n "${SPORVERN_BENCH_DATABASE:-}" ]; then
  schema="bench_$$"
  psql -q "$SPORVERN_BENCH_DATABASE" -c "CREATE SCHEMA $schema"
  sep='?'; case "$SPORVERN_BENCH_DATABASE" in *\?*) sep='&';; esac
  db_args=(--database "${SPORVERN_BENCH_DATABASE}${sep}options=-csearch_path%3D$schema")
fi
cleanup() {
  kill "${server:-0}" 2>/dev/null || true
  wait "${server:-0}" 2>/dev/null || true
  if [ -n "${schema:-}" ]; then psql -q "$SPORVERN_BENCH_DATABASE" -c "DROP SCHEMA $schema CASCADE" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
echo "database: ${SPORVERN_BENCH_DATABASE:-embedded SQLite in the data folder}"
"$bin" simulate --devices "$devices" --write-org "$work/org.toml" >/dev/null
"$bin" org apply --data "$work/data" "${db_args[@]}" "$work/org.toml" >/dev/null
# The demo's completed register, for the two purposes the load fleet has (acknowledgements
# name the demo's employees, whom this fleet does not have: they are left out).
awk '
  /^\[\[measures\]\]/ { keep = 0; block = $0; next_is_id = 1; next }
  next_is_id && /^id = / { next_is_id = 0; keep = ($0 ~ /vehicle\.(driving_log|fleet_view)"/); if (keep) print block; }
  /^\[\[measures\.acknowledgements\]\]/ { skip = 1; next }
  /^\[/ { skip = 0 }
  keep && !skip { print }
' examples/register.toml > "$work/register.toml"
"$bin" register apply --data "$work/data" "${db_args[@]}" "$work/register.toml" >/dev/null
"$bin" --log warn serve --data "$work/data" "${db_args[@]}" --http "$web" \
  --teltonika "$tk" --osmand "$osm" &
server=$!
for _ in $(seq 100); do
  curl -sf http://$web/readyz >/dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$server" 2>/dev/null || { echo "the server did not start (ports in use? set BENCH_PORT_BASE)"; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
echo "command: $bin simulate --devices $devices --rate $rate --records-per-frame $per_frame --duration $seconds"
( while sleep 1; do
    curl -s http://$web/metrics | awk '/^sporvern_purpose_backlog_rows /{b=$2} /^sporvern_purpose_lag_seconds /{l=$2} END{print b, l}'
  done ) > "$work/lag.txt" &
sampler=$!
/usr/bin/time -f "simulator CPU: %U s user, %S s system" "$bin" --log warn simulate --teltonika "$tk" --devices "$devices" --rate "$rate" \
  --records-per-frame "$per_frame" --duration "$seconds" --ramp 5
kill "$sampler" 2>/dev/null || true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
awk '{ if ($1 > mb) mb = $1; if ($2 > ml) ml = $2 } END { printf "purpose engine lag, sampled each second: max backlog %d fixes, max age of the oldest unprocessed %.2f s\n", mb, ml }' "$work/lag.txt"
waited=0
for _ in $(seq 60); do
  left=$(curl -s http://$web/metrics | awk '/^sporvern_purpose_backlog_rows /{print $2}')
  [ "${left:-1}" = 0 ] && break
  sleep 0.5; waited=$((waited + 1))
done
echo "after the load stopped: ${left:-?} fixes left unprocessed after $((waited / 2)).$((waited % 2 * 5)) s"
curl -s http://$web/metrics | awk '
  /^sporvern_fix_to_fleet_view_seconds_bucket/ { match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; cum[n] = $2 }
  /^sporvern_fix_to_fleet_view_seconds_count/ { total = $2 }
  END {
    if (total == 0) { print "fix to fleet view: no fixes reached the fleet view"; exit }
    for (i = 1; i <= n; i++) { if (!p50 && cum[i] >= 0.5 * total) p50 = les[i]; if (!p99 && cum[i] >= 0.99 * total) p99 = les[i] }
    printf "fix to fleet view (%d fixes): p50 <= %s s, p99 <= %s s (histogram bucket bounds)\n", total, p50, p99
  }'
ticks=$(getconf CLK_TCK)
echo "server CPU: $(awk -v t="$ticks" '{printf "%.1f s user, %.1f s system", $14/t, $15/t}' /proc/$server/stat)"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$server/status)"
echo "server RSS now:  $(awk '/VmRSS/{print $2, $3}' /proc/$server/status)"
curl -s http://$web/metrics | grep -E '^sporvern_(commit_batch_rows_(sum|count)|commit_seconds_(sum|count)|records_acknowledged_total\{protocol="teltonika"\})'
