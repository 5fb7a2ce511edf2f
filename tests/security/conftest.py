"""Starts, once for the security tests, the servers an attacker would reach:
- the real action server (debug logging, hand-off to a local receiver);
- `clinic`: a Rasa server as the clinic profile runs it (PostgreSQL tracker
  store, Redis lock store, debug logging) with every channel on: REST,
  socket.io with one allowed origin, the clinic connector (JSON replies, a
  current and a previous secret) and Telegram (Telegram's cloud replaced by
  tests/channels/fake_messaging_apis.py), with low rate limits;
- `local`: a Rasa server keeping conversations in SQLite, whose action server
  calls go through a switch (`actions_fail`) that can make them fail.
Both are started as `rasa run` with a credentials file written by
connectors/credentials.py, like scripts/serve.sh does."""
import json
import os
import re
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from connectors.clinic import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until

ALLOWED_ORIGIN = "https://clinic.example"
CLINIC_SECRET, CLINIC_SECRET_PREVIOUS = "security-clinic-secret", "security-clinic-old-secret"
TELEGRAM_SECRET = "security-telegram-secret"
# Low, so that a test reaches them quickly; every other test uses fresh conversations.
LIMITS = {"RATE_LIMIT_CONVERSATION": "6/60", "RATE_LIMIT_ADDRESS": "20/60", "TRUSTED_PROXIES": "127.0.0.1,::1"}
CHANNEL_VARIABLES = ("CLINIC_", "TWILIO_", "TELEGRAM_", "RATE_LIMIT_", "TRUSTED_PROXIES")
CORPUS = yaml.safe_load((Path(__file__).with_name("pii_corpus.yml")).read_text(encoding="utf-8"))


def as_typed(raw, entry: dict) -> str:
    """What to look for: an age or other short number with the words typed
    before it ("I'm 92"), since "92" alone is in every timestamp."""
    raw, text = str(raw), entry["text"]
    if raw.isdigit() and len(raw) <= 4:
        start = text.index(raw)
        return text[max(0, start - 8): start + len(raw)]
    return raw


def leaked(raw: str, text: str) -> bool:
    """Whether the identifier `raw` is in `text`, as typed or JSON-escaped
    (a Latin name only as a whole word: "Price" in "prices" is not a leak)."""
    for form in {raw, json.dumps(raw)[1:-1]}:
        if re.fullmatch(r"[A-Za-z'’ -]+", form):
            if re.search(rf"(?<![A-Za-z]){re.escape(form)}(?![A-Za-z])", text):
                return True
        elif form in text:
            return True
    return False


