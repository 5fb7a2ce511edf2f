"""Unit tests of the clinic connector's signing and callback delivery, against
a local HTTP receiver that answers with scripted status codes."""
import asyncio
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import List

import pytest

from connectors.clinic import ClinicInput, parse_message, sign, signature_ok
from tests.e2e.conftest import free_port

PAYLOAD = {"recipient_id": "patient-1", "in_reply_to": "m-1", "messages": [{"recipient_id": "patient-1", "text": "Hi"}]}


class ScriptedReceiver(BaseHTTPRequestHandler):
    statuses: List[int] = []
    received: List[bytes] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(self.statuses.pop(0))
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    ScriptedReceiver.received.clear()
    server = HTTPServer(("127.0.0.1", free_port()), ScriptedReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/replies"
    server.shutdown()


def channel(url: str) -> ClinicInput:
    clinic = ClinicInput("secret", url)
    clinic.retry_delays = (0.01, 0.01)
    return clinic


def test_signature_is_hex_hmac_sha256_of_the_timestamp_a_dot_and_the_body():
    # Same as: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
    assert sign("secret", "1700000000", b"{}") == hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature_ok(["secret"], "1700000000", b"{}", sign("secret", "1700000000", b"{}").upper())
    assert not signature_ok(["secret"], "1700000000", b"{}", None)
    assert not signature_ok(["secret"], None, b"{}", sign("secret", "1700000000", b"{}"))
    assert not signature_ok(["secret"], "1700000000", b"{} ", sign("secret", "1700000000", b"{}"))
    assert not signature_ok(["secret"], "1700000001", b"{}", sign("secret", "1700000000", b"{}"))


def test_parse_message_accepts_an_optional_message_id():
    assert parse_message(b'{"sender": "p", "message": "hi"}') == ("p", "hi", None)
    assert parse_message(b'{"sender": "p", "message": "", "message_id": "m"}') == ("p", "", "m")


def test_delivery_succeeds_on_the_third_try_with_a_signed_body(receiver):
    ScriptedReceiver.statuses = [503, 502, 200]
    assert asyncio.run(channel(receiver).deliver(PAYLOAD))
    assert len(ScriptedReceiver.received) == 3
    delivered = json.loads(ScriptedReceiver.received[-1])
    assert delivered == dict(PAYLOAD, message_id=delivered["message_id"])
    # The same id on every try, so that the clinic can drop a duplicate.
    assert {json.loads(body)["message_id"] for body in ScriptedReceiver.received} == {delivered["message_id"]}


def test_final_failure_is_logged_clearly(receiver, caplog):
    ScriptedReceiver.statuses = [500, 500, 500]
    assert not asyncio.run(channel(receiver).deliver(PAYLOAD))
    assert len(ScriptedReceiver.received) == 3
    assert f"Clinic callback FAILED after 3 tries (HTTP 500): 1 message(s) for patient-1, in reply to m-1, " \
           f"were not delivered to {receiver}." in caplog.text


def test_client_error_is_not_retried(receiver, caplog):
    ScriptedReceiver.statuses = [401]
    assert not asyncio.run(channel(receiver).deliver(PAYLOAD))
    assert len(ScriptedReceiver.received) == 1
    assert "FAILED after 1 tries (HTTP 401)" in caplog.text


def test_unreachable_callback_url_is_logged(caplog):
    assert not asyncio.run(channel(f"http://127.0.0.1:{free_port()}/replies").deliver(PAYLOAD))
    assert "FAILED after 3 tries (ClientConnectorError" in caplog.text
