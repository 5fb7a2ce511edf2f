"""Starts, once for the browser tests: the real action server; the Rasa server
with the channels every deployment has (written by connectors/credentials.py
as scripts/serve.sh does, optional channels off: REST and the web widget's
socket.io channel), CORS for the test pages, conversations in SQLite as in
endpoints.yml; the demo clinic page (webchat/serve.py) with the widget built
from the current source; a static server for pages that tests write; and a
"clinic site" on an origin of its own that serves only what a test puts there."""
import os
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml

from connectors import credentials
from tests.browser.chat import WAIT, browser  # noqa: F401 (the fixture)
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, MODEL, ROOT, TOKEN, free_port, stop, wait_until


class ChatServers:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.rasa_port, self.demo_port, self.pages_port, self.clinic_port = free_port(), free_port(), free_port(), free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.demo_url = f"http://127.0.0.1:{self.demo_port}"
        # Pages come from real servers: a page that Playwright's route() fulfils counts
        # as public, and Chromium's Local Network Access blocks its calls to loopback.
        self.pages_dir = tmp / "pages"
        self.pages_url = f"http://127.0.0.1:{self.pages_port}"
        self.clinic_dir = tmp / "clinic"
        self.clinic_url = f"http://127.0.0.1:{self.clinic_port}"
        self.rasa = None

    def start_rasa(self) -> None:
        log = self.tmp / "rasa.log"
        self.rasa = subprocess.Popen(
            [BIN / "rasa", "run", "--model", MODEL, "--endpoints", self.tmp / "endpoints.yml",
             "--credentials", self.tmp / "credentials.yml", "--port", str(self.rasa_port),
             "--cors", self.demo_url, self.pages_url, self.clinic_url, "--enable-api", "--auth-token", TOKEN],
            cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: requests.get(f"{self.rasa_url}/status", params={"token": TOKEN}, timeout=2).ok,
                   180, self.rasa, log)

    def stop_rasa(self) -> None:
        stop(self.rasa)


@pytest.fixture(scope="session")
def chat_servers(tmp_path_factory):
    assert MODEL.is_file(), "no trained model: run `make train` first"
    # What `make widget` does (without its reproducibility check): the demo page serves webchat/dist/.
    subprocess.run(["node", ROOT / "webchat" / "build.mjs", ROOT / "webchat" / "dist"], check=True, stdout=subprocess.DEVNULL)
    tmp = tmp_path_factory.mktemp("chat")
    servers = ChatServers(tmp)
    action_port = free_port()
    (tmp / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        f"tracker_store:\n  type: privacy.tracker_store.MaskingSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {tmp / 'conversations.db'}\n"
    )
    channels, _ = credentials.build({}, yaml.safe_load((ROOT / "credentials.yml").read_text()))
    (tmp / "credentials.yml").write_text(yaml.safe_dump(channels))

    action_log, demo_log = tmp / "actions.log", tmp / "demo.log"
    actions = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT, env=dict(os.environ, **ACTION_SERVER_ENV), stdout=action_log.open("w"), stderr=subprocess.STDOUT,
    )
    demo = subprocess.Popen(
        [BIN / "python", ROOT / "webchat" / "serve.py", "--port", str(servers.demo_port), "--rasa-url", servers.rasa_url],
        cwd=ROOT, stdout=demo_log.open("w"), stderr=subprocess.STDOUT,
    )
    static = []
    for directory, port in ((servers.pages_dir, servers.pages_port), (servers.clinic_dir, servers.clinic_port)):
        directory.mkdir()
        static.append(ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=directory)))
        threading.Thread(target=static[-1].serve_forever, daemon=True).start()
    try:
        wait_until(lambda: requests.get(servers.demo_url, timeout=2).ok, 20, demo, demo_log)
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2).ok, 60, actions, action_log)
        servers.start_rasa()
        yield servers
    finally:
        for server in static:
            server.shutdown()
        for process in (servers.rasa, actions, demo):
            if process:
                stop(process)


@pytest.fixture
def open_page(browser):
    """open_page(url, width, height, **context options) -> the page, in a browser context of its own."""
    contexts = []

    def open_page(url, width=1280, height=800, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
