"""Rasa's REST channel with the checks a public endpoint needs.

Broken requests get a clear 400/413 instead of a server error; control
characters are dropped and very long messages cut; if the assistant fails
while answering (e.g. the action server is down), the patient gets a polite
"please try again" instead of silence (`connectors/replies.py`). Each client
address and each conversation is rate limited (`connectors/limits.py`): over
the limit, a 429 and nothing is stored.
"""
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage, PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.limits import limiter, refuse_address, refuse_conversation
from connectors.replies import answer_or_apologise, library

MAX_BODY_BYTES = 64 * 1024
# Longer messages are cut: nobody types more, and the NLU's cost grows with length.
MAX_MESSAGE_CHARS = 2000
# Lone surrogates too: JSON can carry them ("\\ud800"), UTF-8 cannot, and the
# logs and the database would fail on them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def conversation_id_ok(conversation_id: Any) -> bool:
    """A conversation id a channel accepts: text, not blank, at most 200
    characters, no control characters (PostgreSQL refuses NUL in a value)."""
    return (isinstance(conversation_id, str) and bool(conversation_id.strip()) and len(conversation_id) <= 200
            and not CONTROL_CHARACTERS.search(conversation_id) and "\n" not in conversation_id)


class CheckedRestInput(RestInput):
    def __init__(self) -> None:
        # Read now: a broken limit setting or content stops the server at start, not a patient's message.
        limiter()
        library()

    @staticmethod
    def _body(request: Request) -> Dict[Text, Any]:
        if len(request.body or b"") > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.")
        try:
            body = request.json
        except Exception:
            raise InvalidUsage("The request body must be JSON in UTF-8.")
        if not isinstance(body, dict):
            raise InvalidUsage('The request body must be a JSON object: {"sender": "...", "message": "..."}.')
        return body

    async def _extract_sender(self, request: Request) -> Optional[Text]:
        sender = self._body(request).get("sender")
        if not conversation_id_ok(sender):
            raise InvalidUsage('"sender" must be a non-empty text of at most 200 characters without control '
                               'characters (the conversation id).')
        return sender

    def _extract_message(self, request: Request) -> Optional[Text]:
        message = self._body(request).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" must be a text.')
        return CONTROL_CHARACTERS.sub(" ", message)[:MAX_MESSAGE_CHARS]

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = self._body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = super().blueprint(lambda message: answer_or_apologise(on_new_message, message))

        @rest.middleware("request")
        async def rate_limit(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            refused = refuse_address(request)
            if refused:
                return refused
            try:
                sender = await self._extract_sender(request)
            except SanicException:
                return None  # the handler answers a broken body with its 400/413
            return refuse_conversation(sender)

        return rest
