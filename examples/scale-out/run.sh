#!/usr/bin/env bash
# examples/scale-out/run.sh: several sluice workers sharing one pipeline, on one machine. Starts a ClickHouse
# cluster (2 replicas of one shard + the ZooKeeper that both ClickHouse and the workers' leases use) and
# librdkafka's mock Kafka cluster (3 brokers, topic tracking with 6 partitions), produces generated tracking
# events keyed by line number with kcat, starts 3 workers (`sluice run --worker w1|w2|w3`) on one config,
# kills one with kill -9 and restarts it, waits until every event is loaded and prints a summary. Every
# process it starts is stopped by its PID on exit (Ctrl-C too). Nothing here is needed on several machines;
# see the README's "Scaling out".
# Usage: examples/scale-out/run.sh [EVENTS]   (default 200,000; KEEP=1 keeps the work folder and its logs)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/examples/scale-out"
events=${1:-200000}
build="$root/build"
first=$((events / 2))
second=$((events - first))

command -v kcat >/dev/null || { echo "kcat is not installed (apt-get install kcat)" >&2; exit 1; }
echo "building sluice, clickhouse_server, kafka_mock_cluster..."
cmake --build "$build" --target sluice clickhouse_server kafka_mock_cluster -j2 > /tmp/sluice-scale-out-build.log 2>&1 ||
  { tail -20 /tmp/sluice-scale-out-build.log >&2; exit 1; }

