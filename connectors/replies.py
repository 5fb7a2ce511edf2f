"""What every patient-facing channel does around an answer: the polite
"please try again" when answering fails, the clinic's wording for a refused
or too-fast message, in the language the message is written in
(`content/<language>/clinic.yml`), and a warning sign's advice while the
conversation waits for staff."""
import logging
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from content_model import Library, load_library

logger = logging.getLogger(__name__)

# Whether a custom action failed in the turn being answered. Rasa logs the failure
# and carries on without the action's events (MessageProcessor._run_action): a
# failed action_session_start, for one, leaves the first message of a session to
# Rasa's "did not understand". Each turn runs in a task of its own, with its own value.
ACTION_FAILED: ContextVar[bool] = ContextVar("action_failed", default=False)


class ActionFailures(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.getMessage().startswith("Encountered an exception while running action"):
            ACTION_FAILED.set(True)


logging.getLogger("rasa.core.processor").addHandler(ActionFailures())


@lru_cache(maxsize=1)
def library() -> Library:
    return load_library()


def wording(key: Text, text: Text) -> Text:
    """The clinic's text `key` (try_again, slow_down, message_refused) in the language of `text`."""
    content = library()
    return content.content(content.languages.detect(text or "")).clinic[key]


# The NLU's verdict on a message with a warning sign (components/red_flag_detector.py,
# the content model's detection in every language).
RED_FLAG_INTENT = "report_red_flag"


async def paused(sender_id: Text) -> bool:
    tracker = await Sanic.get_app().ctx.agent.tracker_store.retrieve(sender_id)
    return tracker is not None and tracker.is_paused()


def unanswered(tracker: DialogueStateTracker, message_id: Optional[Text]) -> bool:
    """Whether the conversation's last user message is `message_id`, with no action after it."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return event.message_id == message_id
        if isinstance(event, (ActionExecuted, BotUttered)):
            return False
    return False


async def answer(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
    """Answers `message`. A conversation waiting for staff is paused, so Rasa runs
    no action on it; a warning sign (found by the content model, and the NLU's
    verdict) still gets its advice at once: the warning of action_triage_red_flags
    (only the warning, while paused), sent on the patient's channel and stored in
    the conversation, where staff see it."""
    await on_new_message(message)
    sent = getattr(message.output_channel, "messages", None)  # (Twilio's client has a `messages` of its own)
    if (isinstance(sent, list) and sent) or not library().assess_red_flags(message.text or "")[0]:
        return  # answered (so not paused), or no sign: the conversation need not be read
    agent = Sanic.get_app().ctx.agent
    async with agent.lock_store.lock(message.sender_id):
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        if (tracker is not None and tracker.is_paused() and unanswered(tracker, message.message_id)
                and tracker.latest_message.intent.get("name") == RED_FLAG_INTENT):
            await agent.execute_action(message.sender_id, "action_triage_red_flags", message.output_channel, None, None)


async def answer_or_apologise(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
    """Answers `message`; if that fails, an action of it fails, or it gives no
    reply, sends the apology instead of what the channel has not sent yet (REST,
    the widget). The only silence left is on purpose: a conversation paused for staff."""
    ACTION_FAILED.set(False)
    output = message.output_channel
    try:
        await answer(on_new_message, message)
        answered = bool(getattr(output, "messages", True))
        if not ACTION_FAILED.get() and (answered or await paused(message.sender_id)):
            return
    except Exception:
        logger.exception("Could not answer conversation %s", message.sender_id)
    for unsent in (getattr(output, "messages", None), getattr(output, "held", None)):
        if isinstance(unsent, list):
            unsent.clear()
    await output.send_text_message(message.sender_id, wording("try_again", message.text))
