#!/usr/bin/env bash
# Runs the README's quickstart against `npm start`, exactly as a newcomer would type it.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(mktemp -d)"
log="$data_dir/npm-start.log"
# `npm start` on its default settings (its data goes to .sluice/dev in this fresh clone).
# Its own process group, so that the whole tree (npm, sluice dev, the cluster) can be signalled:
# a background job of a non-interactive shell ignores SIGINT, so Ctrl-C is played by SIGTERM.
setsid npm start >"$log" 2>&1 &
start_pid=$!
cleanup() {
  kill -TERM -- "-$start_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 -- "-$start_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$start_pid" 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 60); do
  grep -q 'cluster is up' "$log" && break
  kill -0 "$start_pid" 2>/dev/null || { cat "$log"; echo "npm start exited early"; exit 1; }
  sleep 0.5
done
grep -q 'cluster is up' "$log" || { cat "$log"; echo "npm start did not come up in 30 s"; exit 1; }

npx sluice topic create orders --partitions 6 --replication-factor 3
seq 1 1000 | sed 's/.*/key-&:value-&/' | npx sluice produce orders --key-separator :
count=$(npx sluice consume orders --from-beginning --print-offset --print-key --max-messages 1000 | wc -l)
[ "$count" -eq 1000 ] || { echo "quickstart consumed $count records, expected 1000"; exit 1; }
npx sluice topic describe orders
npx sluice cluster describe
echo "quickstart: 1 passed, 0 failed"
