"""Rasa's REST channel with the checks a public endpoint needs.

Broken requests get a clear 400/413 instead of a server error; control
characters are dropped and very long messages cut; if the assistant fails
while answering (e.g. the action server is down), the patient gets a polite
"please try again" instead of silence (`connectors/replies.py`). Each client
address and each conversation is rate limited (`connectors/limits.py`): over
the limit, a 429 and nothing is stored.

REST cannot push: what the clinic team sent since the patient's previous
message (their replies through Rasa's HTTP API, and the assistant's "I'm back"
when they hand back) comes first in the response to the patient's next one.
"""
import json
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.events import BotUttered, ConversationResumed, Event, UserUttered
from sanic import Blueprint, Sanic
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


def from_staff(event: Event) -> bool:
    """A staff reply: a bot message whose metadata names the staff member (staff/)."""
    return isinstance(event, BotUttered) and bool((event.metadata or {}).get("staff"))


def staff_turn(events: Sequence[Event], message_id: Optional[Text]) -> List[BotUttered]:
    """The bot messages stored between the patient's previous message and
    `message_id`, from the first staff reply or hand back on (those before it
    answered the previous message)."""
    users = [index for index, event in enumerate(events) if isinstance(event, UserUttered)]
    current = next((index for index in reversed(users) if events[index].message_id == message_id), None)
    if current is None:
        return []
    between = events[max((index for index in users if index < current), default=-1) + 1:current]
    start = next((index for index, event in enumerate(between)
                  if isinstance(event, ConversationResumed) or from_staff(event)), len(between))
    return [event for event in between[start:] if isinstance(event, BotUttered)]


def sql_store(store: TrackerStore) -> Optional[SQLTrackerStore]:
    """The SQL tracker store inside the wrappers Rasa puts around it (FailSafeTrackerStore, ...)."""
    while store is not None and not isinstance(store, SQLTrackerStore):
        store = getattr(store, "_tracker_store", None)
    return store


# The events staff_turn looks at.
TURN_EVENTS = (UserUttered.type_name, BotUttered.type_name, ConversationResumed.type_name)


def recent_events(store: SQLTrackerStore, sender_id: Text) -> List[Event]:
    """The messages and hand backs from the patient's previous message on, in one
    query on the events table: reading the whole tracker costs about as much as
    answering the message (tests/load/rest_staff_query_cost.py)."""
    table = store.SQLEvent
    last_two = (sa.select(table.id).where(table.sender_id == sender_id, table.type_name == UserUttered.type_name)
                .order_by(table.id.desc()).limit(2).subquery())
    with store.session_scope() as session:
        rows = (session.query(table.data)
                .filter(table.sender_id == sender_id, table.type_name.in_(TURN_EVENTS),
                        table.id >= sa.select(sa.func.min(last_two.c.id)).scalar_subquery())
                .order_by(table.id).all())
    return [event for event in (Event.from_parameters(json.loads(row.data)) for row in rows) if event]


async def staff_messages(store: TrackerStore, sender_id: Text, message_id: Optional[Text]) -> List[Dict[Text, Any]]:
    """staff_turn as REST messages (the CollectingOutputChannel's shape)."""
    sql = sql_store(store)
    if sql is not None:
        events = recent_events(sql, sender_id)
    else:
        tracker = await store.retrieve_full_tracker(sender_id)
        events = list(tracker.events) if tracker else []
    collector = CollectingOutputChannel()
    for event in staff_turn(events, message_id):
        await collector.send_response(sender_id, event.message())
    return collector.messages


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
        async def handle(message: UserMessage) -> None:
            await answer_or_apologise(on_new_message, message)
            # Read after the turn: a staff reply stored while it ran comes with the next one.
            store = Sanic.get_app().ctx.agent.tracker_store
            message.output_channel.messages[:0] = await staff_messages(store, message.sender_id, message.message_id)

        rest = super().blueprint(handle)

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
