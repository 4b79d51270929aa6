#!/usr/bin/env bash
# End-to-end durable ingest over loopback: a release server on a fresh data folder, and
# `sporvern simulate` as the device fleet (real Teltonika TCP, ACK after commit).
# Usage: scripts/bench-ingest.sh [DEVICES] [RATE] [SECONDS] [RECORDS_PER_FRAME]
# Prints the simulator's report and the server's peak RSS. Results go in BENCHMARKS.md.
# With SPORVERN_BENCH_DATABASE=postgres://… the server runs on PostgreSQL instead (a fresh
# schema in that database, dropped afterwards; needs psql). SPORVERN_BENCH_PORT_OFFSET moves
# the ports (18080, 15027, 15055) when another server on the machine holds them.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
rate=${2:-150000}
seconds=${3:-30}
per_frame=${4:-20}
bin=${SPORVERN_BIN:-target/release/sporvern}
[ -x "$bin" ] || cargo build --release -p sporvern
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

off=${SPORVERN_BENCH_PORT_OFFSET:-0}
http_port=$((18080 + off)); tk_port=$((15027 + off)); os_port=$((15055 + off))
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
  [ -n "${schema:-}" ] && psql -q "$SPORVERN_BENCH_DATABASE" -c "DROP SCHEMA $schema CASCADE" || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" simulate --devices "$devices" --write-org "$work/org.toml" >/dev/null
"$bin" org apply --data "$work/data" "${db_args[@]}" "$work/org.toml" >/dev/null
echo "database: ${SPORVERN_BENCH_DATABASE:-embedded SQLite in the data folder}"
"$bin" --log warn serve --data "$work/data" "${db_args[@]}" --http 127.0.0.1:$http_port \
  --teltonika 127.0.0.1:$tk_port --osmand 127.0.0.1:$os_port &
server=$!
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:$http_port/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$server" 2>/dev/null || { echo "the server did not start (ports taken? set SPORVERN_BENCH_PORT_OFFSET)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
echo "command: $bin simulate --devices $devices --rate $rate --records-per-frame $per_frame --duration $seconds"
/usr/bin/time -f "simulator CPU: %U s user, %S s system" "$bin" --log warn simulate --teltonika 127.0.0.1:$tk_port --devices "$devices" --rate "$rate" \
  --records-per-frame "$per_frame" --duration "$seconds" --ramp 5
ticks=$(getconf CLK_TCK)
echo "server CPU: $(awk -v t="$ticks" '{printf "%.1f s user, %.1f s system", $14/t, $15/t}' /proc/$server/stat)"
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$server/status)"
echo "server RSS now:  $(awk '/VmRSS/{print $2, $3}' /proc/$server/status)"
curl -s http://127.0.0.1:$http_port/metrics | grep -E '^sporvern_(commit_batch_rows_(sum|count)|commit_seconds_(sum|count)|records_acknowledged_total\{protocol="teltonika"\})'
