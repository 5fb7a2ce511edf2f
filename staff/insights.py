"""How the assistant does, counted in the tracker store's database (Rasa's `events` table).

    from staff import insights, store
    engine = store.engine()
    insights.ensure_indexes(engine)                      # once, at start (idempotent)
    found = insights.build(engine, since=date(2026, 11, 1), until=date(2026, 12, 1), timezone="Europe/London")

`build` returns an `Insights`: plain numbers and lists, no wording (staff/report.py
turns them into tables, plots, CSV and HTML). Days are the clinic's local days in
`timezone`; `since` is the first day counted and `until` the first day NOT counted
(either may be None: from the first / up to the last stored message).

The counting happens in the database (GROUP BY over the columns Rasa fills:
`type_name`, `intent_name`, `action_name`, `timestamp`, `sender_id`); JSON in
`events.data` is read only for slot values (language, feedback, warning signs),
the text of messages that were not understood and staff replies in handed-off
conversations. SQLite and PostgreSQL are supported.

What is counted (the conventions of staff/__init__.py):
- a question is a patient message (`user` event); a conversation is a sender id;
- a message not understood has the intent `nlu_fallback` (answered by
  `action_suggest_topics`);
- a message's language is the `language` slot the message set, or, for a message
  too short to tell ("ok", a button), the conversation's language before it (at
  its start: the first language the conversation shows);
- feedback is the `feedback` slot ({"topic", "helpful"}); warning signs the
  `warned` slot (a list of sign ids; an empty list: the classifier was sure of a
  sign without naming it);
- a hand-off is a `pause` event (after `action_hand_off`); its wait ends at the
  first staff reply (a `bot` event whose metadata holds {"staff": name}); a
  hand-off with neither a staff reply nor a `resume` after it is still waiting.
  Staff replies are looked for in conversations that were handed off (staff
  answer no others), which spares reading every reply of the assistant.
"""
import datetime as dt
import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from staff.store import events

FALLBACK_INTENT = "nlu_fallback"
HAND_OFF_ACTION = "action_hand_off"
STAFF_MARK = '"staff"'  # in a staff reply's JSON; a cheap filter before reading the JSON
_DAY = 86400
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class ReportIndex:
    """An index the report adds to Rasa's table (it has one, on sender_id)."""

    columns: Tuple[str, ...]
    where: str = ""  # a partial index: only the rows the report reads
    with_data: bool = False  # holds the JSON too, so that the table is not read at all


def _slot_index(slot: str) -> ReportIndex:
    # The JSON of these slots is short (a language code, a topic and yes/no, a few sign ids,
    # about 250 bytes), far below what PostgreSQL takes in an index entry (about 2.7 KB).
    return ReportIndex(("type_name", "action_name", "sender_id", "timestamp"),
                       f"type_name = 'slot' AND action_name = '{slot}'", with_data=True)


# Rows carry up to 2 KB of JSON, so a query that reads the table reads most of it;
# these let the report read small indexes instead (bench/report_scale.md).
INDEXES: Dict[str, ReportIndex] = {
    # Patient messages, hand-off actions, pauses and resumes in a period: per day, per
    # conversation, per intent, from the index alone.
    "ix_events_type_time": ReportIndex(("type_name", "timestamp", "sender_id", "intent_name", "action_name", "id")),
    # The slots the report reads, each among millions of events.
    "ix_events_language_slots": _slot_index("language"),
    "ix_events_feedback_slots": _slot_index("feedback"),
    "ix_events_warned_slots": _slot_index("warned"),
}


@dataclass(frozen=True)
class Day:
    day: dt.date
    conversations: int  # conversations in which the patient wrote that day
    questions: int
    not_understood: int


@dataclass(frozen=True)
class NotUnderstood:
    text: str  # as stored (the store masks personal details)
    language: str
    count: int


@dataclass(frozen=True)
class Feedback:
    helpful: int = 0
    not_helpful: int = 0


@dataclass(frozen=True)
class Sign:
    warnings: int  # times the assistant warned about it
    conversations: int


@dataclass(frozen=True)
class Staff:
    replies: int
    conversations: int
    first_replies: int  # hand-offs this person answered first
    median_first_reply: Optional[float]  # seconds from the hand-off to their first reply


