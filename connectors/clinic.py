"""Input channel for a clinic's own messaging system (patient portal).

In credentials.yml (written by `connectors/credentials.py` from CLINIC_SECRET,
CLINIC_CALLBACK_URL and CLINIC_REPLY_FORMAT):

    connectors.clinic.ClinicInput:
      secret: ${CLINIC_SECRET}
      previous_secret: ${CLINIC_SECRET_PREVIOUS}   # optional, while rotating
      callback_url: ${CLINIC_CALLBACK_URL}
      reply_format: json            # or "text"

Inbound: POST /webhooks/clinic/webhook with a JSON body
`{"sender": "patient-17", "message": "is it dangerous?", "message_id": "m-1"}`
and two headers: `X-Clinic-Timestamp`, the Unix time in seconds when it was
sent, and `X-Clinic-Signature`, the hex HMAC-SHA256 with the shared secret of
the timestamp, a dot and the exact body bytes (`1767225600.{"sender": ...}`).
- A missing or wrong signature, or a timestamp more than 5 minutes from the
  server's clock, gets 401 and the message is dropped (a captured request
  cannot be replayed later).
- A message id already handled gets 409 and is dropped (nor can it be
  replayed within the 5 minutes). `message_id` is optional; without it the
  signature stands for it, so the same request sent twice is still refused.
  Ids are remembered in this process and looked up in the conversation's
  stored events, so another worker or a restart refuses them too.
- A signed body that is not such an object gets 400 naming the problem; a
  conversation over its rate limit (connectors/limits.py) gets 429 and nothing
  is stored. Unsigned requests are charged to their client address: the
  clinic's own address carries every patient's messages, so signed ones are
  charged to their conversation only.
- Otherwise 200 `{"status": "accepted"}` at once, and the message is answered
  in the background.

Rotating the secret: set the new one as CLINIC_SECRET and the old one as
CLINIC_SECRET_PREVIOUS, restart, switch the clinic's system to the new secret,
then remove CLINIC_SECRET_PREVIOUS and restart. Replies are signed with
CLINIC_SECRET only.

Replies: one POST per incoming message (none if the conversation is paused for
staff) to the callback URL, signed the same way (timestamp and signature
headers), with a `message_id` of its own that stays the same when a delivery
is retried, so that the clinic can refuse replays and duplicates too:
`{"recipient_id": "patient-17", "in_reply_to": "m-1", "language": "en",
"message_id": "5f0c...", "messages": [...]}`
(`language`: the conversation's language, "en" or "zh", as content/languages.yml lists them).
With `reply_format: json` the messages are what the REST channel returns (text,
buttons, custom payloads with topic, sources and red-flag alerts); with `text`
they are `{"recipient_id": ..., "text": ...}` only, buttons as numbered options
and a reply that is just a number picks that option (`connectors/text_only.py`).
A failed delivery is retried (3 tries in all) and then logged as an error.

Messages sent outside a patient's turn, through Rasa's HTTP API with
`output_channel=latest` (staff replies, the assistant's "I'm back" when staff
hand back), are posted the same way, one POST per message, with
`"in_reply_to": null`. A staff reply carries `{"custom": {"from": "staff",
"name": ...}}` (json) or starts with who sent it (text).
"""
import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Set, Text, Tuple

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.limits import limiter, refuse_address, refuse_conversation
from connectors.replies import answer
from connectors.rest import CONTROL_CHARACTERS, MAX_BODY_BYTES, MAX_MESSAGE_CHARS, conversation_id_ok
from connectors.text_only import TextOnlyOutput, pick_option

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Clinic-Signature"
TIMESTAMP_HEADER = "X-Clinic-Timestamp"
REPLY_FORMATS = ("json", "text")
# How far a request's timestamp may be from the server's clock, either way.
MAX_AGE_SECONDS = 300


def sign(secret: Text, timestamp: Text, body: bytes) -> Text:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(secrets: Sequence[Text], timestamp: Optional[Text], body: bytes, signature: Optional[Text]) -> bool:
    if signature is None or timestamp is None:
        return False
    # Compared as ASCII bytes: compare_digest refuses str with non-ASCII
    # characters, which a forged header may hold ("?" never matches hex).
    given = signature.strip().lower().encode("ascii", "replace")
    return any(hmac.compare_digest(sign(secret, timestamp, body).encode(), given) for secret in secrets)


