"""What python-socketio's Redis manager costs a widget patient's turn.

    .venv/bin/python -m tests.load.socketio_redis_cost [--turns 200] [--rounds 2]

Starts the action server, then one Rasa process of the clinic profile
(PostgreSQL, Redis lock store) at a time, with and without `redis_url` in its
socket.io credentials (SOCKETIO_REDIS_URL), alternating, and times `--turns`
widget turns over a websocket: from sending the message to the `turn_end`
that follows its replies (connectors/widget.py). With the manager every reply
goes through Redis and back before it reaches the socket. Prints the median and
95th percentile of each configuration over all rounds.
"""
import argparse
import os
import queue
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List

import requests
import socketio

from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until
from tests.load.test_load_and_faults import QUESTIONS, SOCKETIO_REDIS_URL


def start_rasa(workdir: Path, action_port: int, redis: bool) -> tuple:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CLINIC_", "TWILIO_", "TELEGRAM_"))}
    env.update(RATE_LIMIT_ADDRESS="0", RATE_LIMIT_CONVERSATION="0", SANIC_WORKERS="1")
    if redis:
        env["SOCKETIO_REDIS_URL"] = SOCKETIO_REDIS_URL
    else:
        env.pop("SOCKETIO_REDIS_URL", None)
    endpoints, credentials = workdir / "endpoints.yml", workdir / f"credentials-{redis}.yml"
    endpoints.write_text((ROOT / "endpoints.prod.yml").read_text().replace(
        "http://localhost:5055/webhook", f"http://127.0.0.1:{action_port}/webhook"))
    subprocess.run([BIN / "python", "-m", "connectors.credentials", credentials], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    log = workdir / f"rasa-{redis}.log"
    process = subprocess.Popen(
        [BIN / "rasa", "run", "--model", MODEL, "--endpoints", endpoints, "--credentials", credentials,
         "--interface", "127.0.0.1", "--port", str(port), "--enable-api", "--auth-token", TOKEN],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(f"{url}/status", params={"token": TOKEN}, timeout=2).ok, 180, process, log)
    return process, url


def time_turns(url: str, turns: int) -> List[float]:
    """Seconds from each message to its turn_end, for one widget conversation after 5 warm-up turns."""
    turn_ends: queue.Queue = queue.Queue()
    confirmed: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("turn_end", turn_ends.put)
    client.on("session_confirm", confirmed.put)
    client.connect(url, transports=["websocket"], wait_timeout=30)
    times = []
    try:
        for number in range(turns + 5):
            if number % len(QUESTIONS) == 0:  # a new conversation every 20 turns, as patients come and go
                client.emit("session_request", {"session_id": f"cost-{uuid.uuid4().hex[:10]}"})
                session_id = confirmed.get(timeout=10)
            started = time.perf_counter()
            client.emit("user_uttered", {"message": QUESTIONS[number % len(QUESTIONS)], "session_id": session_id})
            turn_ends.get(timeout=60)
            if number >= 5:
                times.append(time.perf_counter() - started)
    finally:
        client.disconnect()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200, help="timed turns per configuration and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (without, with) Redis")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="socketio-redis-cost-"))
    action_port = free_port()
    log = workdir / "actions.log"
    actions = subprocess.Popen([BIN / "rasa", "run", "actions", "--port", str(action_port), "--actions", "actions"],
                               cwd=ROOT, env=dict(os.environ, **ACTION_SERVER_ENV), stdout=log.open("a"),
                               stderr=subprocess.STDOUT)
    results: Dict[bool, List[float]] = {False: [], True: []}
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2).ok, 60, actions, log)
        for round_number in range(args.rounds):
            for redis in (False, True):
                process, url = start_rasa(workdir, action_port, redis)
                try:
                    times = time_turns(url, args.turns)
                finally:
                    stop(process)
                results[redis] += times
                print(f"round {round_number + 1}, {'with' if redis else 'without'} Redis: "
                      f"median {statistics.median(times) * 1000:.1f} ms over {len(times)} turns", flush=True)
    finally:
        stop(actions)
    for redis, times in results.items():
        times.sort()
        print(f"{'with' if redis else 'without'} the Redis manager: {len(times)} turns, median "
              f"{statistics.median(times) * 1000:.1f} ms, p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
