"""Starts the real action server and Rasa server (trained model, REST channel,
HTTP API with a token) once for the end-to-end tests, plus a local receiver
that stands in for the clinic's hand-off webhook."""
import json
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Dict, Iterator, NamedTuple

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "current.tar.gz"
TOKEN = "e2e-test-token"
# As scripts/serve.sh runs it: localhost only, keep-alive longer than the Rasa server's client.
ACTION_SERVER_ENV = {"SANIC_HOST": "127.0.0.1", "SANIC_KEEP_ALIVE_TIMEOUT": "30"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server not ready after {seconds}s:\n{log.read_text()[-3000:]}")


class WebhookReceiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        WebhookReceiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def webhook():
    server = HTTPServer(("127.0.0.1", free_port()), WebhookReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/handoff", WebhookReceiver.received
    server.shutdown()


class Servers(NamedTuple):
    rest_url: str
    base_url: str
    database: Path
    rasa_log: Path


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def running_servers(workdir: Path, database: Path, env: Dict[str, str], model: Path = MODEL) -> Iterator[Servers]:
    """The action server and the Rasa server (REST, HTTP API with a token),
    keeping conversations in the SQLite file `database`."""
    assert model.is_file(), f"no trained model at {model}: run `make train` first"
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: privacy.tracker_store.MaskingSQLTrackerStore\n  dialect: sqlite\n  db: {database}\n"
    )
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT, env=dict(env, **ACTION_SERVER_ENV), stdout=action_log.open("a"), stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [BIN / "rasa", "run", "--model", model, "--endpoints", endpoints, "--credentials", ROOT / "credentials.yml",
         "--port", str(rasa_port), "--enable-api", "--auth-token", TOKEN],
        cwd=ROOT, env=env, stdout=rasa_log.open("a"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2).ok, 60, actions, action_log)
        wait_until(lambda: requests.get(f"{base}/status", params={"token": TOKEN}, timeout=2).ok, 180, rasa, rasa_log)
        yield Servers(f"{base}/webhooks/rest/webhook", base, database, rasa_log)
    finally:
        stop(rasa)
        stop(actions)


@pytest.fixture(scope="session")
def servers(tmp_path_factory, webhook) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("servers")
    with running_servers(workdir, workdir / "conversations.db", dict(os.environ, HANDOFF_WEBHOOK_URL=webhook[0])) as running:
        yield running
