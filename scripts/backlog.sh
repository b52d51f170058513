#!/usr/bin/env bash
# A large delivery backlog on SQLite, through the real relay (issue 13, item 5). Not part of CI.
#
#   scripts/backlog.sh [CALLS]        (default 250000 calls x 4 deliveries = 1,000,000 deliveries)
#
# It builds switchboard and sbload, starts `serve` with one webhook sink ("crm", concurrency 16) that is
# paused (as during an outage: its deliveries are stored and wait), and posts CALLS webhooks with
# `sbload post -c 32`, each matched by one rule with four actions to that sink. It measures the ingest rate
# on an empty queue (the first $PROBE calls) and again with the whole backlog queued (the last $PROBE
# calls), then starts `sbload sink`, resumes the sink and times the drain until nothing is pending or in
# flight, while `sbload post -c 8` keeps posting for $STALL_PROBE (default 10s) from a second before
# the resume (its slowest acknowledgement shows how long ingest waited behind the resume). GET
# /api/sinks is timed with the whole backlog queued. VmRSS of serve (from /proc/PID/status) is sampled every second into $DIR/rss.tsv throughout.
# With DRAIN_FOR=SECONDS it stops measuring the drain after that long (for a backlog too large to wait for).
# Everything runs on loopback in a temporary directory ($DIR, kept for inspection).
set -euo pipefail
cd "$(dirname "$0")/.."

calls=${1:-250000}
probe=${PROBE:-20000}
drain_for=${DRAIN_FOR:-0}
per_call=4
dir=${DIR:-$(mktemp -d /tmp/switchboard-backlog.XXXXXX)}
relay_addr=${RELAY_ADDR:-127.0.0.1:8131}
sink_addr=${SINK_ADDR:-127.0.0.1:9131}
token=backlog-token-0123456789
export SBLOAD_TOKEN=$token

go build -o "$dir/switchboard" ./cmd/switchboard
go build -o "$dir/sbload" ./cmd/sbload

body='{ call_id: "{{ id }}", status: "{{ status }}", phone: "{{ customer_phone ?? \"unknown\" }}", n: N }'
{
  cat <<YAML
server:
  listen: "$relay_addr"
  auth:
    token: "$token"
storage:
  driver: sqlite
  path: "$dir/switchboard.db"
log:
  level: warn
sinks:
  crm:
    type: webhook
    url: "http://$sink_addr/hooks/calls"
    concurrency: 16
rules:
  - name: every-call
    when: id > 0
    actions:
YAML
  for n in $(seq 1 $per_call); do
    printf '      - sink: crm\n        body: %s\n' "${body/N/$n}"
  done
} > "$dir/bench.yaml"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$dir/switchboard" serve --config "$dir/bench.yaml" > "$dir/serve.log" 2>&1 &
relay=$!; pids+=("$relay")
until curl -fsS "http://$relay_addr/readyz" >/dev/null 2>&1; do sleep 0.2; done
curl -fsS -X POST "http://$relay_addr/api/sinks/crm/pause" >/dev/null

( while kill -0 "$relay" 2>/dev/null; do
    printf '%s\t%s\n' "$(date +%s)" "$(awk '/^VmRSS/ {print $2}' /proc/$relay/status)"
    sleep 1
  done ) > "$dir/rss.tsv" &
sampler=$!; pids+=("$sampler")

post() { # post N START_ID LABEL
  "$dir/sbload" post -url "http://$relay_addr/webhooks/intellixent" -c 32 -n "$1" -start-id "$2" -json > "$dir/post-$3.json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%-16s %7d calls acked %7d in %6.1fs: %6.0f calls/s (%6.0f deliveries/s), ack p50 %.1f ms p99 %.1f ms" % (sys.argv[2], r["requests"], r["acked"], r["seconds"], r["requests_per_second"], r["requests_per_second"]*int(sys.argv[3]), r["ack_latency_ms"]["p50"], r["ack_latency_ms"]["p99"]))' "$dir/post-$3.json" "$3" "$per_call"
}
pending() { curl -fsS "http://$relay_addr/api/sinks" | python3 -c 'import json,sys; s=json.load(sys.stdin)["sinks"][0]; print(s["pending"]+s["in_flight"])'; }

echo "dir $dir; $calls calls x $per_call deliveries; sink paused"
post "$probe" 1 empty-queue
post $((calls - 2 * probe)) $((probe + 1)) bulk
post "$probe" $((calls - probe + 1)) with-backlog
echo "queued: $(pending) deliveries; serve VmRSS $(awk '/^VmRSS/ {print $2, $3}' /proc/$relay/status)"
printf 'GET /api/sinks with the backlog queued (s):'
for _ in 1 2 3 4 5; do printf ' %s' "$(curl -fsS -o /dev/null -w '%{time_total}' "http://$relay_addr/api/sinks")"; done
echo

"$dir/sbload" sink -listen "$sink_addr" -interval 1h > "$dir/sink.log" 2>&1 &
pids+=("$!")
until curl -fsS "http://$sink_addr/stats" >/dev/null 2>&1; do sleep 0.2; done
# The writer stall: webhooks keep arriving while the resume restarts the backlog; the slowest
# acknowledgement among them bounds how long ingest waited for the writer.
"$dir/sbload" post -url "http://$relay_addr/webhooks/intellixent" -c 8 -d "${STALL_PROBE:-10s}" -start-id $((calls + 1)) -json > "$dir/post-during-resume.json" &
during=$!
sleep 1
start=$(date +%s.%N)
curl -fsS -X POST "http://$relay_addr/api/sinks/crm/resume" >/dev/null
resumed=$(date +%s.%N)
echo "resume answered in $(python3 -c "print('%.1f s' % ($resumed - $start))")"
wait "$during"
extra=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["acked"]); l=r["ack_latency_ms"]; print("ingest during the resume: %d calls acked at %.0f calls/s, ack p50 %.1f ms p99 %.1f ms max %.1f ms" % (r["acked"], r["requests_per_second"], l["p50"], l["p99"], l["max"]), file=sys.stderr)' "$dir/post-during-resume.json")
while :; do
  left=$(pending)
  now=$(date +%s.%N)
  printf '%s\t%s\n' "$(python3 -c "print('%.0f' % ($now - $start))")" "$left" >> "$dir/drain.tsv"
  [ "$left" = 0 ] && break
  if [ "$drain_for" != 0 ] && python3 -c "import sys; sys.exit(0 if $now - $start >= $drain_for else 1)"; then break; fi
  sleep 2
done
end=$(date +%s.%N)
total=$(((calls + extra) * per_call))
python3 -c "d=$end-$start; n=$total-$left; print('drained %d of %d deliveries in %.1f s: %.0f deliveries/s (from the resume request)' % (n, $total, d, n/d))"
curl -fsS "http://$sink_addr/stats"; echo
echo "serve VmRSS (kB) min/max over the run: $(cut -f2 "$dir/rss.tsv" | sort -n | sed -n '1p;$p' | paste -sd/)"
echo "serve VmHWM: $(awk '/^VmHWM/ {print $2, $3}' /proc/$relay/status)"
