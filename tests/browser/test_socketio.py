"""A python-socketio client talks to the running server the way the widget
(and botfront's rasa-webchat) does: session_request, then user_uttered with
the session id, answers arriving as bot_uttered events."""
import queue
import uuid

import pytest
import socketio

from content_model import load_library

CONTENT = load_library().content("en")


class Chat:
    """One socket.io connection that asks for one conversation (session)."""

    def __init__(self, url, session_id):
        self.replies = queue.Queue()
        confirmed = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", confirmed.put)
        self.client.on("bot_uttered", self.replies.put)
        self.client.connect(url, transports=["websocket"], wait_timeout=10)
        self.client.emit("session_request", {"session_id": session_id})
        self.session_id = confirmed.get(timeout=10)

    def say(self, text):
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})
        try:
            replies = [self.replies.get(timeout=30)]
        except queue.Empty:
            pytest.fail("no bot_uttered within 30 s: the replies did not reach the session's room. Rasa 3.6 "
                        "calls sio.enter_room() without await; python-socketio after 5.8 needs it awaited. "
                        "Pin python-socketio==5.8.0.")
        # One turn is several messages; the turn is over when they stop coming.
        while True:
            try:
                replies.append(self.replies.get(timeout=2))
            except queue.Empty:
                return replies

    def close(self):
        self.client.disconnect()


def texts(replies):
    return [reply["text"] for reply in replies if "text" in reply]


def payloads(replies):
    return [reply["custom"] for reply in replies if "custom" in reply]


def test_conversation_with_a_session_id_from_the_server(chat_servers):
    # First visit: no session id yet (as rasa-webchat does), the server makes one.
    chat = Chat(chat_servers.rasa_url, None)
    try:
        assert chat.session_id
        topic = CONTENT.topics["dangerous"]
        answer = chat.say("is it dangerous?")
        assert texts(answer)[0] == topic.short_answer
        assert f"Source: {CONTENT.source_line(topic)}" in texts(answer)
        assert all(reply["quick_replies"] for reply in answer if reply.get("text", "").startswith("Source:"))
        assert {"topic": "dangerous", "part": "short_answer", "sources": topic.sources} in payloads(answer)

        more = chat.say("tell me more")
        assert texts(more)[0] == topic.explanation
        assert {"topic": "dangerous", "part": "explanation", "sources": topic.sources} in payloads(more)
    finally:
        chat.close()


def test_reconnecting_with_the_same_session_id_keeps_the_conversation(chat_servers):
    """The regression test for Rasa's un-awaited enter_room: with a python-socketio
    that makes it a coroutine, no reply reaches the client at all."""
    session_id = uuid.uuid4().hex
    first = Chat(chat_servers.rasa_url, session_id)
    assert first.session_id == session_id
    assert texts(first.say("what causes it?"))[0] == CONTENT.topics["causes"].short_answer
    first.close()

    again = Chat(chat_servers.rasa_url, session_id)
    try:
        assert texts(again.say("tell me more"))[0] == CONTENT.topics["causes"].explanation
    finally:
        again.close()


def test_warning_is_a_text_followed_by_the_alert_payload(chat_servers):
    chat = Chat(chat_servers.rasa_url, uuid.uuid4().hex)
    try:
        message = "my eyes are yellow"
        replies = chat.say(message)
        assert replies[0]["text"] == CONTENT.red_flags.warning(CONTENT.red_flags.find(message))
        assert replies[1] == {"custom": {"alert": "red_flag", "signs": ["jaundice"]}}
    finally:
        chat.close()