@dataclass(frozen=True)
class HandOffs:
    asked: int  # action_hand_off runs (the patient asked for a person)
    handed_off: int  # pauses: the assistant went quiet for staff
    answered: int  # hand-offs with a staff reply
    handed_back_unanswered: int  # resumed with no staff reply
    still_waiting: int
    waits: List[float]  # seconds from each answered hand-off to its first staff reply, shortest first
    longest_still_waiting: Optional[float]  # seconds, as of the end of the period (or now)

    @property
    def median_wait(self) -> Optional[float]:
        return statistics.median(self.waits) if self.waits else None

    @property
    def p90_wait(self) -> Optional[float]:
        return percentile(self.waits, 0.9)


@dataclass(frozen=True)
class Insights:
    since: Optional[dt.date]
    until: Optional[dt.date]  # first day not counted
    timezone: str
    conversations: int
    questions: int
    days: List[Day]
    questions_by_intent: Dict[Tuple[Optional[str], str], int]  # (intent, language) -> messages
    not_understood: List[NotUnderstood]  # grouped by exact text, most frequent first
    feedback: Dict[Optional[str], Feedback]  # topic -> counts
    signs: Dict[str, Sign]  # sign id ("" for a sign not named) -> counts
    hand_offs: HandOffs
    staff: Dict[str, Staff] = field(default_factory=dict)

    @property
    def not_understood_total(self) -> int:
        return sum(day.not_understood for day in self.days)

    @property
    def fallback_rate(self) -> Optional[float]:
        return self.not_understood_total / self.questions if self.questions else None


def percentile(values: Sequence[float], share: float) -> Optional[float]:
    """Nearest rank: the smallest value that at least `share` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def ensure_indexes(engine: sa.engine.Engine) -> List[str]:
    """Creates the INDEXES that are missing; returns their names. Does nothing before
    Rasa has created its table. On PostgreSQL an index is built CONCURRENTLY: the
    Rasa server keeps writing conversations meanwhile. SQLite locks the database
    while it builds one (a few seconds for 100,000 conversations), and a Rasa server
    that waits longer than its 5 s busy timeout fails that message: add them at start,
    when the assistant is quiet."""
    if not sa.inspect(engine).has_table(events.name):
        return []
    existing = {index["name"] for index in sa.inspect(engine).get_indexes(events.name)}
    missing = [name for name in INDEXES if name not in existing]
    for name in missing:
        create_index(engine, name)
    return missing


def create_index(engine: sa.engine.Engine, name: str) -> None:
    index = INDEXES[name]
    columns = ", ".join(index.columns)
    if engine.dialect.name == "postgresql":
        # INCLUDE: the JSON is returned from the index, not searched by.
        sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {events.name} ({columns})"
        sql += " INCLUDE (data)" if index.with_data else ""
    else:
        sql = f"CREATE INDEX IF NOT EXISTS {name} ON {events.name} ({columns}{', data' if index.with_data else ''})"
    sql += f" WHERE {index.where}" if index.where else ""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(sql))


def build(engine: sa.engine.Engine, since: Optional[dt.date] = None, until: Optional[dt.date] = None,
          timezone: str = "UTC", now: Optional[float] = None) -> Insights:
    """Counts everything the report shows for [since, until) in the clinic's `timezone`."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise ValueError(f"the report reads SQLite or PostgreSQL tracker stores, not {engine.dialect.name}")
    zone = ZoneInfo(timezone)
    if not sa.inspect(engine).has_table(events.name):
        return _empty(since, until, timezone)
    with engine.connect() as connection:
        query = _Queries(connection, zone, since, until, now)
        return query.insights()


def _empty(since: Optional[dt.date], until: Optional[dt.date], timezone: str) -> Insights:
    return Insights(since, until, timezone, 0, 0, [], {}, [], {}, {}, HandOffs(0, 0, 0, 0, 0, [], None))


def _midnight(day: dt.date, zone: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time(), zone).timestamp()


