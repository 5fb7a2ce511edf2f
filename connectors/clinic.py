"""Input channel for a clinic's own messaging system (patient portal).

In credentials.yml (written by `connectors/credentials.py` from CLINIC_SECRET,
CLINIC_CALLBACK_URL and CLINIC_REPLY_FORMAT):

    connectors.clinic.ClinicInput:
      secret: ${CLINIC_SECRET}
      callback_url: ${CLINIC_CALLBACK_URL}
      reply_format: json            # or "text"

Inbound: POST /webhooks/clinic/webhook with a JSON body
`{"sender": "patient-17", "message": "is it dangerous?", "message_id": "m-1"}`
(`message_id` optional) and the header `X-Clinic-Signature`: the hex
HMAC-SHA256 of the exact body bytes with the shared secret. A missing or wrong
signature gets 401 and the message is dropped; a signed body that is not such
an object gets 400 naming the problem; otherwise 200 `{"status": "accepted"}`
at once, and the message is answered in the background.

Replies: one POST per incoming message (none if the conversation is paused for
staff) to the callback URL, signed the same way:
`{"recipient_id": "patient-17", "in_reply_to": "m-1", "language": "en", "messages": [...]}`
(`language`: the conversation's language, "en" or "zh", as content/languages.yml lists them).
With `reply_format: json` the messages are what the REST channel returns (text,
buttons, custom payloads with topic, sources and red-flag alerts); with `text`
they are `{"recipient_id": ..., "text": ...}` only, buttons as numbered options
and a reply that is just a number picks that option (`connectors/text_only.py`).
A failed delivery is retried (3 tries in all) and then logged as an error.
"""
import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text, Tuple

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.tracker_store import TrackerStore
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.text_only import TextOnlyOutput, pick_option

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Clinic-Signature"
REPLY_FORMATS = ("json", "text")


def sign(secret: Text, body: bytes) -> Text:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: Text, body: bytes, signature: Optional[Text]) -> bool:
    # Compared as ASCII bytes: compare_digest refuses str with non-ASCII
    # characters, which a forged header may hold ("?" never matches hex).
    return signature is not None and hmac.compare_digest(
        sign(secret, body).encode(), signature.strip().lower().encode("ascii", "replace")
    )


def parse_message(body: bytes) -> Tuple[Text, Text, Optional[Text]]:
    """(sender, message, message_id) of an inbound body; ValueError says what is wrong."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError('the body must be a JSON object: {"sender": ..., "message": ...}')
    sender, text, message_id = data.get("sender"), data.get("message"), data.get("message_id")
    if not isinstance(sender, str) or not sender.strip():
        raise ValueError("'sender' is missing or not a non-empty string")
    if not isinstance(text, str):
        raise ValueError("'message' is missing or not a string")
    if message_id is not None and not isinstance(message_id, str):
        raise ValueError("'message_id' must be a string when given")
    return sender, text, message_id


class ClinicTextOutput(TextOnlyOutput, CollectingOutputChannel):
    """Collects plain-text messages (numbered options, split long texts)."""

    @classmethod
    def name(cls) -> Text:
        return "clinic"

    async def send_plain(self, recipient_id: Text, text: Text) -> None:
        await self._persist_message(self._message(recipient_id, text=text))


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
        return cls(str(credentials["secret"]), str(credentials["callback_url"]), reply_format)

    def __init__(self, secret: Text, callback_url: Text, reply_format: Text = "json") -> None:
        self.secret = secret
        self.callback_url = callback_url
        self.reply_format = reply_format
        # The loop keeps only weak references to tasks: hold them until done.
        self._tasks: Set[asyncio.Task] = set()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        clinic_webhook = Blueprint("clinic_webhook", __name__)

        @clinic_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @clinic_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not signature_ok(self.secret, request.body, request.headers.get(SIGNATURE_HEADER)):
                logger.warning("Clinic message refused: missing or wrong %s.", SIGNATURE_HEADER)
                return response.json({"error": f"missing or wrong {SIGNATURE_HEADER}"}, status=401)
            try:
                sender, text, message_id = parse_message(request.body)
            except ValueError as error:
                return response.json({"error": str(error)}, status=400)
            # Answer the clinic at once; the reply goes to the callback URL.
            task = asyncio.create_task(
                self._answer(request.app.ctx.agent.tracker_store, on_new_message, sender, text, message_id)
            )
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
        collector = ClinicTextOutput() if self.reply_format == "text" else CollectingOutputChannel()
        try:
            if self.reply_format == "text":
                text = await pick_option(tracker_store, sender, text)
            message = UserMessage(text, collector, sender, input_channel=self.name(), message_id=message_id)
            await on_new_message(message)
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
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        tries = len(self.retry_delays) + 1
        for attempt in range(1, tries + 1):
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
