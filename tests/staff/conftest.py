"""Starts, once for the staff console's tests, the real parts a clinic runs:
the action server (told that the console is there, STAFF_CONSOLE_URL), one Rasa
server with the REST, web widget (socket.io), clinic connector and Twilio SMS
channels (Twilio's cloud replaced by tests/channels/fake_messaging_apis.py's
recorder, the clinic's callback URL by a local receiver), conversations in
SQLite, the demo page with the widget, and the staff console itself, with a
staff account made by `python -m staff.accounts`."""
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
import sqlalchemy as sa

from staff import store
from tests.channels.conftest import CHANNEL_VARIABLES, CLINIC_SECRET, TWILIO, Assistant, CallbackReceiver
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until

STAFF_USER = "nurse.lee"
STAFF_NAME = "Nurse Lee"
STAFF_PASSWORD = "liver-spot-staff-2026"
API_SECRET = "test-staff-api-secret"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Stack:
    assistant: Assistant  # the Rasa server (base URL, fake Twilio log, clinic callbacks)
    console: str  # the staff console's base URL
    demo: str  # the demo page with the widget
    endpoints: Path  # endpoints.yml with the SQLite tracker store, as STAFF_ENDPOINTS
    workdir: Path

    def database(self) -> sa.engine.Engine:
        return store.engine(store.database_url(self.endpoints))

    def rest(self, sender: str, text: str) -> List[Dict[str, Any]]:
        reply = requests.post(f"{self.assistant.base}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def events(self, sender: str) -> List[Dict[str, Any]]:
        return self.assistant.tracker(sender)["events"]


class Staff(requests.Session):
    """A browser-like client of the console, signed in as a member of staff."""

    def __init__(self, console: str) -> None:
        super().__init__()
        self.console = console
        self.csrf = ""

    def url(self, path: str) -> str:
        return self.console + path

    def sign_in(self, username: str = STAFF_USER, password: str = STAFF_PASSWORD) -> requests.Response:
        form = self.get(self.url("/sign-in"), timeout=30)
        token = CSRF.search(form.text).group(1)
        reply = self.post(self.url("/sign-in"), data={"csrf_token": token, "username": username,
                                                      "password": password, "next": "/"},
                          allow_redirects=False, timeout=30)
        if reply.status_code == 303:
            self.csrf = CSRF.search(self.get(self.url("/"), timeout=30).text).group(1)
        return reply

    def action(self, path: str, csrf: Optional[str] = "", **fields: str) -> requests.Response:
        """A form POST, with the session's CSRF token unless another (or None: none) is given."""
        data = dict(fields)
        if csrf is not None:
            data["csrf_token"] = csrf or self.csrf
        return self.post(self.url(path), data=data, allow_redirects=False, timeout=60)

    def queue(self) -> Dict[str, Any]:
        reply = self.get(self.url("/live/queue"), timeout=30)
        reply.raise_for_status()
        return reply.json()


def waiting_ids(html: str) -> List[str]:
    """The conversation ids in the queue's "Waiting" table, in their order."""
    waiting = html.split('id="back-heading"')[0]
    return re.findall(r'<a href="/conversations/[^"]+">([^<]+)</a>', waiting)


def queue_row(html: str, conversation_id: str) -> str:
    """The queue's table row of a conversation."""
    rows = re.findall(r"<tr[ >].*?</tr>", html, flags=re.S)
    return next(row for row in rows if f">{conversation_id}</a>" in row)


def wait_for(check, seconds: float = 30, what: str = "the condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {seconds}s")


def start_console(workdir: Path, endpoints: Path, rasa_url: str, port: int, api_secret: Optional[str],
                  name: str = "console") -> subprocess.Popen:
    env = dict(os.environ, STAFF_ENDPOINTS=str(endpoints), RASA_URL=rasa_url, RASA_AUTH_TOKEN=TOKEN,
               STAFF_PORT=str(port))
    env.pop("STAFF_API_SECRET", None)
    if api_secret:
        env["STAFF_API_SECRET"] = api_secret
    log = workdir / f"{name}.log"
    process = subprocess.Popen([BIN / "python", "-m", "staff.app"], cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT)
    wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/sign-in", timeout=2).ok, 60, process, log)
    return process


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    assert MODEL.is_file(), f"no trained model at {MODEL}: run `make train` first"
    # What `make widget` does (without its reproducibility check): the demo page serves webchat/dist/.
    subprocess.run(["node", ROOT / "webchat" / "build.mjs", ROOT / "webchat" / "dist"], check=True,
                   stdout=subprocess.DEVNULL)
    workdir = tmp_path_factory.mktemp("staff")
    action_port, rasa_port, console_port, demo_port = free_port(), free_port(), free_port(), free_port()
    console, demo, rasa_url = (f"http://127.0.0.1:{console_port}", f"http://127.0.0.1:{demo_port}",
                               f"http://127.0.0.1:{rasa_port}")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: privacy.tracker_store.MaskingSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {workdir / 'conversations.db'}\n")
    callbacks = CallbackReceiver()
    threading.Thread(target=callbacks.serve_forever, daemon=True).start()

    env = {name: value for name, value in os.environ.items() if not name.startswith(CHANNEL_VARIABLES)}
    env.pop("HANDOFF_WEBHOOK_URL", None)
    rasa_env = dict(env, CLINIC_SECRET=CLINIC_SECRET, CLINIC_CALLBACK_URL=callbacks.url, **TWILIO,
                    FAKE_API_LOG=str(workdir / "outbound.jsonl"))
    credentials = workdir / "credentials.yml"
    subprocess.run([BIN / "python", "-m", "connectors.credentials", credentials], cwd=ROOT, env=rasa_env, check=True,
                   stdout=subprocess.DEVNULL)
    # A staff account, made the way `make staff-user` makes one.
    subprocess.run([BIN / "python", "-m", "staff.accounts", "--username", STAFF_USER, "--display-name", STAFF_NAME],
                   cwd=ROOT, env=dict(env, STAFF_ENDPOINTS=str(endpoints), STAFF_PASSWORD=STAFF_PASSWORD), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    processes: List[subprocess.Popen] = []
    try:
        action_log = workdir / "actions.log"
        processes.append(subprocess.Popen(
            [BIN / "rasa", "run", "actions", "--port", str(action_port), "--actions", "actions"],
            cwd=ROOT, env=dict(env, STAFF_CONSOLE_URL=console, **ACTION_SERVER_ENV),
            stdout=action_log.open("w"), stderr=subprocess.STDOUT))
        rasa_log = workdir / "rasa.log"
        processes.append(subprocess.Popen(
            [BIN / "python", ROOT / "tests" / "channels" / "fake_messaging_apis.py", "run", "--model", MODEL,
             "--endpoints", endpoints, "--credentials", credentials, "--port", str(rasa_port),
             "--cors", demo, "--enable-api", "--auth-token", TOKEN],
            cwd=ROOT, env=rasa_env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT))
        demo_log = workdir / "demo.log"
        processes.append(subprocess.Popen(
            [BIN / "python", ROOT / "webchat" / "serve.py", "--port", str(demo_port), "--rasa-url", rasa_url],
            cwd=ROOT, stdout=demo_log.open("w"), stderr=subprocess.STDOUT))
        processes.append(start_console(workdir, endpoints, rasa_url, console_port, API_SECRET))
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2).ok, 60,
                   processes[0], action_log)
        wait_until(lambda: requests.get(f"{rasa_url}/status", params={"token": TOKEN}, timeout=2).ok, 180,
                   processes[1], rasa_log)
        yield Stack(Assistant(rasa_url, workdir / "outbound.jsonl", callbacks), console, demo, endpoints, workdir)
    finally:
        for process in reversed(processes):
            stop(process)
        callbacks.shutdown()


@pytest.fixture
def staff(stack) -> Iterator[Staff]:
    client = Staff(stack.console)
    assert client.sign_in().status_code == 303
    yield client
    client.close()
