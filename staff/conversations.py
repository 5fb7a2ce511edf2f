"""Conversations as the console shows them, read from the tracker store's
`events` table (never written here: changes go through Rasa's HTTP API).

A conversation waits for a person while its latest `pause` is newer than its
latest `resume` (staff/__init__.py). Texts are as stored: what the patient typed
was masked before it was stored, and the pages mask every text they show once
more (the `masked` filter of staff/app.py), only what they show, as masking
every message of every waiting conversation would triple the queue's time.
"""
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple

import sqlalchemy as sa

from staff import store

RECENT_SECONDS = 24 * 3600  # how long a handed-back conversation stays in the "handed back" list
EVENT_TYPES = ("user", "bot", "slot", "pause", "resume")


@dataclass
class Item:
    """One line of a conversation's history."""

    event_id: int
    kind: Text  # "patient", "assistant", "staff", "note"
    at: float
    text: Text
    buttons: List[Text] = field(default_factory=list)
    alert: bool = False  # a red-flag warning
    staff: Optional[Text] = None  # who sent a staff reply
    channel: Optional[Text] = None  # a patient message's channel


@dataclass
class Conversation:
    id: Text
    items: List[Item] = field(default_factory=list)
    language: Optional[Text] = None
    signs: List[Text] = field(default_factory=list)  # warning signs named: the warned slot and red-flag alerts
    alerted: bool = False  # warned of a red flag, named or not (a sign the classifier was sure of without naming it)
    check_answers: Dict[Text, Any] = field(default_factory=dict)
    feedback: List[Dict[Text, Any]] = field(default_factory=list)  # each {"topic", "helpful", "at"}
    topic: Optional[Text] = None
    channel: Optional[Text] = None  # the channel of the patient's latest message
    paused_at: Optional[float] = None
    resumed_at: Optional[float] = None
    last_event_id: int = 0

    @property
    def waiting(self) -> bool:
        return self.paused_at is not None and (self.resumed_at is None or self.paused_at > self.resumed_at)

    @property
    def red_flag(self) -> bool:
        return self.alerted or bool(self.signs)

    @property
    def last_patient(self) -> Optional[Item]:
        return next((item for item in reversed(self.items) if item.kind == "patient"), None)

    @property
    def needs_reply(self) -> bool:
        """The patient wrote after the hand-off and after the latest staff reply."""
        patient = self.last_patient
        staff = next((item for item in reversed(self.items) if item.kind == "staff"), None)
        return bool(patient and self.paused_at and patient.at >= self.paused_at and (not staff or patient.at > staff.at))

    @property
    def staff(self) -> List[Text]:
        return sorted({item.staff for item in self.items if item.staff})


def _add_signs(conversation: Conversation, signs: Any) -> None:
    if isinstance(signs, (list, tuple)):
        conversation.signs.extend(str(sign) for sign in signs if str(sign) not in conversation.signs)


def _slot(conversation: Conversation, name: Text, value: Any, at: float) -> None:
    if name == "language" and isinstance(value, str):
        conversation.language = value
    elif name == "warned":
        _add_signs(conversation, value)
    elif name == "topic" and value:
        conversation.topic = str(value)
    elif name == "check_answers" and isinstance(value, dict):
        conversation.check_answers = {str(key): str(answer) for key, answer in value.items() if answer is not None}
    elif name == "feedback" and isinstance(value, dict) and "helpful" in value:
        conversation.feedback.append({"topic": value.get("topic"), "helpful": bool(value.get("helpful")), "at": at})


def build(conversation_id: Text, rows: Iterable[Tuple[int, Text, Optional[float], Optional[Text]]]) -> Conversation:
    """A conversation from its event rows (id, type_name, timestamp, data), oldest first."""
    conversation = Conversation(conversation_id)
    choices: Dict[Text, Text] = {}  # a button's payload -> its title, as offered so far
    for event_id, type_name, at, data in rows:
        conversation.last_event_id = max(conversation.last_event_id, event_id)
        at = at or 0.0
        try:
            event = json.loads(data or "{}")
        except ValueError:
            continue  # not an event Rasa wrote; nothing to show
        if not isinstance(event, dict):
            continue
        if type_name == "user":
            text = event.get("text") or ""
            if text.startswith("/"):  # a button's payload, or one the chat window sent by itself
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or text
                text = f"Chose: {choices[text]}" if text in choices else f"(sent by the chat window: {intent})"
            conversation.channel = event.get("input_channel") or conversation.channel
            conversation.items.append(Item(event_id, "patient", at, text, channel=conversation.channel))
        elif type_name == "bot":
            payload = event.get("data") or {}
            custom = payload.get("custom") if isinstance(payload.get("custom"), dict) else {}
            staff = (event.get("metadata") or {}).get("staff")
            alert = custom.get("alert") == "red_flag"
            if alert:
                conversation.alerted = True
                _add_signs(conversation, custom.get("signs"))
            if event.get("text") or staff:
                offered = [button for button in payload.get("buttons") or [] if isinstance(button, dict)]
                choices.update((str(button.get("payload")), str(button.get("title"))) for button in offered)
                buttons = [str(button.get("title")) for button in offered]
                conversation.items.append(Item(event_id, "staff" if staff else "assistant", at,
                                               event.get("text") or "", buttons, alert, staff and str(staff)))
        elif type_name == "slot":
            _slot(conversation, event.get("name"), event.get("value"), at)
        elif type_name == "pause":
            # A new session of a waiting conversation pauses it again (actions/actions.py):
            # it has waited since the first pause.
            if not conversation.waiting:
                conversation.paused_at = at
                conversation.items.append(Item(event_id, "note", at, "The patient asked for a person."))
        elif type_name == "resume":
            conversation.resumed_at = at
            conversation.items.append(Item(event_id, "note", at, "Handed back to the assistant."))
    return conversation