class _Queries:
    """The queries of one report: one period, one database connection."""

    def __init__(self, connection: sa.engine.Connection, zone: ZoneInfo, since: Optional[dt.date],
                 until: Optional[dt.date], now: Optional[float]) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.zone = zone
        self.since, self.until = since, until
        self.start = _midnight(since, zone) if since else None
        self.end = _midnight(until, zone) if until else None
        self.now = min(now or dt.datetime.now().timestamp(), self.end or math.inf)

    def insights(self) -> Insights:
        days = self.days()
        conversations = self.connection.execute(
            sa.select(sa.func.count(sa.distinct(events.c.sender_id))).where(self.messages())).scalar_one()
        by_intent, not_understood = self.questions_and_not_understood()
        hand_offs, staff = self.hand_offs()
        return Insights(
            since=self.since, until=self.until, timezone=self.zone.key, conversations=conversations,
            questions=sum(day.questions for day in days), days=days, questions_by_intent=by_intent,
            not_understood=not_understood, feedback=self.feedback(), signs=self.signs(),
            hand_offs=hand_offs, staff=staff,
        )

    # -- building blocks ------------------------------------------------------------

    def in_period(self, column: Any = events.c.timestamp) -> Any:
        conditions = [sa.true()]
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return sa.and_(*conditions)

    def messages(self) -> Any:
        return sa.and_(events.c.type_name == "user", self.in_period())

    def json_text(self, column: Any, *path: str) -> Any:
        """A value inside the JSON text of `column`, as text (SQLite: a number for true/false)."""
        if self.postgres:
            return sa.func.json_extract_path_text(sa.cast(column, sa.JSON), *path)
        return sa.func.json_extract(column, "$." + ".".join(path))

    def floor(self, value: Any) -> Any:
        # SQLite's CAST truncates (timestamps are positive); PostgreSQL's would round.
        return sa.func.floor(value) if self.postgres else sa.cast(value, sa.Integer)

    def day_number(self) -> Any:
        """The local day of an event, as days since 1970-01-01: the zone's UTC offset
        (a CASE over the offset changes, such as summer time, in the period) added first."""
        low, high = self.connection.execute(
            sa.select(sa.func.min(events.c.timestamp), sa.func.max(events.c.timestamp)).where(self.messages())).one()
        changes = _offset_changes(self.zone, low or 0.0, high or 0.0)
        offset: Any = sa.literal(changes[0][1])
        if len(changes) > 1:
            offset = sa.case(*[(events.c.timestamp < start, previous)
                               for (_, previous), (start, _) in zip(changes, changes[1:])], else_=changes[-1][1])
        return self.floor((events.c.timestamp + offset) / _DAY)

    # -- the figures ----------------------------------------------------------------

    def days(self) -> List[Day]:
        # Grouped in an outer query: PostgreSQL does not match an expression with bound
        # parameters in GROUP BY to the same expression in the SELECT list.
        messages = sa.select(self.day_number().label("day"), events.c.sender_id, events.c.intent_name) \
            .where(self.messages()).subquery()
        rows = self.connection.execute(
            sa.select(messages.c.day, sa.func.count(sa.distinct(messages.c.sender_id)), sa.func.count(),
                      sa.func.sum(sa.case((messages.c.intent_name == FALLBACK_INTENT, 1), else_=0)))
            .group_by(messages.c.day)).all()
        counted = {_EPOCH + dt.timedelta(days=int(number)): row for number, *row in rows}
        if not counted:
            return []
        first = self.since or min(counted)
        last = self.until - dt.timedelta(days=1) if self.until else max(counted)
        every_day = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
        return [Day(day, *map(int, counted.get(day, (0, 0, 0)))) for day in every_day]

    def questions_and_not_understood(self) -> Tuple[Dict[Tuple[Optional[str], str], int], List[NotUnderstood]]:
        """Messages per (intent, language), and the texts of those not understood, in one query.

        A message's language is the `language` slot its turn set (Rasa sets slots from
        the message's entities right after it), else the conversation's language before
        it, else the first one the conversation shows. Nearly every conversation keeps
        one language: all its messages are in it, found with one join. Only the
        conversations in several languages go message by message (window functions)."""
        slots = sa.and_(events.c.type_name == "slot", events.c.action_name == "language")
        if self.start is not None or self.end is not None:
            # The conversations that wrote in the period, with their earlier languages.
            slots = sa.and_(slots, events.c.sender_id.in_(
                sa.select(events.c.sender_id).where(self.messages()).correlate(None)))
        # The JSON is read before grouping, so that only (sender, language) pairs are sorted.
        values = sa.select(events.c.sender_id, self.json_text(events.c.data, "value").label("language")) \
            .where(slots).subquery("slot_values")
        conversations = sa.select(values.c.sender_id, sa.func.min(values.c.language).label("language"),
                                  sa.func.count(sa.distinct(values.c.language)).label("languages")) \
            .group_by(values.c.sender_id).cte("conversation_languages")
        one_language = sa.select(events.c.id, events.c.intent_name, conversations.c.language) \
            .select_from(events.outerjoin(conversations, conversations.c.sender_id == events.c.sender_id)) \
            .where(self.messages(), sa.or_(conversations.c.languages.is_(None), conversations.c.languages == 1))
        mixed = sa.select(conversations.c.sender_id).where(conversations.c.languages > 1)
        questions = sa.union_all(one_language, self.message_languages(mixed)).cte("questions")
        counts = sa.select(questions.c.intent_name, questions.c.language, sa.null().label("text"), sa.func.count()) \
            .group_by(questions.c.intent_name, questions.c.language)
        unclear = sa.select(questions.c.language, self.json_text(events.c.data, "text").label("text")) \
            .join_from(questions, events, events.c.id == questions.c.id) \
            .where(questions.c.intent_name == FALLBACK_INTENT).subquery()
        texts = sa.select(sa.null(), unclear.c.language, unclear.c.text, sa.func.count()) \
            .group_by(unclear.c.language, unclear.c.text)
        by_intent: Dict[Tuple[Optional[str], str], int] = {}
        not_understood: List[NotUnderstood] = []
        for intent, language, message, count in self.connection.execute(sa.union_all(counts, texts)):
            if message is None:
                by_intent[(intent, language or "")] = by_intent.get((intent, language or ""), 0) + count
            else:
                not_understood.append(NotUnderstood(message, language or "", count))
        not_understood.sort(key=lambda item: (-item.count, item.text))
        return by_intent, not_understood

    def message_languages(self, senders: Any) -> Any:
        """(id, intent, language) of the messages in the period of `senders`, one by one.

        Window functions number the turns (patient messages) of each conversation, give
        each message the number of language slots set by the end of its turn, and take
        the language of that slot; a message before any gets the first slot's language."""
        sender = events.c.sender_id
        marked = sa.select(
            events.c.id, sender, events.c.type_name, events.c.intent_name, events.c.timestamp,
            sa.case((events.c.type_name == "slot", self.json_text(events.c.data, "value"))).label("language"),
            sa.func.sum(sa.case((events.c.type_name == "user", 1), else_=0))
            .over(partition_by=sender, order_by=events.c.id, rows=(None, 0)).label("turn"),
            sa.func.count(sa.case((events.c.type_name == "slot", 1)))
            .over(partition_by=sender, order_by=events.c.id, rows=(None, 0)).label("slot_number"),
        ).where(sender.in_(senders.correlate(None)),
                # `|| ''` hides these columns from the planner: SQLite would otherwise read every
                # message through the report's indexes instead of these few conversations' events.
                sa.or_(events.c.type_name.concat("") == "user",
                       sa.and_(events.c.type_name.concat("") == "slot", events.c.action_name.concat("") == "language")),
                ).subquery("marked")
        numbered = sa.select(
            marked,
            # Slots set by the end of this message's turn (the RANGE frame counts the turn's peers).
            sa.case((marked.c.type_name == "user", sa.func.count(marked.c.language).over(
                partition_by=marked.c.sender_id, order_by=marked.c.turn)), else_=marked.c.slot_number).label("slot"),
        ).subquery("numbered")
        same_slot = [numbered.c.sender_id, numbered.c.slot]
        first_slot = sa.case((sa.and_(numbered.c.type_name == "slot", numbered.c.slot == 1), numbered.c.language))
        languages = sa.select(
            numbered.c.id, numbered.c.type_name, numbered.c.intent_name, numbered.c.timestamp,
            sa.func.coalesce(sa.func.max(numbered.c.language).over(partition_by=same_slot),
                             sa.func.max(first_slot).over(partition_by=numbered.c.sender_id)).label("language"),
        ).subquery("languages")
        return sa.select(languages.c.id, languages.c.intent_name, languages.c.language) \
            .where(languages.c.type_name == "user", self.in_period(languages.c.timestamp))

    def slot_values(self, slot: str) -> Any:
        return sa.and_(events.c.action_name == slot, events.c.type_name == "slot", self.in_period())

    def feedback(self) -> Dict[Optional[str], Feedback]:
        given = sa.select(self.json_text(events.c.data, "value", "topic").label("topic"),
                          self.json_text(events.c.data, "value", "helpful").label("helpful")) \
            .where(self.slot_values("feedback")).subquery()
        rows = self.connection.execute(
            sa.select(given.c.topic, given.c.helpful, sa.func.count()).group_by(given.c.topic, given.c.helpful)).all()
        found: Dict[Optional[str], Feedback] = {}
        for topic_id, was_helpful, count in rows:
            if was_helpful is None:
                continue  # the slot reset, no feedback given
            before = found.get(topic_id, Feedback())
            if str(was_helpful).lower() in ("1", "true"):
                found[topic_id] = Feedback(before.helpful + count, before.not_helpful)
            else:
                found[topic_id] = Feedback(before.helpful, before.not_helpful + count)
        return found

    def signs(self) -> Dict[str, Sign]:
        warned = sa.select(events.c.sender_id, self.json_text(events.c.data, "value").label("signs")) \
            .where(self.slot_values("warned")).subquery()
        rows = self.connection.execute(
            sa.select(warned.c.sender_id, warned.c.signs, sa.func.count())
            .group_by(warned.c.sender_id, warned.c.signs)).all()
        warnings: Dict[str, int] = {}
        conversations: Dict[str, set] = {}
        for sender_id, signs, count in rows:
            if signs is None:
                continue
            for sign in json.loads(signs) or [""]:
                warnings[sign] = warnings.get(sign, 0) + count
                conversations.setdefault(sign, set()).add(sender_id)
        return {sign: Sign(warnings[sign], len(conversations[sign])) for sign in warnings}

    def hand_offs(self) -> Tuple[HandOffs, Dict[str, Staff]]:
        asked = self.connection.execute(
            sa.select(sa.func.count()).where(events.c.action_name == HAND_OFF_ACTION, events.c.type_name == "action",
                                             self.in_period())).scalar_one()
        before_end = events.c.timestamp < self.end if self.end is not None else sa.true()
        # Pauses and resumes up to the end of the period: whether a hand-off was still waiting then.
        turns = self.connection.execute(
            sa.select(events.c.sender_id, events.c.id, events.c.timestamp, events.c.type_name)
            .where(events.c.type_name.in_(("pause", "resume")), before_end)).all()
        paused = sa.select(events.c.sender_id).where(events.c.type_name == "pause", before_end)
        staff_name = self.json_text(events.c.data, "metadata", "staff")
        # Replies in the period (none comes before its hand-off), to hand-offs from before its end.
        replies = self.connection.execute(
            sa.select(events.c.sender_id, events.c.id, events.c.timestamp, staff_name)
            .where(events.c.type_name == "bot", self.in_period(), events.c.sender_id.in_(paused.correlate(None)),
                   events.c.data.contains(STAFF_MARK), staff_name.isnot(None))).all()
        return _waits(turns, replies, self.start or -math.inf, self.now, asked)