def fresh(timestamp: Text, now: float) -> bool:
    try:
        return abs(now - int(timestamp)) <= MAX_AGE_SECONDS
    except ValueError:
        return False


def parse_message(body: bytes) -> Tuple[Text, Text, Optional[Text]]:
    """(sender, message, message_id) of an inbound body; ValueError says what is wrong."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError('the body must be a JSON object: {"sender": ..., "message": ...}')
    sender, text, message_id = data.get("sender"), data.get("message"), data.get("message_id")
    if not conversation_id_ok(sender):
        raise ValueError("'sender' is missing or not a non-empty string (at most 200 characters, no control characters)")
    if not isinstance(text, str):
        raise ValueError("'message' is missing or not a string")
    if message_id is not None and not isinstance(message_id, str):
        raise ValueError("'message_id' must be a string when given")
    return sender, CONTROL_CHARACTERS.sub(" ", text)[:MAX_MESSAGE_CHARS], message_id


class ClinicTextOutput(TextOnlyOutput, CollectingOutputChannel):
    """Collects plain-text messages (numbered options, split long texts)."""

    @classmethod
    def name(cls) -> Text:
        return "clinic"

    async def send_plain(self, recipient_id: Text, text: Text) -> None:
        await self._persist_message(self._message(recipient_id, text=text))


class ClinicOutput(OutputChannel):
    """Posts each message sent outside a patient's turn to the callback URL at once."""

    def __init__(self, channel: "ClinicInput") -> None:
        self.channel = channel

    @classmethod
    def name(cls) -> Text:
        return "clinic"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        collector = self.channel.collector()
        await collector.send_response(recipient_id, message)
        if collector.messages:
            tracker = await Sanic.get_app().ctx.agent.tracker_store.retrieve(recipient_id)
            await self.channel.deliver({"recipient_id": recipient_id, "in_reply_to": None,
                                        "language": tracker.get_slot("language") if tracker else None,
                                        "messages": collector.messages})


