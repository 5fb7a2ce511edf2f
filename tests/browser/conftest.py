"""Starts, once for the browser tests, the real action server, the Rasa server
with the socket.io channel (the same section as credentials.yml), the demo
clinic page (webchat/serve.py) and a static server for pages tests write."""
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import BIN, MODEL, ROOT, free_port, wait_until

TOKEN = "browser-test-token"
SOCKETIO_CREDENTIALS = """\
webchat.channel.SocketIOInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
"""


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class ChatServers:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.rasa_port, self.demo_port, self.pages_port = free_port(), free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.demo_url = f"http://127.0.0.1:{self.demo_port}"
        # Pages come from real servers: a page that Playwright's route() fulfils counts
        # as public, and Chromium's Local Network Access blocks its calls to loopback.
        self.pages_dir = tmp / "pages"
        self.pages_url = f"http://127.0.0.1:{self.pages_port}"
        self.rasa = None

    def start_rasa(self) -> None:
        log = self.tmp / "rasa.log"
        self.rasa = subprocess.Popen(
            [BIN / "rasa", "run", "--model", MODEL, "--endpoints", self.tmp / "endpoints.yml",
             "--credentials", self.tmp / "credentials.yml", "--port", str(self.rasa_port),
             "--cors", self.demo_url, self.pages_url, "--enable-api", "--auth-token", TOKEN],
            cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: requests.get(f"{self.rasa_url}/status", params={"token": TOKEN}, timeout=2).ok,
                   180, self.rasa, log)

    def stop_rasa(self) -> None:
        stop(self.rasa)


@pytest.fixture(scope="session")
def chat_servers(tmp_path_factory):
    assert MODEL.is_file(), "no trained model: run `make train` first"
    tmp = tmp_path_factory.mktemp("chat")
    servers = ChatServers(tmp)
    action_port = free_port()
    (tmp / "endpoints.yml").write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    (tmp / "credentials.yml").write_text(SOCKETIO_CREDENTIALS)

    action_log, demo_log = tmp / "actions.log", tmp / "demo.log"
    actions = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT, stdout=action_log.open("w"), stderr=subprocess.STDOUT,
    )
    demo = subprocess.Popen(
        [BIN / "python", ROOT / "webchat" / "serve.py", "--port", str(servers.demo_port), "--rasa-url", servers.rasa_url],
        cwd=ROOT, stdout=demo_log.open("w"), stderr=subprocess.STDOUT,
    )
    servers.pages_dir.mkdir()
    pages = ThreadingHTTPServer(("127.0.0.1", servers.pages_port),
                                partial(SimpleHTTPRequestHandler, directory=servers.pages_dir))
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    try:
        wait_until(lambda: requests.get(servers.demo_url, timeout=2).ok, 20, demo, demo_log)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2).ok, 60, actions, action_log)
        servers.start_rasa()
        yield servers
    finally:
        pages.shutdown()
        for process in (servers.rasa, actions, demo):
            if process:
                stop(process)
