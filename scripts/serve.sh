#!/usr/bin/env bash
# Starts the action server, waits until it answers, then the Rasa server (`run`)
# or the terminal chat (`shell`). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
bin=.venv/bin
action_port=${ACTION_PORT:-5055}
rasa_port=${RASA_PORT:-5005}

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

echo ">> starting the action server on 127.0.0.1:$action_port"
# The action server checks the curated content at start-up and refuses a broken entry.
$bin/rasa run actions --port "$action_port" --actions actions &
pids+=($!)
for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$action_port/health" >/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "ERROR: the action server stopped (see the message above)." >&2; exit 1; fi
  sleep 1
done

if [ "$mode" = shell ]; then
  $bin/rasa shell --model models/current.tar.gz --endpoints endpoints.yml
  exit 0
fi

echo ">> starting the Rasa server on port $rasa_port (REST channel)"
$bin/rasa run --model models/current.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  --port "$rasa_port" --enable-api --cors "http://localhost:8080" &
pids+=($!)
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$rasa_port/status" >/dev/null 2>&1 || curl -sf "http://127.0.0.1:$rasa_port/" >/dev/null 2>&1; then break; fi
  sleep 1
done
cat <<MSG

  The assistant is ready. Talk to it over the REST channel:
    curl -s -X POST http://localhost:$rasa_port/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{"sender": "me", "message": "is a liver calcification dangerous?"}'
  Or in the terminal: make shell.   Ctrl-C stops both servers.

MSG
wait
