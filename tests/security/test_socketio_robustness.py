"""Socket.io: broken messages get a clear refusal event, a failed answer the
polite "try again", and neither crashes the server."""
import queue

import pytest
import socketio

from content_model import load_library
from tests.security.conftest import ALLOWED_ORIGIN, new_id

CLINIC_EN = load_library().content("en").clinic


class Chat:
    def __init__(self, url: str):
        self.replies, confirmed = queue.Queue(), queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(url, headers={"Origin": ALLOWED_ORIGIN}, transports=["polling"], wait_timeout=10)
        self.client.emit("session_request", {"session_id": new_id("robust")})
        self.session = confirmed.get(timeout=10)

    def next_reply(self) -> dict:
        return self.replies.get(timeout=30)


@pytest.fixture
def chat(clinic):
    chat = Chat(clinic.base)
    yield chat
    chat.client.disconnect()


@pytest.mark.parametrize("data", [
    "just a string", 42, None, [1, 2], {"session_id": "x"}, {"message": 5, "session_id": "x"},
    {"message": {"text": "hi"}, "session_id": "x"}, {"message": "hi", "session_id": 7},
    {"message": "x" * 2001, "session_id": "x"}, {"message": "hi"},
], ids=["string", "number", "null", "list", "no-message", "number-message", "object-message", "number-session",
        "2001-characters", "no-session"])
def test_a_broken_message_gets_a_clear_refusal_and_the_chat_goes_on(clinic, chat, data):
    chat.client.emit("user_uttered", data)
    reply = chat.next_reply()
    assert reply == {"text": CLINIC_EN["message_refused"], "error": "message_refused"}
    chat.client.emit("user_uttered", {"message": "is it dangerous?", "session_id": chat.session})
    assert chat.next_reply().get("text")
    assert clinic.wait_for_user_texts(chat.session, 1) == ["is it dangerous?"]


def test_a_broken_session_request_still_gets_a_session(clinic):
    client = socketio.Client(reconnection=False)
    confirmed = queue.Queue()
    client.on("session_confirm", confirmed.put)
    client.connect(clinic.base, headers={"Origin": ALLOWED_ORIGIN}, transports=["polling"], wait_timeout=10)
    try:
        for data in ("nonsense", 5, {"session_id": {"a": 1}}, {"session_id": ""}):
            client.emit("session_request", data)
            assert len(confirmed.get(timeout=10)) == 32  # a new session id
    finally:
        client.disconnect()


def test_when_answering_fails_the_patient_is_asked_to_try_again(local):
    chat = Chat(local.base)
    try:
        local.extra["switch"].failing = True
        chat.client.emit("user_uttered", {"message": "is it dangerous?", "session_id": chat.session})
        assert chat.next_reply()["text"] == CLINIC_EN["try_again"]
        local.extra["switch"].failing = False
        chat.client.emit("user_uttered", {"message": "what causes it?", "session_id": chat.session})
        assert chat.next_reply()["text"] != CLINIC_EN["try_again"]
    finally:
        local.extra["switch"].failing = False
        chat.client.disconnect()
