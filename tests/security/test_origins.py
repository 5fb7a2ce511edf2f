"""The socket.io server accepts only the origins the Rasa server's CORS
setting allows (`--cors`): a page on another site cannot open a chat."""
import queue

import pytest
import socketio

from tests.security.conftest import ALLOWED_ORIGIN, new_id


def connect(url: str, origin=None, transport: str = "polling", wait: float = 10) -> socketio.Client:
    # Over websocket, the client library sends an Origin of its own beside ours
    # (the server sees both, and refuses that too), so the allowed chat polls.
    client = socketio.Client(reconnection=False)
    client.connect(url, headers={"Origin": origin} if origin else {}, transports=[transport], wait_timeout=wait)
    return client


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("origin", ["https://evil.example", "https://clinic.example.evil.example", "null"])
def test_a_foreign_origin_is_refused_at_the_handshake(clinic, origin, transport):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(clinic.base, origin, transport, wait=3)


def test_the_allowed_origin_chats(clinic):
    client = connect(clinic.base, ALLOWED_ORIGIN)
    replies, confirmed = queue.Queue(), queue.Queue()
    client.on("bot_uttered", replies.put)
    client.on("session_confirm", confirmed.put)
    try:
        client.emit("session_request", {"session_id": new_id("origin")})
        session = confirmed.get(timeout=10)
        client.emit("user_uttered", {"message": "is it dangerous?", "session_id": session})
        assert replies.get(timeout=30).get("text")
    finally:
        client.disconnect()


def test_a_client_without_origin_is_not_a_browser_and_connects(clinic):
    connect(clinic.base).disconnect()
