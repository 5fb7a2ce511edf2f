"""Broken requests to the REST channel get a clear 4xx or a polite reply, never a 500,
and the server keeps serving and keeps what it stored."""
import uuid

import pytest
import requests

from content_model import load_library
from tests.e2e.test_rest import say, topic_of

BAD_BODIES = {
    "malformed JSON": b'{"sender": "x", "message": ',
    "not an object": b'["hello"]',
    "missing message": b'{"sender": "x"}',
    "missing sender": b'{"message": "is it dangerous?"}',
    "message not text": b'{"sender": "x", "message": {"a": 1}}',
    "invalid UTF-8": b'{"sender": "x", "message": "\xff\xfe bad"}',
    "1 MB body": b'{"sender": "x", "message": "' + b"a" * 1_000_000 + b'"}',
    "control characters": b'{"sender": "x", "message": "is it\\u0000 dangerous\\u0007\\u001b[31m?"}',
    "HTML and script": b'{"sender": "x", "message": "<img src=x onerror=alert(1)><script>alert(1)</script>"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_request_gets_4xx_or_polite_reply_and_nothing_is_lost(servers, body):
    patient = f"patient-{uuid.uuid4().hex[:8]}"
    assert topic_of(say(servers, patient, "what causes it?")) == "causes"

    response = requests.post(servers.rest_url, data=body, headers={"Content-Type": "application/json"}, timeout=120)
    assert response.status_code < 500, response.text[:500]
    if response.status_code == 200:
        replies = response.json()
        assert all("Traceback" not in (reply.get("text") or "") for reply in replies)

    # The earlier conversation is still there and still has its context.
    assert topic_of(say(servers, patient, "tell me more about the parasites")) == "parasites"


@pytest.mark.parametrize("text", ["   ", "\u3000\n"], ids=["spaces", "ideographic space and newline"])
def test_a_blank_message_gets_the_did_you_mean_reply_not_the_apology(servers, text):
    try_again = load_library().content("en").clinic["try_again"]
    replies = requests.post(servers.rest_url, json={"sender": f"blank-{uuid.uuid4().hex[:8]}", "message": text},
                            timeout=60).json()
    texts = [reply.get("text") for reply in replies]
    assert texts and try_again not in texts  # understood as "nothing to read", not as a failure