class ClinicInput(InputChannel):
    # Seconds to wait before the 2nd and 3rd delivery tries.
    retry_delays: Tuple[float, ...] = (1.0, 4.0)
    timeout_seconds = 10.0

    @classmethod
    def name(cls) -> Text:
        return "clinic"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials or not credentials.get("secret") or not credentials.get("callback_url"):
            raise RasaException("The clinic channel needs 'secret' and 'callback_url' in its credentials.")
        reply_format = str(credentials.get("reply_format") or "json")
        if reply_format not in REPLY_FORMATS:
            raise RasaException(f"Clinic reply_format must be one of {REPLY_FORMATS}, not {reply_format!r}.")
        return cls(str(credentials["secret"]), str(credentials["callback_url"]), reply_format,
                   previous_secret=credentials.get("previous_secret"))

    def __init__(self, secret: Text, callback_url: Text, reply_format: Text = "json",
                 previous_secret: Optional[Text] = None) -> None:
        self.secret = secret
        self.secrets = [secret] + ([str(previous_secret)] if previous_secret else [])
        self.callback_url = callback_url
        self.reply_format = reply_format
        # The loop keeps only weak references to tasks: hold them until done.
        self._tasks: Set[asyncio.Task] = set()
        # Message ids handled by this process, with when they were seen.
        self._seen: Dict[Text, float] = {}
        limiter()  # read now: a broken limit setting stops the server at start

    def collector(self) -> CollectingOutputChannel:
        """Collects one turn's messages in the reply format."""
        return ClinicTextOutput() if self.reply_format == "text" else CollectingOutputChannel()

    def get_output_channel(self) -> OutputChannel:
        return ClinicOutput(self)

    def _first_time(self, message_id: Text, now: float) -> bool:
        """Remembers `message_id`; False if it was seen within the replay window."""
        if len(self._seen) > 10_000:
            self._seen = {key: when for key, when in self._seen.items() if now - when <= 2 * MAX_AGE_SECONDS}
        if now - self._seen.get(message_id, -1e12) <= 2 * MAX_AGE_SECONDS:
            return False
        self._seen[message_id] = now
        return True

    @staticmethod
    async def _stored(tracker_store: TrackerStore, sender: Text, message_id: Text) -> bool:
        tracker = await tracker_store.retrieve(sender)
        return tracker is not None and any(
            isinstance(event, UserUttered) and event.message_id == message_id for event in tracker.events
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        clinic_webhook = Blueprint("clinic_webhook", __name__)

        @clinic_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @clinic_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body, now = request.body or b"", time.time()
            signature = request.headers.get(SIGNATURE_HEADER)
            timestamp = request.headers.get(TIMESTAMP_HEADER)
            if len(body) > MAX_BODY_BYTES or not signature_ok(self.secrets, timestamp, body, signature):
                refused = refuse_address(request)
                if refused:
                    return refused
                logger.warning("Clinic message refused: missing or wrong %s.", SIGNATURE_HEADER)
                return response.json({"error": f"missing or wrong {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}"},
                                     status=401)
            if not fresh(timestamp, now):
                logger.warning("Clinic message refused: %s %r is over %d s from now.", TIMESTAMP_HEADER, timestamp,
                               MAX_AGE_SECONDS)
                return response.json({"error": f"{TIMESTAMP_HEADER} is more than {MAX_AGE_SECONDS} seconds "
                                               "from the server's time"}, status=401)
            try:
                sender, text, message_id = parse_message(body)
            except ValueError as error:
                return response.json({"error": str(error)}, status=400)
            message_id = message_id or signature.strip().lower()
            tracker_store = request.app.ctx.agent.tracker_store
            # Remembered before the lookup, which awaits: a copy sent at the same moment is refused too.
            if not self._first_time(message_id, now) or await self._stored(tracker_store, sender, message_id):
                logger.warning("Clinic message refused: message id %s was already handled.", message_id)
                return response.json({"error": f"message {message_id} was already received"}, status=409)
            refused = refuse_conversation(sender)
            if refused:
                del self._seen[message_id]  # refused for speed: the clinic may send it again later
                return refused
            # Answer the clinic at once; the reply goes to the callback URL.
            task = asyncio.create_task(self._answer(tracker_store, on_new_message, sender, text, message_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return response.json({"status": "accepted"})

        return clinic_webhook

    async def _answer(
        self,
        tracker_store: TrackerStore,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: Text,
        text: Text,
        message_id: Optional[Text],
    ) -> None:
        collector = self.collector()
        try:
            if self.reply_format == "text":
                text = await pick_option(tracker_store, sender, text)
            message = UserMessage(text, collector, sender, input_channel=self.name(), message_id=message_id)
            await answer(on_new_message, message)
        except Exception:
            # A background task has nobody to raise to: log with the traceback.
            logger.exception("Clinic message %s from %s could not be handled.", message_id, sender)
            return
        if collector.messages:
            tracker = await tracker_store.retrieve(sender)
            language = tracker.get_slot("language") if tracker else None
            await self.deliver({"recipient_id": sender, "in_reply_to": message.message_id, "language": language,
                                "messages": collector.messages})

    async def deliver(self, payload: Dict[Text, Any]) -> bool:
        """POSTs the signed payload to the callback URL; True once the clinic took it."""
        body = json.dumps(dict(payload, message_id=uuid.uuid4().hex)).encode()
        tries = len(self.retry_delays) + 1
        for attempt in range(1, tries + 1):
            # Signed afresh for each try: a retry minutes later must not look stale.
            timestamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                       SIGNATURE_HEADER: sign(self.secret, timestamp, body)}
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.post(self.callback_url, data=body, headers=headers) as reply:
                        if reply.status < 300:
                            return True
                        problem = f"HTTP {reply.status}"
                        # Other client errors (bad signature, unknown patient...) will not pass on a retry.
                        if 400 <= reply.status < 500 and reply.status not in (408, 429):
                            break
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                problem = f"{type(error).__name__}: {error}"
            if attempt < tries:
                await asyncio.sleep(self.retry_delays[attempt - 1])
        logger.error(
            "Clinic callback FAILED after %d tries (%s): %d message(s) for %s, in reply to %s, "
            "were not delivered to %s.",
            attempt, problem, len(payload["messages"]), payload["recipient_id"],
            payload["in_reply_to"], self.callback_url,
        )
        return False
