"""Floods: over a limit, 429 (or "please slow down" on socket.io) and nothing
stored, while other patients are served normally. The servers run with
RATE_LIMIT_CONVERSATION=6/60 and RATE_LIMIT_ADDRESS=20/60 (conftest.LIMITS)."""
import json
import queue
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
import socketio

from connectors.limits import Limiter, Rate
from content_model import load_library
from tests.security.conftest import ALLOWED_ORIGIN, new_id

SLOW_DOWN = load_library().content("en").clinic["slow_down"]


def test_a_conversation_over_its_limit_gets_429_and_nothing_more_is_stored(clinic):
    sender = new_id("flood")
    statuses = [clinic.say(sender, f"is it dangerous? {n}").status_code for n in range(10)]
    assert statuses == [200] * 6 + [429] * 4
    assert len(clinic.user_texts(sender)) == 6


def test_an_address_over_its_limit_gets_429_across_conversations(clinic):
    address = "198.51.100.7"
    statuses = [clinic.say(new_id("addr"), "hello", **{"X-Forwarded-For": address}).status_code for _ in range(24)]
    assert statuses.count(200) == 20 and statuses[20:] == [429] * 4
    refused = clinic.say(new_id("addr"), "hello", **{"X-Forwarded-For": address})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Another address is served.
    assert clinic.say(new_id("addr"), "hello", **{"X-Forwarded-For": "198.51.100.8"}).status_code == 200


def test_a_client_cannot_pick_its_address_behind_a_trusted_proxy():
    limiter = Limiter(None, Rate(1, 60), [__import__("ipaddress").ip_network("10.0.0.1/32")])
    # From an untrusted peer, X-Forwarded-For is ignored.
    assert limiter.client_address("203.0.113.5", "198.51.100.1") == "203.0.113.5"
    # From the proxy, the right-most address the proxy added counts, not what the client wrote before it.
    assert limiter.client_address("10.0.0.1", "198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert limiter.client_address("10.0.0.1", None) is None
    assert limiter.client_address("10.0.0.1", "garbage") == "garbage"


def test_clinic_messages_over_the_conversation_limit_get_429(clinic):
    sender = new_id("clinicflood")
    statuses = [clinic.clinic(json.dumps({"sender": sender, "message": "hello", "message_id": new_id("m")}).encode())
                .status_code for _ in range(8)]
    assert statuses == [200] * 6 + [429] * 2
    time.sleep(2)
    assert len(clinic.wait_for_user_texts(sender, 6)) == 6


def test_socketio_flood_gets_please_slow_down_and_nothing_is_stored(clinic):
    client = socketio.Client(reconnection=False)
    replies, confirmed = queue.Queue(), queue.Queue()
    client.on("bot_uttered", replies.put)
    client.on("session_confirm", confirmed.put)
    client.connect(clinic.base, headers={"Origin": ALLOWED_ORIGIN}, transports=["polling"], wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": new_id("sioflood")})
        session = confirmed.get(timeout=10)
        for n in range(9):
            client.emit("user_uttered", {"message": f"hello {n}", "session_id": session})
        deadline, slow = time.time() + 30, []
        while time.time() < deadline and len(slow) < 3:
            try:
                reply = replies.get(timeout=1)
            except queue.Empty:
                continue
            if reply.get("error") == "slow_down":
                slow.append(reply)
        assert [reply["text"] for reply in slow] == [SLOW_DOWN] * 3
        assert len(clinic.wait_for_user_texts(session, 6)) == 6
        time.sleep(2)
        assert len(clinic.user_texts(session)) == 6
    finally:
        client.disconnect()


def p95(latencies):
    return statistics.quantiles(latencies, n=20)[-1]


def converse(clinic, turns: int) -> list:
    """One patient's latencies, a new conversation every 5 turns (under the conversation limit)."""
    latencies, sender = [], new_id("quiet")
    for turn in range(turns):
        if turn % 5 == 0:
            sender = new_id("quiet")
        started = time.perf_counter()
        assert clinic.say(sender, "how often should I get scanned?").status_code == 200
        latencies.append(time.perf_counter() - started)
    return latencies


def test_another_patient_is_served_normally_during_a_flood(local, tmp_path):
    # The server without debug logging, as a clinic runs it.
    clinic = local
    converse(clinic, 5)  # warm up
    quiet = converse(clinic, 40)
    stop = tmp_path / "stop"
    flooders = [subprocess.Popen([sys.executable, Path(__file__).with_name("flooder.py"), clinic.rest, stop],
                                 stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        time.sleep(2)
        flooded = converse(clinic, 40)
    finally:
        stop.touch()
        counts = [tuple(map(int, flooder.communicate(timeout=60)[0].split())) for flooder in flooders]
    sent, refused = sum(c[0] for c in counts), sum(c[1] for c in counts)
    print(f"\nquiet p95 {p95(quiet) * 1000:.0f} ms, flooded p95 {p95(flooded) * 1000:.0f} ms, "
          f"{sent} flood requests, {refused} refused")
    # Each refusal waits its turn on the server's event loop behind the patient's answers.
    assert sent >= 40 and refused >= sent - 20
    assert p95(flooded) <= 2 * p95(quiet)
