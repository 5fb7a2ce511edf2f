"""Starts the real action server and two Rasa servers whose credentials file is
written by `connectors/credentials.py` from environment variables, like a
deployment:
- `assistant`: clinic connector with text replies, Twilio SMS, Telegram (the
  outbound Twilio and Telegram calls recorded by fake_messaging_apis.py);
- `json_clinic`: clinic connector with JSON replies (the default format).
Both deliver clinic replies to one local receiver, which stands in for the
clinic's callback URL. Both have the REST and socket.io channels and the HTTP
API (token TOKEN). The action server runs as with the staff console
(STAFF_CONSOLE_URL set: a hand-off pauses), on a copy of the content whose
clinic is closed from yesterday to a week from now (`closed_clinic`), so
that what a hand-off says does not depend on when the tests run."""
import datetime
import json
import os
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import yaml

from connectors.clinic import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from content_model import CONTENT_DIR, Library, load_library
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until

CLINIC_SECRET = "test-clinic-secret"
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "test-twilio-token",
          "TWILIO_NUMBER": "+15005550006"}
TELEGRAM = {"TELEGRAM_TOKEN": "123456:TEST-token", "TELEGRAM_VERIFY": "clinic_test_bot",
            "TELEGRAM_WEBHOOK_URL": "https://bot.clinic.example/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": "test-telegram-webhook-secret"}
# Variables of the developer's own environment that must not switch channels on here.
CHANNEL_VARIABLES = ("CLINIC_", "TWILIO_", "TELEGRAM_")