work=$(mktemp -d /tmp/sluice-scale-out-XXXXXX)
declare -A worker_pid=() worker_port=()
ch_pid="" kafka_pid=""
stop() {  # SIGTERM, then wait: a worker finishes its open batch, the fixtures stop their servers
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  for w in "${!worker_pid[@]}"; do stop "${worker_pid[$w]}"; done
  stop "$kafka_pid"
  stop "$ch_pid"
  if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The first line "KEY=VALUE" of FILE, waiting up to SECONDS for it.
wait_value() {
  local file=$1 key=$2 seconds=$3 value
  for _ in $(seq 1 $((seconds * 10))); do
    value=$(sed -n "s/^$key=//p" "$file" 2>/dev/null | head -1)
    [ -n "$value" ] && { echo "$value"; return 0; }
    sleep 0.1
  done
  return 1
}
free_port() {  # a loopback port nobody listens on
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

echo "starting ClickHouse (2 replicas of sluice_cluster) and ZooKeeper..."
"$build/clickhouse_server" --replicas > "$work/clickhouse.out" 2> "$work/clickhouse.err" &
ch_pid=$!
zookeeper=$(wait_value "$work/clickhouse.out" zookeeper 120) ||
  { echo "ClickHouse did not start:" >&2; tail -5 "$work/clickhouse.err" >&2; exit 1; }
ch_url=$(wait_value "$work/clickhouse.out" url 1)
cluster=$(wait_value "$work/clickhouse.out" cluster 1)
echo "  ClickHouse $ch_url and $(wait_value "$work/clickhouse.out" url2 1), ZooKeeper $zookeeper"

echo "starting the mock Kafka cluster (3 brokers, tracking: 6 partitions)..."
"$build/src/sources/kafka_mock_cluster" --brokers 3 --topic tracking:6 > "$work/kafka.out" 2> "$work/kafka.err" &
kafka_pid=$!
bootstrap=$(wait_value "$work/kafka.out" bootstrap.servers 30) ||
  { echo "the mock cluster did not start:" >&2; tail -5 "$work/kafka.err" >&2; exit 1; }
echo "  bootstrap.servers=$bootstrap"

config="$work/sluice.yaml"
export SLUICE_CH_READER=reader  # the read-only user the fixture's servers declare
sed -e "s|@CLICKHOUSE_URL@|$ch_url|" -e "s|@CLUSTER@|$cluster|" -e "s|@ZOOKEEPER@|$zookeeper|" \
    -e "s|@BOOTSTRAP@|$bootstrap|" "$here/sluice.yaml" > "$config"

echo "generating $events events..."
"$build/sluice" gen --events "$first" --seed 1 --out "$work/a.ndjson" 2>/dev/null
"$build/sluice" gen --events "$second" --seed 2 --out "$work/b.ndjson" 2>/dev/null
# Keyed by line number, so Kafka's partitioner spreads them over the 6 partitions. zstd-compressed: the mock
# broker keeps only ~5 MB of message sets per partition and drops the oldest beyond that.
produce() {  # FILE FIRST_KEY
  awk -v k="$2" '{print NR + k "\t" $0}' "$1" | kcat -P -b "$bootstrap" -t tracking -K '\t' -z zstd
}

q() {  # the single value a query answers
  "$build/sluice" query -c "$config" --format csv "$1" 2>/dev/null | tail -n 1 | tr -d '"\r'
}
loaded() { local n; n=$(q "SELECT count() FROM raw_tracking") || true; echo "${n:-0}"; }
start_worker() {  # NAME: sluice run --worker NAME on its own port; returns once /healthz answers
  local name=$1
  [ -n "${worker_port[$name]:-}" ] || worker_port[$name]=$(free_port)
  "$build/sluice" run -c "$config" --worker "$name" --listen "127.0.0.1:${worker_port[$name]}" --quiet \
    >> "$work/worker-$name.log" 2>&1 &
  worker_pid[$name]=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:${worker_port[$name]}/healthz" >/dev/null 2>&1 && {
      echo "  $name: pid ${worker_pid[$name]}, http://127.0.0.1:${worker_port[$name]}/"
      return 0
    }
    kill -0 "${worker_pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "worker $name did not come up:" >&2
  tail -20 "$work/worker-$name.log" >&2
  exit 1
}
t0=$(date +%s)
progress() { echo "  [$(($(date +%s) - t0))s] loaded $(loaded) / $events"; }
section() { echo; echo "== $* =="; }

section "producing the first $first events"
produce "$work/a.ndjson" 0

section "starting 3 workers"
for w in w1 w2 w3; do start_worker "$w"; done
t0=$(date +%s)
for _ in $(seq 1 240); do [ "$(loaded)" -gt 0 ] && break; sleep 0.25; done
progress
section "sluice status (3 workers)"
"$build/sluice" status -c "$config" || true

section "kill -9 w2 (pid ${worker_pid[w2]}) while the other $second events arrive (5 chunks, 3 s apart)"
kill -9 "${worker_pid[w2]}"
wait "${worker_pid[w2]}" 2>/dev/null || true
unset 'worker_pid[w2]'
awk -v k="$first" '{print NR + k "\t" $0}' "$work/b.ndjson" > "$work/b.keyed"
split -n l/5 "$work/b.keyed" "$work/b.chunk."
(for chunk in "$work"/b.chunk.*; do kcat -P -b "$bootstrap" -t tracking -K '\t' -z zstd < "$chunk"; sleep 3; done) &
producer=$!
# Kafka moves w2's partitions to w1 and w3 once session.timeout.ms (6 s) passes without its heartbeat;
# ZooKeeper drops w2 from the registry and frees its leases once its session (lease_timeout, 10 s) expires.
for _ in $(seq 1 6); do sleep 2; progress; done
section "sluice status, workers and leases (w2 dead)"
"$build/sluice" status -c "$config" | sed -n '/^Workers/,$p' || true

section "restarting w2 under the same name"
start_worker w2
wait "$producer"
deadline=$(($(date +%s) + 300))
while n=$(loaded); [ "$n" != "$events" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out at $n of $events loaded" >&2; exit 1; }
  progress
  sleep 2
done
progress

# The transforms run a second after new data, on whichever worker holds each rollup's lease.
for _ in $(seq 1 60); do [ "$(q "SELECT sum(events) FROM by_ad")" = "$events" ] && break; sleep 1; done
section "sluice status, workers and leases (w2 back)"
"$build/sluice" status -c "$config" | sed -n '/^Workers/,$p' || true

section "summary"
distinct=$(q "SELECT uniqExact(_source, _partition, _offset) FROM raw_tracking_origin")
partitions=$(q "SELECT uniqExact(_partition) FROM raw_tracking_origin")
by_ad=$(q "SELECT sum(events) FROM by_ad")
by_country=$(q "SELECT sum(events) FROM by_country")
# by_country against GROUP BY over raw: the same (hour, country, events) rows, compared by count and by a sum
# of row hashes.
rollup_rows=$(q "SELECT count(), sum(cityHash64(toUInt32(hour), country, toUInt64(events))) FROM by_country")
raw_rows=$(q "SELECT count(), sum(cityHash64(toUInt32(h), country, toUInt64(n))) FROM (SELECT toStartOfHour(ts, 'UTC')
  AS h, country, count() AS n FROM raw_tracking GROUP BY h, country)")
[ "$rollup_rows" = "$raw_rows" ] && same="yes (${rollup_rows%%,*} rows)" || same="NO: $rollup_rows vs $raw_rows"
printf '%-44s %s\n' "events produced" "$events" \
  "rows in raw_tracking" "$(loaded)" \
  "distinct (source, partition, offset)" "$distinct" \
  "Kafka partitions seen" "$partitions" \
  "sum(events) in by_ad (day x ad_id)" "$by_ad" \
  "sum(events) in by_country (hour x country)" "$by_country" \
  "by_country equal to GROUP BY over raw" "$same"
echo "worker logs: $work/worker-*.log (KEEP=1 keeps them)"
if [ "$distinct" = "$events" ] && [ "$by_ad" = "$events" ] && [ "$by_country" = "$events" ] && [ "$rollup_rows" = "$raw_rows" ]; then
  echo "OK: every event loaded exactly once, rollups equal GROUP BY over raw"
else
  echo "MISMATCH" >&2
  exit 1
fi
