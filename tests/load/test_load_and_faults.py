"""Load and fault tests (`make test-load`), on localhost only, bounded in count and time.

Two Rasa server processes share PostgreSQL (tracker store) and Redis (lock
store). 50 simulated patients hold 20-turn conversations, each turn sent to
either process in turn. Midway, one process is killed and later restarted:
requests to it fail over to the other, as a load balancer would. Afterwards,
every conversation's stored events are checked against what was acknowledged.
"""
import asyncio
import json
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List

import aiohttp
import pytest
import redis
import requests
from rasa.core.tracker_store import SQLTrackerStore

from content_model import load_library
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until

CONVERSATIONS, TURNS = 50, 20
TIME_LIMIT_S = 600
QUESTIONS = [
    "hello", "is it dangerous?", "could it be cancer", "tell me more", "what causes it?",
    "tell me more about the parasites", "do I need treatment", "how often should I be scanned",
    "and for how long?", "will it go away", "does it affect my liver function", "can I drink alcohol",
    "what does acoustic shadow mean", "is it a bile duct stone", "how was it found", "can it cause pain",
    "when should I see a doctor", "who gets it", "I have several spots, does that matter", "thanks, bye",
]

POSTGRES = dict(dialect="postgresql", host="127.0.0.1", port=5432, db="test", username="postgres")


def services_or_skip() -> SQLTrackerStore:
    try:
        store = SQLTrackerStore(**POSTGRES)
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
        return store
    except Exception as error:
        if os.environ.get("CI"):
            raise  # in CI a missing service fails the run
        pytest.skip(f"PostgreSQL or Redis is not reachable here: {error}")


class Deployment:
    """An action server (2 workers) and two Rasa server processes sharing PostgreSQL and Redis."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.action_port = free_port()
        self.ports = [free_port(), free_port()]
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            (ROOT / "endpoints.prod.yml").read_text().replace(
                "http://localhost:5055/webhook", f"http://127.0.0.1:{self.action_port}/webhook")
        )
        self.rasa: Dict[int, subprocess.Popen] = {}
        self.actions = None

    def start_actions(self) -> None:
        log = self.workdir / "actions.log"
        env = dict(os.environ, ACTION_SERVER_SANIC_WORKERS="2", **ACTION_SERVER_ENV)
        self.actions = subprocess.Popen(
            [BIN / "rasa", "run", "actions", "--port", str(self.action_port), "--actions", "actions"],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2).ok, 60, self.actions, log)

    def start_rasa(self, port: int) -> None:
        log = self.workdir / f"rasa-{port}.log"
        self.rasa[port] = subprocess.Popen(
            [BIN / "rasa", "run", "--model", MODEL, "--endpoints", self.endpoints, "--credentials", ROOT / "credentials.yml",
             "--port", str(port), "--enable-api", "--auth-token", TOKEN],
            cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/status", params={"token": TOKEN}, timeout=2).ok,
                   180, self.rasa[port], log)

    def kill_rasa(self, port: int) -> None:
        self.rasa[port].send_signal(signal.SIGKILL)
        self.rasa[port].wait()

    def stop(self) -> None:
        for process in list(self.rasa.values()) + [self.actions]:
            if process and process.poll() is None:
                stop(process)


@pytest.fixture
def deployment(tmp_path):
    services_or_skip()
    running = Deployment(tmp_path)
    try:
        running.start_actions()
        for port in running.ports:
            running.start_rasa(port)
        yield running
    finally:
        running.stop()


async def send(session: aiohttp.ClientSession, ports: List[int], first: int, sender: str, text: str) -> list:
    """Sends one message, failing over to the other process if one is down."""
    for attempt in range(6):
        port = ports[(first + attempt) % len(ports)]
        try:
            async with session.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                                    json={"sender": sender, "message": text}) as response:
                if response.status == 200:
                    return await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{sender}: no process answered {text!r}")


async def patient(session, ports, sender: str, acknowledged: Dict[str, List[str]], errors: List[str], progress: List[int]) -> None:
    rng = random.Random(sender)
    for turn in range(TURNS):
        text = QUESTIONS[turn]
        try:
            replies = await send(session, ports, rng.randrange(len(ports)) + turn, sender, text)
            if not replies:
                errors.append(f"{sender} turn {turn}: empty reply")
            acknowledged[sender].append(text)
        except RuntimeError as error:
            errors.append(str(error))
        progress[0] += 1
        await asyncio.sleep(rng.uniform(0.05, 0.3))  # a patient reads before typing again


async def run_load(deployment: Deployment) -> tuple:
    senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(CONVERSATIONS)]
    acknowledged: Dict[str, List[str]] = {sender: [] for sender in senders}
    errors: List[str] = []
    progress = [0]
    victim = deployment.ports[0]

    async def chaos() -> None:
        while progress[0] < CONVERSATIONS * TURNS * 0.3:
            await asyncio.sleep(0.2)
        deployment.kill_rasa(victim)
        print(f"\n  killed the Rasa process on port {victim} after {progress[0]} turns")
        await asyncio.sleep(3)
        await asyncio.get_running_loop().run_in_executor(None, deployment.start_rasa, victim)
        print(f"  restarted it after {progress[0]} turns")

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.time()
        await asyncio.wait_for(
            asyncio.gather(chaos(), *(patient(session, deployment.ports, s, acknowledged, errors, progress) for s in senders)),
            TIME_LIMIT_S)
    return acknowledged, errors, time.time() - started


def is_subsequence(wanted: List[str], stored: List[str]) -> bool:
    remaining = iter(stored)
    return all(any(text == candidate for candidate in remaining) for text in wanted)


def test_many_conversations_survive_a_killed_process(deployment):
    acknowledged, errors, seconds = asyncio.run(run_load(deployment))
    store = services_or_skip()
    lost, bot_missing = 0, 0
    with store.session_scope() as session:
        for sender, texts in acknowledged.items():
            events = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id).all()
            stored_texts = [json.loads(e.data)["text"] for e in events if e.type_name == "user"]
            if not is_subsequence(texts, stored_texts):
                lost += len(texts) - sum(1 for text in texts if text in stored_texts)
            bot_events = sum(1 for e in events if e.type_name == "bot")
            bot_missing += max(0, len(texts) - bot_events)
    turns = sum(len(texts) for texts in acknowledged.values())
    print(f"\n  conversations: {CONVERSATIONS}, turns acknowledged: {turns}/{CONVERSATIONS * TURNS}, "
          f"errors: {len(errors)}, lost events: {lost}, turns without a bot reply stored: {bot_missing}, "
          f"{turns / seconds:.1f} messages/s over {seconds:.0f} s")
    assert errors == []
    assert turns == CONVERSATIONS * TURNS
    assert lost == 0 and bot_missing == 0


def test_action_server_outage_gets_a_polite_reply_then_recovers(deployment):
    try_again = load_library().content("en").clinic["try_again"]
    port = deployment.ports[1]
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    stop(deployment.actions)
    replies = requests.post(url, json={"sender": sender, "message": "is it dangerous?"}, timeout=60).json()
    assert [r.get("text") for r in replies][-1] == try_again
    deployment.start_actions()
    replies = requests.post(url, json={"sender": sender, "message": "is it dangerous?"}, timeout=60).json()
    assert any((r.get("custom") or {}).get("topic") == "dangerous" for r in replies)