def _waits(turns: Sequence[Any], replies: Sequence[Any], start: float, now: float,
           asked: int) -> Tuple[HandOffs, Dict[str, Staff]]:
    """Each hand-off in the period against the staff replies and resumes after it."""
    timeline: Dict[str, List[Tuple[int, float, str, Optional[str]]]] = {}
    for sender_id, event_id, timestamp, kind in turns:
        timeline.setdefault(sender_id, []).append((event_id, timestamp, kind, None))
    for sender_id, event_id, timestamp, name in replies:
        timeline.setdefault(sender_id, []).append((event_id, timestamp, "staff", name))
    handed_off = answered = unanswered = waiting = 0
    waits: List[float] = []
    still_waiting: List[float] = []
    first_waits: Dict[str, List[float]] = {}
    reply_counts: Dict[str, int] = {}
    reply_conversations: Dict[str, set] = {}
    for sender_id, steps in timeline.items():
        steps.sort()
        pending: Optional[float] = None  # when the current hand-off began, until its first reply
        for _, timestamp, kind, name in steps:
            if kind == "staff" and name and timestamp >= start:
                reply_counts[name] = reply_counts.get(name, 0) + 1
                reply_conversations.setdefault(name, set()).add(sender_id)
            if kind == "pause" and timestamp >= start and pending is None:
                handed_off += 1
                pending = timestamp
            elif kind == "staff" and pending is not None:
                answered += 1
                waits.append(timestamp - pending)
                first_waits.setdefault(name or "", []).append(timestamp - pending)
                pending = None
            elif kind == "resume" and pending is not None:
                unanswered += 1
                pending = None
        if pending is not None:
            waiting += 1
            still_waiting.append(now - pending)
    staff = {
        name: Staff(count, len(reply_conversations[name]), len(first_waits.get(name, [])),
                    statistics.median(first_waits[name]) if first_waits.get(name) else None)
        for name, count in reply_counts.items()
    }
    return HandOffs(asked, handed_off, answered, unanswered, waiting, sorted(waits),
                    max(still_waiting) if still_waiting else None), staff


def _offset_changes(zone: ZoneInfo, low: float, high: float) -> List[Tuple[float, int]]:
    """(from when, UTC offset in seconds) for the zone's offset at `low` and each change
    up to `high`, found in 15-minute steps (offsets change on a quarter hour)."""
    step = 900
    moment = math.floor(low / step) * step
    changes: List[Tuple[float, int]] = []
    while True:
        offset = int(dt.datetime.fromtimestamp(moment, zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        if not changes or changes[-1][1] != offset:
            changes.append((float(moment), offset))
        if moment > high:
            return changes
        moment += step
