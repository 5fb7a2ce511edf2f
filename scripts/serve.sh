#!/usr/bin/env bash
# Starts the action server, waits until it answers, then:
#   run       one Rasa server on the public port
#   run-prod  the clinic profile: RASA_PROCESSES Rasa server processes on
#             localhost (PostgreSQL + Redis, endpoints.prod.yml), HAProxy on the
#             public port in front of them
#   shell     the terminal chat
# and (run, run-prod) the demo page and the staff console. Ctrl-C stops
# everything; in run-prod, HAProxy first lets open requests finish.
set -euo pipefail
set -m  # each server in a process group of its own: Ctrl-C reaches only this script, which stops them in order
cd "$(dirname "$0")/.."
mode=${1:-run}
bin=.venv/bin
action_port=${ACTION_PORT:-5055}
rasa_port=${RASA_PORT:-5005}
endpoints=${ENDPOINTS:-endpoints.yml}
demo_port=${DEMO_PORT:-8080}
processes=${RASA_PROCESSES:-2}
first_backend_port=${RASA_BACKEND_PORT:-5101}
staff_host=${STAFF_HOST:-127.0.0.1}
staff_port=${STAFF_PORT:-8090}
# Rasa's HTTP API, through which the staff console replies and hands back, is on
# only with a token. Without one, a random token for this run, given to the Rasa
# server(s) and the console only (not exported: the other processes never see it).
rasa_token=${RASA_AUTH_TOKEN:-}
generated_token=""
if [ -z "$rasa_token" ]; then
  rasa_token=$($bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
  generated_token=yes
fi

pids=()        # action server, Rasa servers, demo page, staff console
haproxy_pid=""
stop() {
  trap - EXIT INT TERM
  if [ -n "$haproxy_pid" ]; then
    kill -USR1 "$haproxy_pid" 2>/dev/null || true  # soft stop: stop listening, finish open requests
    wait "$haproxy_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

wait_for_answer() {  # port pid: the Rasa server on the port answers a patient's first message
  for _ in $(seq 1 180); do
    if curl -s -X POST "http://127.0.0.1:$1/webhooks/rest/webhook" -H 'Content-Type: application/json' \
         -d '{"sender": "startup-check", "message": "/greet"}' 2>/dev/null | grep -q text; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then echo "ERROR: the Rasa server on port $1 stopped (see the message above)." >&2; exit 1; fi
    sleep 1
  done
  echo "ERROR: the Rasa server on port $1 did not answer within 180 s." >&2; exit 1
}

echo ">> starting the action server on 127.0.0.1:$action_port"
# The action server checks the curated content at start-up and refuses a broken entry.
# It listens on localhost only: only the Rasa server talks to it. Its keep-alive
# outlasts the Rasa server's HTTP client's (15 s), which would otherwise reuse
# connections the action server has already closed.
# STAFF_CONSOLE_URL tells action_hand_off that staff can take over in the console.
staff_console_url=""
if [ "$mode" != shell ]; then staff_console_url=${STAFF_CONSOLE_URL:-http://$staff_host:$staff_port/}; fi
STAFF_CONSOLE_URL=$staff_console_url SANIC_HOST=127.0.0.1 SANIC_KEEP_ALIVE_TIMEOUT=30 \
  $bin/rasa run actions --port "$action_port" --actions actions &
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

api=(--enable-api --auth-token "$rasa_token")

# Optional channels (clinic connector, Twilio, Telegram) are on only when their
# environment variables are set (.env.example); this writes the effective file.
credentials=.rasa/credentials.yml
mkdir -p .rasa
$bin/python -m connectors.credentials "$credentials"
rasa_run=($bin/rasa run --model models/current.tar.gz --endpoints "$endpoints" --credentials "$credentials"
          --cors "http://localhost:$demo_port" "${api[@]}")

if [ "$mode" = run-prod ]; then
  ports=()
  for number in $(seq 1 "$processes"); do
    port=$((first_backend_port + number - 1))
    ports+=("$port")
    echo ">> starting Rasa server process $number of $processes on 127.0.0.1:$port"
    # Its keep-alive outlasts HAProxy's reuse of idle connections. A conversation's
    # Redis lock held by a process that dies is free again after TICKET_LOCK_LIFETIME
    # (Rasa's default, 60 s, would hold that patient's next message for a minute).
    SANIC_WORKERS=1 SANIC_KEEP_ALIVE_TIMEOUT=75 TICKET_LOCK_LIFETIME=${TICKET_LOCK_LIFETIME:-20} \
      "${rasa_run[@]}" --interface 127.0.0.1 --port "$port" &
    pids+=($!)
  done
  for index in "${!ports[@]}"; do wait_for_answer "${ports[$index]}" "${pids[$((index + 1))]}"; done
  config=.rasa/haproxy.cfg
  $bin/python -m deploy.haproxy "$config" --port "$rasa_port" --rasa-ports "${ports[@]}" --api
  echo ">> starting HAProxy on port $rasa_port in front of ${#ports[@]} Rasa processes"
  haproxy -W -f "$config" &
  haproxy_pid=$!
  for _ in $(seq 1 20); do
    if curl -sf "http://127.0.0.1:$rasa_port/" >/dev/null; then break; fi
    sleep 0.5
  done
else
  echo ">> starting the Rasa server on port $rasa_port (loading the model takes a few seconds)"
  "${rasa_run[@]}" --port "$rasa_port" &
  pids+=($!)
  wait_for_answer "$rasa_port" "${pids[1]}"
fi

# The demo clinic page with the chat widget, which talks to the socket.io channel.
$bin/python webchat/serve.py --port "$demo_port" --rasa-url "http://localhost:$rasa_port" &
pids+=($!)

# The staff console reads the conversations' database and talks to Rasa's HTTP API on
# the public port (in run-prod, through HAProxy). It says so if no staff account exists yet.
echo ">> starting the staff console on $staff_host:$staff_port"
STAFF_ENDPOINTS=${STAFF_ENDPOINTS:-$endpoints} RASA_URL="http://127.0.0.1:$rasa_port" RASA_AUTH_TOKEN="$rasa_token" \
  STAFF_HOST=$staff_host STAFF_PORT=$staff_port $bin/python -m staff.app &
console_pid=$!
pids+=($console_pid)
for _ in $(seq 1 60); do
  if curl -sf "http://$staff_host:$staff_port/sign-in" >/dev/null; then break; fi
  if ! kill -0 "$console_pid" 2>/dev/null; then echo "ERROR: the staff console stopped (see the message above)." >&2; exit 1; fi
  sleep 1
done
token_note="RASA_AUTH_TOKEN from your environment"
if [ -n "$generated_token" ]; then token_note="a random RASA_AUTH_TOKEN made for this run; set your own to call the API yourself"; fi

cat <<MSG

  The assistant is ready. Talk to it over the REST channel:
    curl -s -X POST http://localhost:$rasa_port/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' \\
         -d '{"sender": "me", "message": "is a liver calcification dangerous?"}'
  Or open the demo clinic page with the chat widget: http://localhost:$demo_port/
  Or in the terminal: make shell.   Ctrl-C stops all the servers.

  Staff console (clinic staff answer patients who asked for a person): http://$staff_host:$staff_port/
  A staff account: make staff-user.   Rasa's HTTP API uses $token_note.

MSG
wait
