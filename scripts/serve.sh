#!/usr/bin/env bash
# Starts the action server, waits until it answers, then the Rasa server (`run`)
# or the terminal chat (`shell`). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
bin=.venv/bin
action_port=${ACTION_PORT:-5055}
rasa_port=${RASA_PORT:-5005}
endpoints=${ENDPOINTS:-endpoints.yml}
demo_port=${DEMO_PORT:-8080}

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

echo ">> starting the action server on 127.0.0.1:$action_port"
# The action server checks the curated content at start-up and refuses a broken entry.
# It listens on localhost only: only the Rasa server talks to it. Its keep-alive
# outlasts the Rasa server's HTTP client's (15 s), which would otherwise reuse
# connections the action server has already closed.
SANIC_HOST=127.0.0.1 SANIC_KEEP_ALIVE_TIMEOUT=30 $bin/rasa run actions --port "$action_port" --actions actions &
pids+=($!)
for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$action_port/health" >/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "ERROR: the action server stopped (see the message above)." >&2; exit 1; fi
  sleep 1
done

if [ "$mode" = shell ]; then
  $bin/rasa shell --model models/current.tar.gz --endpoints "$endpoints"
  exit 0
fi

# The HTTP API (used by staff to hand a conversation back) is on only with a token.
api=()
if [ -n "${RASA_AUTH_TOKEN:-}" ]; then api=(--enable-api --auth-token "$RASA_AUTH_TOKEN"); fi

# Optional channels (clinic connector, Twilio, Telegram) are on only when their
# environment variables are set (.env.example); this writes the effective file.
credentials=.rasa/credentials.yml
mkdir -p .rasa
$bin/python -m connectors.credentials "$credentials"

echo ">> starting the Rasa server on port $rasa_port (loading the model takes a few seconds)"
$bin/rasa run --model models/current.tar.gz --endpoints "$endpoints" --credentials "$credentials" \
  --port "$rasa_port" --cors "http://localhost:$demo_port" "${api[@]}" &
pids+=($!)
ready=""
for _ in $(seq 1 120); do
  if curl -s -X POST "http://127.0.0.1:$rasa_port/webhooks/rest/webhook" -H 'Content-Type: application/json' \
       -d '{"sender": "startup-check", "message": "/greet"}' 2>/dev/null | grep -q text; then ready=yes; break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "ERROR: the Rasa server stopped (see the message above)." >&2; exit 1; fi
  sleep 1
done
[ -n "$ready" ] || { echo "ERROR: the Rasa server did not answer within 120 s." >&2; exit 1; }

# The demo clinic page with the chat widget, which talks to the socket.io channel.
$bin/python webchat/serve.py --port "$demo_port" --rasa-url "http://localhost:$rasa_port" &
pids+=($!)
cat <<MSG

  The assistant is ready. Talk to it over the REST channel:
    curl -s -X POST http://localhost:$rasa_port/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{"sender": "me", "message": "is a liver calcification dangerous?"}'
  Or open the demo clinic page with the chat widget: http://localhost:$demo_port/
  Or in the terminal: make shell.   Ctrl-C stops all three servers.

MSG
wait