def _events_query(conversation_ids: Sequence[Text]) -> sa.sql.Select:
    return (sa.select(store.events.c.sender_id, store.events.c.id, store.events.c.type_name,
                      store.events.c.timestamp, store.events.c.data)
            .where(store.events.c.sender_id.in_(conversation_ids), store.events.c.type_name.in_(EVENT_TYPES))
            .order_by(store.events.c.id))


def _summary_query(conversation_ids: Sequence[Text]) -> sa.sql.Select:
    """Only the events a list shows (about a tenth): hand-offs and hand-backs, the
    language and warning-sign slots (Rasa stores a slot's name as `action_name`),
    staff replies and red-flag alerts, and each conversation's latest patient message."""
    column = store.events.c
    # Compared as expressions (`|| ''`), which no index covers, so that the database reads
    # these conversations' events through Rasa's index on the conversation. Otherwise
    # SQLite, without statistics (Rasa never runs ANALYZE), reads them through the
    # indexes on the event type, which hold every bot message of every conversation:
    # 3 s instead of 0.1 s for a queue of 667 in 3.4 million events (bench/staff_queue.py).
    kind, name = column.type_name + "", column.action_name + ""
    latest_patient = (sa.select(sa.func.max(column.id))
                      .where(column.sender_id.in_(conversation_ids), kind == "user")
                      .group_by(column.sender_id))
    return (sa.select(column.sender_id, column.id, column.type_name, column.timestamp, column.data)
            .where(column.sender_id.in_(conversation_ids), sa.or_(
                kind.in_(("pause", "resume")),
                sa.and_(kind == "slot", name.in_(("language", "warned"))),
                # A cheap filter on the JSON; build() reads what it really says.
                sa.and_(kind == "bot", sa.or_(column.data.contains('"staff"'), column.data.contains('"red_flag"'))),
                column.id.in_(latest_patient)))
            .order_by(column.id))


def load(db: sa.engine.Engine, conversation_id: Text) -> Optional[Conversation]:
    """The conversation, or None if nothing of it is stored."""
    with db.connect() as connection:
        rows = connection.execute(_events_query([conversation_id])).all()
    return build(conversation_id, (row[1:] for row in rows)) if rows else None


def _summaries(db: sa.engine.Engine, conversation_ids: List[Text]) -> List[Conversation]:
    """The conversations as the lists show them: their history holds only the latest
    patient message, staff replies and warnings."""
    if not conversation_ids:
        return []
    by_id: Dict[Text, List[Any]] = {conversation_id: [] for conversation_id in conversation_ids}
    with db.connect() as connection:
        for row in connection.execute(_summary_query(conversation_ids)):
            by_id[row[0]].append(row[1:])
    return [build(conversation_id, rows) for conversation_id, rows in by_id.items()]


def _hand_offs(condition: Any) -> sa.sql.Select:
    """Ids of the conversations with a pause whose latest pause and resume meet
    `condition(paused, resumed)`, leaving out those closed after their latest pause."""
    paused = sa.func.max(sa.case((store.events.c.type_name == "pause", store.events.c.timestamp)))
    resumed = sa.func.max(sa.case((store.events.c.type_name == "resume", store.events.c.timestamp)))
    latest = (sa.select(store.events.c.sender_id, paused.label("paused"), resumed.label("resumed"))
              .where(store.events.c.type_name.in_(("pause", "resume")))
              .group_by(store.events.c.sender_id)
              .having(paused.isnot(None))
              .subquery())
    return (sa.select(latest.c.sender_id)
            .outerjoin(store.closed, store.closed.c.conversation_id == latest.c.sender_id)
            .where(sa.or_(store.closed.c.closed_at.is_(None), store.closed.c.closed_at < latest.c.paused),
                   condition(latest.c.paused, latest.c.resumed)))


def _ids(db: sa.engine.Engine, query: sa.sql.Select) -> List[Text]:
    with db.connect() as connection:
        return list(connection.execute(query).scalars())


def queue(db: sa.engine.Engine) -> List[Conversation]:
    """Conversations waiting for a person: red flags first, then the longest waiting first."""
    ids = _ids(db, _hand_offs(lambda paused, resumed: sa.or_(resumed.is_(None), paused > resumed)))
    conversations = [conversation for conversation in _summaries(db, ids) if conversation.waiting]
    return sorted(conversations, key=lambda conversation: (not conversation.red_flag, conversation.paused_at))


def handed_back(db: sa.engine.Engine, now: Optional[float] = None) -> List[Conversation]:
    """Conversations handed back to the assistant in the last day and not closed, latest first."""
    since = (now or time.time()) - RECENT_SECONDS
    ids = _ids(db, _hand_offs(lambda paused, resumed: sa.and_(resumed > paused, resumed >= since)))
    return sorted(_summaries(db, ids), key=lambda conversation: -(conversation.resumed_at or 0))
