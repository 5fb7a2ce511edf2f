"""Load and fault tests (`make test-load`), on localhost only, bounded in count and time.

The clinic profile as `make run-prod` serves it: HAProxy (deploy/haproxy.cfg)
on one address in front of two Rasa server processes that share PostgreSQL
(tracker store) and Redis (lock store). 50 simulated patients hold 20-turn
conversations over REST and 10 over socket.io (websocket), all through
HAProxy. Midway, one Rasa process is SIGKILLed and later restarted, and
HAProxy itself is reloaded under load. Any error a client sees counts; a
patient told "please try again" sends the message again, and socket.io
clients reconnect and carry on with their conversation, as the widget does. Afterwards, every conversation's stored
events are checked against what was acknowledged: same messages, same order,
a reply stored for each. The socket.io channel shares its messages between the
processes through Redis (SOCKETIO_REDIS_URL, as `make run-prod` sets it): a
staff reply sent through one process's HTTP API reaches a widget whose socket
the other process holds.
"""
import asyncio
import json
import os
import queue
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import pytest
import redis
import requests
import socketio
from rasa.core.tracker_store import SQLTrackerStore

from content_model import load_library
from deploy.haproxy import render
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until

CONVERSATIONS, SOCKET_CONVERSATIONS, TURNS = 50, 10, 20
TIME_LIMIT_S = 600
# HAProxy's health check takes a dead process out within this (fall 2 x inter 500 ms, with margin).
REMOVED_AFTER_S = 2.0
QUESTIONS = [
    "hello", "is it dangerous?", "could it be cancer", "tell me more", "what causes it?",
    "tell me more about the parasites", "do I need treatment", "how often should I be scanned",
    "and for how long?", "will it go away", "does it affect my liver function", "can I drink alcohol",
    "what does acoustic shadow mean", "is it a bile duct stone", "how was it found", "can it cause pain",
    "when should I see a doctor", "who gets it", "I have several spots, does that matter", "thanks, bye",
]