class CallbackHandler(BaseHTTPRequestHandler):
    """Keeps every delivery (raw body and signature). Senders named "flaky-..."
    get a 503 on their first delivery, to exercise retries."""

    server: "CallbackReceiver"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        recipient = json.loads(body)["recipient_id"]
        if recipient.startswith("flaky-") and recipient not in self.server.refused:
            self.server.refused.append(recipient)
            self.send_response(503)
        else:
            self.server.deliveries.append({"body": body, "signature": self.headers.get(SIGNATURE_HEADER),
                                           "timestamp": self.headers.get(TIMESTAMP_HEADER)})
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class CallbackReceiver(HTTPServer):
    """Stands in for the clinic's callback URL.

    Tests reach it through the `assistant` fixture, never by importing this
    module: pytest loads conftest.py under another module name, so module-level
    state imported by a test would be a second, empty copy."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), CallbackHandler)
        self.url = f"http://127.0.0.1:{self.server_port}/clinic/replies"
        self.deliveries: List[Dict[str, Any]] = []
        self.refused: List[str] = []

    def wait_for(self, recipient: str, seconds: float = 30) -> Dict[str, Any]:
        """The next delivery to `recipient`, its signature checked, parsed; fails after `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            for delivery in list(self.deliveries):
                payload = json.loads(delivery["body"])
                if payload["recipient_id"] == recipient:
                    self.deliveries.remove(delivery)
                    assert delivery["signature"] == sign(CLINIC_SECRET, delivery["timestamp"], delivery["body"]), \
                        "bad callback signature"
                    assert abs(time.time() - int(delivery["timestamp"])) < 60, "stale callback timestamp"
                    return payload
            time.sleep(0.2)
        raise AssertionError(f"no clinic callback for {recipient} within {seconds}s")


@pytest.fixture(scope="session")
def callbacks() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    yield receiver
    receiver.shutdown()


@dataclass
class ClosedClinic:
    directory: Path
    library: Library  # the content the action server answers from


@pytest.fixture(scope="session")
def closed_clinic(tmp_path_factory) -> ClosedClinic:
    """A copy of the content whose clinic is closed from yesterday to a week from now."""
    directory = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(CONTENT_DIR, directory)
    hours = yaml.safe_load((directory / "clinic.yml").read_text(encoding="utf-8"))
    today = datetime.datetime.now(load_library().hours.timezone).date()
    hours["closed_dates"] = [today + datetime.timedelta(days=offset) for offset in range(-1, 8)]
    (directory / "clinic.yml").write_text(yaml.safe_dump(hours), encoding="utf-8")
    return ClosedClinic(directory, load_library(directory))


@pytest.fixture(scope="session")
def action_endpoints(tmp_path_factory, closed_clinic) -> Iterator[Path]:
    """endpoints.yml pointing at a running action server."""
    tmp = tmp_path_factory.mktemp("actions")
    port = free_port()
    log = tmp / "actions.log"
    env = dict(os.environ, **ACTION_SERVER_ENV, STAFF_CONSOLE_URL="http://127.0.0.1:8090",
               CONTENT_DIR=str(closed_clinic.directory))
    env.pop("HANDOFF_WEBHOOK_URL", None)
    process = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok, 60, process, log)
        endpoints = tmp / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{port}/webhook"\n')
        yield endpoints
    finally:
        stop(process)


@dataclass
class Assistant:
    base: str
    api_log: Path
    callbacks: CallbackReceiver

    def clinic(self, body: bytes, signature: Optional[str] = None, timestamp: Optional[str] = None) -> requests.Response:
        """POSTs `body` to the clinic webhook with these headers (none when None)."""
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        if timestamp is not None:
            headers[TIMESTAMP_HEADER] = timestamp
        return requests.post(f"{self.base}/webhooks/clinic/webhook", data=body, headers=headers, timeout=30)

    def signed(self, body: bytes) -> requests.Response:
        """POSTs `body` signed now with the clinic's secret."""
        timestamp = str(int(time.time()))
        return self.clinic(body, sign(CLINIC_SECRET, timestamp, body), timestamp)

    def say(self, sender: str, text: str) -> Dict[str, Any]:
        """Sends a signed clinic message and returns the reply delivered to the callback URL."""
        body = json.dumps({"sender": sender, "message": text, "message_id": f"{sender}-{time.time()}"}).encode()
        accepted = self.signed(body)
        assert accepted.status_code == 200 and accepted.json() == {"status": "accepted"}, accepted.text
        return self.callbacks.wait_for(sender)

    def tracker(self, sender: str) -> Dict[str, Any]:
        reply = requests.get(f"{self.base}/conversations/{sender}/tracker", params={"token": TOKEN},
                             timeout=30)
        reply.raise_for_status()
        return reply.json()

    def staff_reply(self, sender: str, text: str, name: str = "Ana") -> Dict[str, Any]:
        """What the staff console does: a bot event marked as a staff reply, stored and
        sent on the patient's channel through Rasa's HTTP API; returns the tracker."""
        event = {"event": "bot", "text": text, "data": {"custom": {"from": "staff", "name": name}},
                 "metadata": {"staff": "ana"}}
        reply = requests.post(f"{self.base}/conversations/{sender}/tracker/events", json=[event],
                              params={"token": TOKEN, "output_channel": "latest", "execute_side_effects": "true"},
                              timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def hand_back(self, sender: str) -> Dict[str, Any]:
        """Staff hand back: a `resume` event, then action_hand_back on the patient's channel."""
        path = f"{self.base}/conversations/{sender}"
        resumed = requests.post(f"{path}/tracker/events", json=[{"event": "resume"}], params={"token": TOKEN}, timeout=60)
        assert resumed.status_code == 200, resumed.text
        reply = requests.post(f"{path}/execute", json={"name": "action_hand_back"},
                              params={"token": TOKEN, "output_channel": "latest"}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def outbound(self, api: str) -> List[Dict[str, Any]]:
        """Calls the server made to the (fake) `api`, oldest first."""
        lines = self.api_log.read_text().splitlines() if self.api_log.exists() else []
        return [entry for entry in map(json.loads, lines) if entry["api"] == api]


@contextmanager
def rasa_server(tmp: Path, endpoints: Path, callbacks: CallbackReceiver, channel_env: Dict[str, str]) -> Iterator[Assistant]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(CHANNEL_VARIABLES)}
    env.update(channel_env, FAKE_API_LOG=str(tmp / "outbound.jsonl"))
    credentials = tmp / "credentials.yml"
    subprocess.run([BIN / "python", "-m", "connectors.credentials", credentials], cwd=ROOT, env=env, check=True)
    port = free_port()
    log = tmp / "rasa.log"
    process = subprocess.Popen(
        [BIN / "python", Path(__file__).with_name("fake_messaging_apis.py"), "run", "--model", MODEL,
         "--endpoints", endpoints, "--credentials", credentials, "--port", str(port),
         "--enable-api", "--auth-token", TOKEN],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/status", params={"token": TOKEN}, timeout=2).ok, 180, process, log)
        yield Assistant(base, tmp / "outbound.jsonl", callbacks)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, action_endpoints, callbacks) -> Iterator[Assistant]:
    env = dict(CLINIC_SECRET=CLINIC_SECRET, CLINIC_CALLBACK_URL=callbacks.url, CLINIC_REPLY_FORMAT="text",
               **TWILIO, **TELEGRAM)
    with rasa_server(tmp_path_factory.mktemp("assistant"), action_endpoints, callbacks, env) as server:
        yield server


@pytest.fixture(scope="session")
def json_clinic(tmp_path_factory, action_endpoints, callbacks) -> Iterator[Assistant]:
    env = dict(CLINIC_SECRET=CLINIC_SECRET, CLINIC_CALLBACK_URL=callbacks.url)
    with rasa_server(tmp_path_factory.mktemp("json_clinic"), action_endpoints, callbacks, env) as server:
        yield server
