"""Rasa's socket.io channel, made safe for a public web page.

Switched on by connectors/credentials.py as `connectors.widget.SocketIOInput:`.
What it changes in Rasa 3.6's channel:

- Custom payloads reach the browser. Rasa's SocketIOOutput.send_custom_json
  calls `sio.emit(event, **payload)`, so this project's payloads ({"topic": ...},
  {"alert": "red_flag", ...}) become unknown keyword arguments of emit() and
  raise TypeError; the turn then stops half way and the tracker is not saved.
  Here a custom payload is sent as the event's data, in the REST channel's
  shape: {"custom": {...}}.
- Origins. Rasa's socket.io server accepts any Origin (only HTTP gets CORS).
  Here a connection whose Origin is not one the Rasa server's CORS setting
  allows (`--cors`, the demo page's by default in scripts/serve.sh) is refused
  at the handshake; a page on the server's own host and port (same origin)
  may connect. Clients that send no Origin (not browsers) are not affected:
  the check protects patients' browsers from other sites.
- Rate limits (connectors/limits.py): a connection is charged to its client
  address, each message to its address and conversation. Over a limit the
  sender gets the clinic's polite "please slow down" (`slow_down` in
  content/<language>/clinic.yml, event data `{"text": ..., "error":
  "slow_down"}`) and nothing is stored.
- Broken messages (not an object, no text, text over 2,000 characters, no
  session id) get `{"text": <message_refused>, "error": "message_refused"}`
  instead of an error in the server; packets over 64 KB are dropped by
  engine.io. Control characters are dropped from the text.
- When answering fails, the polite "try again" reply, as on REST.
- A turn's replies are sent once the turn is stored (as REST answers), so a
  patient never sees a reply that a crash then loses; a `turn_end` event
  follows them.
- Messages sent outside a patient's turn, through Rasa's HTTP API with
  `output_channel=latest` (staff replies, the hand back), reach the
  conversation's room. A staff reply goes as one event, its text with
  `{"custom": {"from": "staff", "name": ...}}`, so the widget labels it.
- Several Rasa processes (`make run-prod`): with `redis_url` in the
  credentials (SOCKETIO_REDIS_URL, connectors/credentials.py) every emit goes
  through python-socketio's Redis manager, so a message sent by one process
  reaches a patient whose socket another process holds. The manager pickles
  what it publishes: the Redis server must be reachable by these processes only.
"""
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import urlsplit

from rasa.core.channels import socketio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic
from sanic_cors.core import get_cors_origins, try_match
from socketio import AsyncRedisManager
from socketio.exceptions import ConnectionRefusedError

from connectors.limits import limiter
from connectors.replies import answer_or_apologise, library, wording
from connectors.rest import CONTROL_CHARACTERS, MAX_BODY_BYTES, MAX_MESSAGE_CHARS, conversation_id_ok

logger = logging.getLogger(__name__)
TURN_END = "turn_end"


class SocketIOOutput(socketio.SocketIOOutput):
    def __init__(self, sio: Any, bot_message_evt: Text, hold: bool = False) -> None:
        super().__init__(sio, bot_message_evt)
        # What was sent, so that a turn without any reply gets the apology.
        self.messages: List[Dict[Text, Any]] = []
        # A patient's turn is answered once it is stored: Rasa sends replies while
        # it runs the actions and saves the conversation after them, so a process
        # that dies in between would show replies that were never kept.
        self.held: Optional[List[Tuple[Text, Any]]] = [] if hold else None

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.messages.append(response)
        if self.held is not None:
            self.held.append((socket_id, response))
        else:
            await super()._send_message(socket_id, response)

    async def release(self, recipient_id: Text) -> None:
        """Sends the held replies, in order, then `turn_end`: the turn is stored
        and answered (a client can stop its typing indicator, or resend a
        message that got no `turn_end` after a lost connection)."""
        held, self.held = self.held or [], None
        for socket_id, response in held:
            await super()._send_message(socket_id, response)
        await self.sio.emit(TURN_END, {}, room=recipient_id)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("from") == "staff" and message.get("text"):
            # One message, not split at blank lines, that carries who sent it.
            await self._send_message(recipient_id, {"text": message["text"], "custom": custom})
        else:
            await super().send_response(recipient_id, message)


def origin_allowed(app: Sanic, origin: Text, path: Text, host: Text = "") -> bool:
    """Whether the Rasa server's CORS setting allows `origin` on `path`; a page
    served by the same host and port (same origin) always may."""
    if host and urlsplit(origin).netloc == host:
        return True
    cors = getattr(app.ctx, "sanic_cors", None)
    for pattern, options in getattr(cors, "resources", []):
        if try_match(path, pattern):
            return bool(get_cors_origins(options, origin))
    return False


class SocketIOInput(socketio.SocketIOInput):
    redis_url: Optional[Text] = None

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.redis_url = (credentials or {}).get("redis_url") or None
        return channel

    def get_output_channel(self) -> Optional[OutputChannel]:
        # Used for messages the HTTP API triggers outside a user turn.
        return self.sio and SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        limits = limiter()  # read now: a broken setting stops the server at start
        library()
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        if self.redis_url:
            # Rasa builds the server without a client manager; it is swapped before
            # the first connection, which is when python-socketio starts using it.
            sio.manager = AsyncRedisManager(self.redis_url)
            sio.manager.set_server(sio)
        sio.eio.max_http_buffer_size = MAX_BODY_BYTES
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]
        addresses: Dict[Text, Optional[Text]] = {}

        async def tell(sid: Text, key: Text, text: Text) -> None:
            await sio.emit(self.bot_message_evt, {"text": wording(key, text), "error": key}, room=sid)

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            request = environ["sanic.request"]
            origin = environ.get("HTTP_ORIGIN")
            if origin and not origin_allowed(request.app, origin, request.path, request.host):
                logger.warning("socket.io connection refused: origin %s is not allowed", origin)
                raise ConnectionRefusedError("this origin is not allowed")
            address = limits.client_address(request.ip, request.headers.get("X-Forwarded-For"))
            if limits.address_wait(address):
                raise ConnectionRefusedError("too many connections; please slow down")
            addresses[sid] = address
            return await rasa_connect(sid, environ, auth)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            addresses.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not conversation_id_ok(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            text = data.get("message") if isinstance(data, dict) else None
            conversation = data.get("session_id") if self.session_persistence and isinstance(data, dict) else sid
            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS or not conversation_id_ok(conversation):
                await tell(sid, "message_refused", text if isinstance(text, str) else "")
                return
            if limits.address_wait(addresses.get(sid)) or limits.conversation_wait(conversation):
                await tell(sid, "slow_down", text)
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            output = SocketIOOutput(sio, self.bot_message_evt, hold=True)
            message = UserMessage(
                CONTROL_CHARACTERS.sub(" ", text), output, conversation,
                input_channel=self.name(), metadata=metadata if isinstance(metadata, dict) else {},
            )
            try:
                await answer_or_apologise(on_new_message, message)
            finally:
                await output.release(conversation)

        return socketio_webhook