TRY_AGAIN = load_library().content("en").clinic["try_again"]
POSTGRES = dict(dialect="postgresql", host="127.0.0.1", port=5432, db="test", username="postgres")
# As the Makefile's run-prod recipe sets it.
SOCKETIO_REDIS_URL = "redis://127.0.0.1:6379/1"


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
    """An action server (2 workers), two Rasa server processes sharing PostgreSQL
    and Redis, and HAProxy in front of them, as `make run-prod` starts them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.action_port, self.public_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.public_port}"
        self.ports = [free_port(), free_port()]
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            (ROOT / "endpoints.prod.yml").read_text().replace(
                "http://localhost:5055/webhook", f"http://127.0.0.1:{self.action_port}/webhook")
        )
        self.credentials = workdir / "credentials.yml"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "TWILIO_", "TELEGRAM_"))}
        subprocess.run([BIN / "python", "-m", "connectors.credentials", self.credentials], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, env=dict(env, SOCKETIO_REDIS_URL=SOCKETIO_REDIS_URL))
        self.rasa: Dict[int, subprocess.Popen] = {}
        self.actions: Optional[subprocess.Popen] = None
        self.haproxy: Optional[subprocess.Popen] = None

    def start_actions(self) -> None:
        log = self.workdir / "actions.log"
        # With the staff console running (scripts/serve.sh sets STAFF_CONSOLE_URL), a hand-off pauses.
        env = dict(os.environ, ACTION_SERVER_SANIC_WORKERS="2", STAFF_CONSOLE_URL="http://127.0.0.1:8090",
                   **ACTION_SERVER_ENV)
        self.actions = subprocess.Popen(
            [BIN / "rasa", "run", "actions", "--port", str(self.action_port), "--actions", "actions"],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{self.action_port}/health", timeout=2).ok, 60, self.actions, log)

    def start_rasa(self, port: int) -> None:
        log = self.workdir / f"rasa-{port}.log"
        # Every simulated patient comes from this machine's one address: no per-address limit here.
        env = dict(os.environ, SANIC_WORKERS="1", SANIC_KEEP_ALIVE_TIMEOUT="75", TICKET_LOCK_LIFETIME="20",
                   RATE_LIMIT_ADDRESS="0", RATE_LIMIT_CONVERSATION="0", SOCKETIO_REDIS_URL=SOCKETIO_REDIS_URL)
        self.rasa[port] = subprocess.Popen(
            [BIN / "rasa", "run", "--model", MODEL, "--endpoints", self.endpoints, "--credentials", self.credentials,
             "--interface", "127.0.0.1", "--port", str(port), "--cors", self.url,
             "--enable-api", "--auth-token", TOKEN],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/status", params={"token": TOKEN}, timeout=2).ok,
                   180, self.rasa[port], log)

    def start_haproxy(self) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(render(self.public_port, self.ports, api=True, bind="127.0.0.1"))
        log = self.workdir / "haproxy.log"
        self.haproxy = subprocess.Popen(["haproxy", "-W", "-f", config], stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until(lambda: requests.get(f"{self.url}/", timeout=2).ok, 30, self.haproxy, log)

    def kill_rasa(self, port: int) -> None:
        self.rasa[port].send_signal(signal.SIGKILL)
        self.rasa[port].wait()

    def reload_haproxy(self) -> None:
        self.haproxy.send_signal(signal.SIGUSR2)  # the master starts new workers; the old ones finish their requests

    def stop(self) -> None:
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.send_signal(signal.SIGUSR1)
            try:
                self.haproxy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
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
        running.start_haproxy()
        yield running
    finally:
        running.stop()


class Load:
    """What the simulated patients saw: acknowledged messages, and errors with when they happened."""

    def __init__(self) -> None:
        self.acknowledged: Dict[str, List[str]] = {}
        self.errors: List[tuple] = []  # (when the failed message was sent, description)
        self.turns = 0
        self.reconnects = 0
        self.apologies = 0  # "please try again" replies: not answers, the message is sent again
        self.replies: Dict[str, list] = {}  # socket.io: what each acknowledged turn received
        self.killed_at: Optional[float] = None


async def rest_patient(session: aiohttp.ClientSession, url: str, sender: str, load: Load) -> None:
    rng = random.Random(sender)
    load.acknowledged[sender] = []
    for text in [question for question in QUESTIONS[:TURNS] for _ in range(3)]:
        if load.acknowledged[sender][-1:] == [text]:
            continue  # answered at an earlier try
        sent = time.time()
        try:
            async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as response:
                replies = await response.json() if response.status == 200 else None
            if replies and TRY_AGAIN in [reply.get("text") for reply in replies]:
                load.apologies += 1  # the patient is told to send it again, and does
                continue
            if replies:
                load.acknowledged[sender].append(text)
            else:
                load.errors.append((sent, f"{sender}: {text!r} got HTTP {response.status} {replies!r}"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            load.errors.append((sent, f"{sender}: {text!r} failed: {error!r}"))
        load.turns += 1
        await asyncio.sleep(rng.uniform(0.05, 0.3))  # a patient reads before typing again


def socket_patient(url: str, session_id: str, load: Load) -> None:
    """One widget: a websocket through HAProxy. After a lost connection it
    reconnects (python-socketio does, as socket.io-client does in the widget),
    asks for its conversation again and resends the message left unanswered.
    (python-socketio's synchronous client, in a thread of its own: its asyncio
    client needs a newer aiohttp than Rasa 3.6 pins.)"""
    rng = random.Random(session_id)
    load.acknowledged[session_id] = []
    replies: queue.Queue = queue.Queue()
    confirmed: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=1)
    turn_ends: queue.Queue = queue.Queue()
    client.on("bot_uttered", replies.put)
    client.on("turn_end", turn_ends.put)  # connectors/widget.py: the turn is stored and its replies sent
    client.on("session_confirm", confirmed.put)
    joined = None  # the connection (sid) that asked for the conversation

    def join() -> None:
        nonlocal joined
        for _ in range(60):
            if client.connected:
                break
            time.sleep(0.5)
        if joined is not None and joined != client.sid:
            load.reconnects += 1
        client.emit("session_request", {"session_id": session_id})
        confirmed.get(timeout=10)
        joined = client.sid

    for attempt in range(5):  # the first connection may wait behind the load that starts with it
        try:
            client.connect(url, transports=["websocket"], wait_timeout=30)
            break
        except socketio.exceptions.ConnectionError:
            if attempt == 4:
                raise
            time.sleep(1)
    try:
        for text in QUESTIONS[:TURNS]:
            for _ in range(10):
                try:
                    if joined != client.sid or not client.connected:
                        join()
                    for stale in (replies, turn_ends):  # of a message sent twice after a lost connection
                        while not stale.empty():
                            stale.get()
                    client.emit("user_uttered", {"message": text, "session_id": session_id})
                    turn_ends.get(timeout=20)
                except (queue.Empty, socketio.exceptions.SocketIOError):
                    continue  # the connection dropped with the message: resend it
                turn = []
                while not replies.empty():
                    turn.append(replies.get())
                if TRY_AGAIN in [reply.get("text") for reply in turn]:
                    load.apologies += 1  # the patient is told to send it again, and does
                    continue
                load.acknowledged[session_id].append(text)
                load.replies.setdefault(session_id, []).append((text, [reply.get("text") for reply in turn]))
                break
            else:
                load.errors.append((time.time(), f"{session_id}: {text!r} never answered over socket.io"))
            load.turns += 1
            time.sleep(rng.uniform(0.05, 0.3))
    finally:
        client.disconnect()


async def run_load(deployment: Deployment) -> tuple:
    load = Load()
    senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(CONVERSATIONS)]
    sessions = [f"load-ws-{uuid.uuid4().hex[:10]}" for _ in range(SOCKET_CONVERSATIONS)]
    total = (CONVERSATIONS + SOCKET_CONVERSATIONS) * TURNS
    victim = deployment.ports[0]

    async def until(share: float) -> None:
        while load.turns < total * share:
            await asyncio.sleep(0.2)

    async def kill_and_restart() -> None:
        await until(0.3)
        deployment.kill_rasa(victim)
        load.killed_at = time.time()
        print(f"\n  killed the Rasa process on port {victim} after {load.turns} turns")
        await asyncio.sleep(3)
        await asyncio.get_running_loop().run_in_executor(None, deployment.start_rasa, victim)
        print(f"  restarted it after {load.turns} turns")

    async def reload() -> None:
        await until(0.5)
        deployment.reload_haproxy()
        print(f"  reloaded HAProxy after {load.turns} turns")

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.time()
        await asyncio.wait_for(asyncio.gather(
            kill_and_restart(), reload(),
            *(rest_patient(session, deployment.url, sender, load) for sender in senders),
            *(asyncio.to_thread(socket_patient, deployment.url, session_id, load) for session_id in sessions),
        ), TIME_LIMIT_S)
    return load, senders, sessions, time.time() - started


def collapse(texts: List[str]) -> List[str]:
    """A message sent again (after a lost connection or a "try again"), once (QUESTIONS never repeats one in a row)."""
    return [text for i, text in enumerate(texts) if i == 0 or text != texts[i - 1]]


def stored_turns(store: SQLTrackerStore, sender: str) -> tuple:
    """The user messages stored for a conversation, in order, and how many of them have no bot reply after them."""
    with store.session_scope() as session:
        events = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id).all()
        kinds = [(e.type_name, json.loads(e.data).get("text")) for e in events if e.type_name in ("user", "bot")]
    users = [text for kind, text in kinds if kind == "user"]
    unanswered = sum(1 for i, (kind, _) in enumerate(kinds) if kind == "user"
                     and not any(k == "bot" for k, _ in kinds[i + 1:next((j for j in range(i + 1, len(kinds))
                                                                          if kinds[j][0] == "user"), len(kinds))]))
    return users, unanswered


def test_many_conversations_through_haproxy_survive_a_killed_process_and_a_reload(deployment):
    load, senders, sessions, seconds = asyncio.run(run_load(deployment))
    store = services_or_skip()
    lost = reordered = unanswered = 0
    for conversation in senders + sessions:
        acknowledged = load.acknowledged[conversation]
        stored, without_reply = stored_turns(store, conversation)
        stored = collapse(stored)
        if stored != acknowledged:
            print(f"  {conversation}: acknowledged {acknowledged}, stored {stored}, replies {load.replies.get(conversation)}")
            missing = len([text for text in acknowledged if text not in stored])
            lost += missing
            reordered += 0 if missing else 1
        unanswered += without_reply
    turns = sum(len(texts) for texts in load.acknowledged.values())
    # A message in flight when the process died may fail; one sent after HAProxy took the process out may not.
    after_removal = [error for sent, error in load.errors if load.killed_at and sent > load.killed_at + REMOVED_AFTER_S]
    print(f"\n  through HAProxy: {CONVERSATIONS} REST + {SOCKET_CONVERSATIONS} socket.io conversations, "
          f"turns acknowledged: {turns}/{(CONVERSATIONS + SOCKET_CONVERSATIONS) * TURNS}, "
          f"errors: {len(load.errors)} ({len(after_removal)} sent after the dead process was out), "
          f"socket.io reconnects: {load.reconnects}, 'try again' replies: {load.apologies}, lost events: {lost}, conversations out of order: {reordered}, "
          f"messages without a stored reply: {unanswered}, {turns / seconds:.1f} messages/s over {seconds:.0f} s")
    for _, error in load.errors[:10]:
        print(f"  error: {error}")
    assert after_removal == []
    assert turns == (CONVERSATIONS + SOCKET_CONVERSATIONS) * TURNS
    assert lost == 0 and reordered == 0 and unanswered == 0


def test_the_http_api_is_closed_at_the_proxy_without_a_token(deployment):
    config = deployment.workdir / "haproxy-no-api.cfg"
    port = free_port()
    config.write_text(render(port, deployment.ports, api=False, bind="127.0.0.1"))
    proxy = subprocess.Popen(["haproxy", "-W", "-f", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{url}/", timeout=2).ok, 30, proxy, config)
        for path in ("/status", "/conversations/someone/tracker", "/model/parse", "/domain"):
            assert requests.get(f"{url}{path}", params={"token": TOKEN}, timeout=5).status_code == 404, path
        # The patients' way in stays open.
        replies = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": "no-api", "message": "hello"}, timeout=30)
        assert replies.status_code == 200 and replies.json()
    finally:
        proxy.send_signal(signal.SIGUSR1)
        proxy.wait(timeout=30)


def test_the_http_api_through_the_proxy_needs_the_token(deployment):
    assert requests.get(f"{deployment.url}/status", timeout=5).status_code == 401
    assert requests.get(f"{deployment.url}/status", params={"token": TOKEN}, timeout=5).ok


def test_action_server_outage_gets_a_polite_reply_then_recovers(deployment):
    try_again = load_library().content("en").clinic["try_again"]
    url = f"{deployment.url}/webhooks/rest/webhook"
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    stop(deployment.actions)
    replies = requests.post(url, json={"sender": sender, "message": "is it dangerous?"}, timeout=60).json()
    assert [r.get("text") for r in replies][-1] == try_again
    deployment.start_actions()
    replies = requests.post(url, json={"sender": sender, "message": "is it dangerous?"}, timeout=60).json()
    assert any((r.get("custom") or {}).get("topic") == "dangerous" for r in replies)


def test_a_staff_reply_reaches_a_widget_whose_socket_the_other_process_holds(deployment):
    """The widget talks to process A; staff reply and hand back through process B's API."""
    held_by, api = (f"http://127.0.0.1:{port}" for port in deployment.ports)
    content = load_library().content("en")
    session_id = f"staff-ws-{uuid.uuid4().hex[:10]}"
    events: queue.Queue = queue.Queue()
    turn_ends: queue.Queue = queue.Queue()
    confirmed: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", events.put)
    client.on("turn_end", turn_ends.put)
    client.on("session_confirm", confirmed.put)
    client.connect(held_by, transports=["websocket"], wait_timeout=30)

    def texts_until_quiet() -> List[Dict]:
        received = [events.get(timeout=20)]
        while True:
            try:
                received.append(events.get(timeout=1))
            except queue.Empty:
                return [event for event in received if "text" in event]

    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.get(timeout=10) == session_id
        client.emit("user_uttered", {"message": "can I talk to a nurse please", "session_id": session_id})
        turn_ends.get(timeout=60)
        paused = requests.get(f"{api}/conversations/{session_id}/tracker", params={"token": TOKEN}, timeout=30).json()
        assert paused["paused"] is True
        while not events.empty():
            events.get()

        reply = {"event": "bot", "text": "Hello, this is Ana from the clinic.",
                 "data": {"custom": {"from": "staff", "name": "Ana"}}, "metadata": {"staff": "ana"}}
        sent = requests.post(f"{api}/conversations/{session_id}/tracker/events", json=[reply], timeout=30,
                             params={"token": TOKEN, "output_channel": "latest", "execute_side_effects": "true"})
        assert sent.status_code == 200, sent.text
        assert texts_until_quiet() == [{"text": reply["text"], "custom": {"from": "staff", "name": "Ana"}}]

        assert requests.post(f"{api}/conversations/{session_id}/tracker/events", json=[{"event": "resume"}],
                             params={"token": TOKEN}, timeout=30).ok
        back = requests.post(f"{api}/conversations/{session_id}/execute", json={"name": "action_hand_back"},
                             params={"token": TOKEN, "output_channel": "latest"}, timeout=30)
        assert back.status_code == 200, back.text
        assert [event["text"] for event in texts_until_quiet()] == [content.clinic["handed_back"]]
    finally:
        client.disconnect()
