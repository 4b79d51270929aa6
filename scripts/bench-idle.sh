#!/usr/bin/env bash
# Idle device connections: N logged-in Teltonika connections held open (scripts/bench-idle.py,
# over several loopback source addresses), the server's RSS with them, and an honest device's
# ACK latency among them (`sporvern simulate`, 10 devices at RATE records/s for 20 s).
# Usage: scripts/bench-idle.sh [N] [RATE]. The server raises its soft open-file limit to the
# hard one and gives Teltonika half of it (minus the reserve): N must fit under that, or raise
# the hard limit first (`ulimit -Hn`, which needs CAP_SYS_RESOURCE).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
rate=${2:-100}
bin=${SPORVERN_BIN:-target/release/sporvern}
base=${BENCH_PORT_BASE:-20000}
web=127.0.0.1:$((base + 8080)) tk=127.0.0.1:$((base + 5027)) osm=127.0.0.1:$((base + 5055))
[ -x "$bin" ] || cargo build --release -p sporvern
first=350000000000000
work=$(mktemp -d)
trap 'kill "${server:-0}" "${holder:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" simulate --devices $((n + 10)) --first-imei $first --write-org "$work/org.toml" >/dev/null
/usr/bin/time -f "org apply of $((n + 10)) devices: %e s" "$bin" --log warn org apply --data "$work/data" "$work/org.toml" >/dev/null
printf 'max_connections = %d\n' $((n + 1000)) > "$work/data/sporvern.toml"
"$bin" --log warn serve --data "$work/data" \
  --http "$web" --teltonika "$tk" --osmand "$osm" &
server=$!
for _ in $(seq 100); do curl -sf "http://$web/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "server RSS before: $(awk '/VmRSS/{print $2, $3}' /proc/$server/status)"
python3 scripts/bench-idle.py "$tk" "$n" "$first" 60 > "$work/holder.txt" &
holder=$!
until grep -q "logged in and idle" "$work/holder.txt" 2>/dev/null; do sleep 1; done
tail -1 "$work/holder.txt"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo "server RSS with them: $(awk '/VmRSS/{print $2, $3}' /proc/$server/status), peak $(awk '/VmHWM/{print $2, $3}' /proc/$server/status)"
curl -s "http://$web/metrics" | grep '^sporvern_connections_open{protocol="teltonika"}'
"$bin" --log warn simulate --teltonika "$tk" --devices 10 --first-imei $((first + n)) \
  --rate "$rate" --records-per-frame 1 --duration 20 --ramp 1