class Recorder(ThreadingHTTPServer):
    """Keeps the JSON bodies POSTed to it: the hand-off webhook, the clinic's callback URL."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), RecordingHandler)
        self.url = f"http://127.0.0.1:{self.server_port}/"
        self.bodies: List[Dict[str, Any]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()


class RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


class ActionSwitch(ThreadingHTTPServer):
    """Between a Rasa server and the action server: forwards each call, or
    answers 500 while `failing` is set."""

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", free_port()), SwitchHandler)
        self.target = target
        self.failing = False
        self.url = f"http://127.0.0.1:{self.server_port}/webhook"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class SwitchHandler(BaseHTTPRequestHandler):
    server: ActionSwitch

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.failing:
            status, reply = 500, b'{"error": "switched off by the test"}'
        else:
            answer = requests.post(self.server.target, data=body, headers={"Content-Type": "application/json"},
                                   timeout=30)
            status, reply = answer.status_code, answer.content
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Server:
    base: str
    log: Path
    store: str  # "postgresql" or the SQLite file
    callbacks: Optional[Recorder] = None
    outbound: Optional[Path] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def rest(self) -> str:
        return f"{self.base}/webhooks/rest/webhook"

    def say(self, sender: str, text: str, **headers: str) -> requests.Response:
        return requests.post(self.rest, json={"sender": sender, "message": text}, headers=headers, timeout=60)

    def clinic(self, body: bytes, timestamp: Optional[str] = None, secret: str = CLINIC_SECRET,
               signature: Optional[str] = None) -> requests.Response:
        """POSTs `body` to the clinic webhook, signed with `secret` at `timestamp` (now by default)."""
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: signature or sign(secret, timestamp, body)}
        return requests.post(f"{self.base}/webhooks/clinic/webhook", data=body, headers=headers, timeout=30)

    def user_texts(self, sender: str) -> List[str]:
        tracker = requests.get(f"{self.base}/conversations/{sender}/tracker", params={"token": TOKEN}, timeout=30)
        tracker.raise_for_status()
        return [event.get("text") for event in tracker.json()["events"] if event["event"] == "user"]

    def wait_for_user_texts(self, sender: str, count: int, seconds: float = 30) -> List[str]:
        deadline = time.time() + seconds
        while time.time() < deadline:
            texts = self.user_texts(sender)
            if len(texts) >= count:
                return texts
            time.sleep(0.3)
        return self.user_texts(sender)


def new_id(prefix: str = "sec") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def handoffs() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.shutdown()


@pytest.fixture(scope="session")
def action_server(tmp_path_factory, handoffs) -> Iterator[Dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("actions")
    port, log = free_port(), tmp / "actions.log"
    env = dict(os.environ, **ACTION_SERVER_ENV, HANDOFF_WEBHOOK_URL=handoffs.url)
    process = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--port", str(port), "--actions", "actions", "--debug"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok, 60, process, log)
        yield {"url": f"http://127.0.0.1:{port}/webhook", "log": log}
    finally:
        stop(process)


@contextmanager
def rasa_server(tmp: Path, endpoints: str, channel_env: Dict[str, str], cors: str,
                debug: bool = False) -> Iterator[Path]:
    """Runs `rasa run` (through the fake messaging APIs) and yields its log; the URL is in the log's sibling."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(CHANNEL_VARIABLES)}
    env.update(channel_env, FAKE_API_LOG=str(tmp / "outbound.jsonl"))
    credentials = tmp / "credentials.yml"
    subprocess.run([BIN / "python", "-m", "connectors.credentials", credentials], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    (tmp / "endpoints.yml").write_text(endpoints)
    port, log = free_port(), tmp / "rasa.log"
    process = subprocess.Popen(
        [BIN / "python", ROOT / "tests" / "channels" / "fake_messaging_apis.py", "run", "--model", MODEL,
         "--endpoints", tmp / "endpoints.yml", "--credentials", credentials, "--port", str(port),
         "--cors", cors, "--enable-api", "--auth-token", TOKEN] + (["--debug"] if debug else []),
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    (tmp / "url").write_text(f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/status", params={"token": TOKEN}, timeout=2).ok,
                   180, process, log)
        yield log
    finally:
        stop(process)


@pytest.fixture(scope="session")
def clinic(tmp_path_factory, action_server) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("clinic")
    callbacks = Recorder()
    endpoints = (
        f'action_endpoint:\n  url: "{action_server["url"]}"\n'
        "tracker_store:\n  type: privacy.tracker_store.MaskingSQLTrackerStore\n  dialect: postgresql\n"
        "  url: 127.0.0.1\n  port: 5432\n  db: test\n  username: postgres\n"
        "lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 1\n  key_prefix: security_tests\n"
    )
    channels = dict(LIMITS, CLINIC_SECRET=CLINIC_SECRET, CLINIC_SECRET_PREVIOUS=CLINIC_SECRET_PREVIOUS,
                    CLINIC_CALLBACK_URL=callbacks.url, TELEGRAM_TOKEN="123456:TEST-token",
                    TELEGRAM_VERIFY="clinic_test_bot", TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
                    TELEGRAM_WEBHOOK_URL="https://bot.clinic.example/webhooks/telegram/webhook")
    with rasa_server(tmp, endpoints, channels, ALLOWED_ORIGIN, debug=True) as log:
        yield Server((tmp / "url").read_text(), log, "postgresql", callbacks, tmp / "outbound.jsonl",
                     {"action_log": action_server["log"]})
    callbacks.shutdown()


@pytest.fixture(scope="session")
def local(tmp_path_factory, action_server) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("local")
    switch = ActionSwitch(action_server["url"])
    database = tmp / "conversations.db"
    endpoints = (f'action_endpoint:\n  url: "{switch.url}"\n'
                 f"tracker_store:\n  type: privacy.tracker_store.MaskingSQLTrackerStore\n  dialect: sqlite\n"
                 f"  db: {database}\n")
    with rasa_server(tmp, endpoints, dict(LIMITS), ALLOWED_ORIGIN) as log:
        yield Server((tmp / "url").read_text(), log, str(database), extra={"switch": switch})
    switch.shutdown()
