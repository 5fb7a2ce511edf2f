"""Rasa's REST channel with the checks a public endpoint needs.

Broken requests get a clear 400/413 instead of a server error; control
characters are dropped and very long messages cut; if the assistant fails
while answering (e.g. the action server is down), the patient gets a polite
"please try again" instead of silence. The only silence left is on purpose:
a conversation paused for a hand-off to staff.
"""
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Sanic
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request

from content_model import load_library

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Longer messages are cut: nobody types more, and the NLU's cost grows with length.
MAX_MESSAGE_CHARS = 2000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CheckedRestInput(RestInput):
    def __init__(self) -> None:
        self.library = load_library()

    def try_again(self, message: UserMessage) -> Text:
        """The apology, in the language the message is written in."""
        language = self.library.languages.detect(message.text or "")
        return self.library.content(language).clinic["try_again"]

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
        if not isinstance(sender, str) or not sender.strip() or len(sender) > 200:
            raise InvalidUsage('"sender" must be a non-empty text of at most 200 characters (the conversation id).')
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
        async def answer_or_apologise(message: UserMessage) -> None:
            try:
                await on_new_message(message)
                # Rasa logs a failed custom action and carries on without a reply.
                answered = bool(getattr(message.output_channel, "messages", True))
                if answered or await self._paused(message.sender_id):
                    return
            except Exception:
                logger.exception("Could not answer conversation %s", message.sender_id)
            await message.output_channel.send_text_message(message.sender_id, self.try_again(message))

        return super().blueprint(answer_or_apologise)

    @staticmethod
    async def _paused(sender_id: Text) -> bool:
        tracker = await Sanic.get_app().ctx.agent.tracker_store.retrieve(sender_id)
        return tracker is not None and tracker.is_paused()
