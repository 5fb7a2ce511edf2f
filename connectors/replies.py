"""What every patient-facing channel does around an answer: the polite
"please try again" when answering fails, and the clinic's wording for a
refused or too-fast message, in the language the message is written in
(`content/<language>/clinic.yml`)."""
import logging
from functools import lru_cache
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from content_model import Library, load_library

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def library() -> Library:
    return load_library()


def wording(key: Text, text: Text) -> Text:
    """The clinic's text `key` (try_again, slow_down, message_refused) in the language of `text`."""
    content = library()
    return content.content(content.languages.detect(text or "")).clinic[key]


async def paused(sender_id: Text) -> bool:
    tracker = await Sanic.get_app().ctx.agent.tracker_store.retrieve(sender_id)
    return tracker is not None and tracker.is_paused()


async def answer_or_apologise(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
    """Answers `message`; if that fails or gives no reply (Rasa logs a failed
    custom action and carries on silently), sends the apology instead. The
    only silence left is on purpose: a conversation paused for staff."""
    try:
        await on_new_message(message)
        answered = bool(getattr(message.output_channel, "messages", True))
        if answered or await paused(message.sender_id):
            return
    except Exception:
        logger.exception("Could not answer conversation %s", message.sender_id)
    await message.output_channel.send_text_message(message.sender_id, wording("try_again", message.text))
