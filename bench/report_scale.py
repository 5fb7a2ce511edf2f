"""`make bench-report`: how long the insights report takes on 100,000 conversations.

Seeds 100,000 conversations (fixed seed) into a throwaway SQLite file and a
throwaway PostgreSQL database (`report_bench` on 127.0.0.1, dropped afterwards):
questions in English and Chinese, messages not understood, feedback, warning signs,
hand-offs with staff replies and hand-backs, spread over 90 days. Every event is a
Rasa event object, stored as Rasa's SQLTrackerStore.save stores it (the same
columns and JSON), bulk-inserted into a table Rasa created. Then it times the
report's queries (staff/insights.build) without and with the report's indexes,
the plots and files, and `python -m staff.report` as a clinic runs it, and
writes bench/report_scale.md.

    .venv/bin/python bench/report_scale.py                          # 100,000 conversations, both databases
    .venv/bin/python bench/report_scale.py --conversations 2000 --out /tmp/scale.md
"""
import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, DefinePrevUserUtteredFeaturization, Event,
    SessionStarted, SlotSet, UserUttered,
)

from content_model import Content, load_library  # noqa: E402
from staff import insights, report  # noqa: E402

SEED = 14
DAYS = 90
LAST_DAY = dt.date(2026, 11, 30)  # fixed, so that every run seeds the same conversations
TIMEZONE = "Europe/London"
NOW = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp()
POSTGRES = {"host": "127.0.0.1", "port": 5432, "username": "postgres", "login_db": "test"}
BENCH_DB = "report_bench"
CHUNK = 2000  # conversations per bulk insert
COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
META = {"model_id": "0f5ba39c5a2f4d6f9d1f0b1e2c3d4e5f", "assistant_id": "liver-calcification-assistant"}
STAFF = ["nina", "omar", "li.wei", "sam", "grace", "zhang.min"]
Row = Tuple[str, str, float, Optional[str], Optional[str], str]

# Messages the assistant does not understand: templates filled with words and
# numbers, so that many differ only in numbers, capitals or spaces.
UNCLEAR = {
    "en": ["what about the {thing} on my {scan}", "is {n}mm big", "my {person} has {thing} too what now",
           "{thing} {thing} ??", "can i eat {food} with it", "the {scan} said {n} spots whats that",
           "hi again about my {person}", "is it the same as {thing}", "ok so {thing} then?", "{n} {thing}"],
    "zh": ["我{person}也有{thing}怎么办", "{n}毫米大不大", "{scan}上说有{n}个{thing}", "能吃{food}吗",
           "这个和{thing}一样吗", "{thing}{thing}？", "那{thing}呢", "{n}个{thing}"],
}
WORDS = {
    "en": {"thing": ["shadow", "cyst", "bright bit", "echo", "lump", "mark", "stone", "dot"],
           "scan": ["scan", "ultrasound", "ct", "report", "letter"], "person": ["mum", "dad", "wife", "son", "gran"],
           "food": ["eggs", "spicy food", "fish", "coffee", "red meat"]},
    "zh": {"thing": ["阴影", "囊肿", "亮点", "结节", "包块", "斑点"], "scan": ["B超", "CT", "报告单"],
           "person": ["妈妈", "爸爸", "老公", "儿子"], "food": ["鸡蛋", "辣的", "海鲜", "咖啡"]},
}
INTENTS_OTHER = ["greet", "thank", "goodbye", "affirm", "deny", "help", "just_diagnosed", "request_summary"]


# -- conversations as Rasa stores them ---------------------------------------------------


def rows(sender_id: str, events: Sequence[Event]) -> Iterator[Row]:
    """The table rows of `events`, as rasa.core.tracker_store.SQLTrackerStore.save writes them."""
    for event in events:
        data = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        yield sender_id, event.type_name, data.get("timestamp"), intent, data.get("name"), json.dumps(data)


class Responses:
    """Texts the assistant sends, in each language: the content and domain.yml's responses."""

    def __init__(self) -> None:
        self.library = load_library()
        self.domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]

    def content(self, language: str) -> Content:
        return self.library.content(language)

    def text(self, response: str, language: str) -> str:
        variations = self.domain[response]
        for variation in variations:
            if any(condition.get("value") == language for condition in variation.get("condition") or []):
                return variation["text"]
        return variations[0]["text"]


class Conversation:
    """One patient's conversation, built turn by turn as Rasa and the actions would store it."""

    def __init__(self, rng: random.Random, responses: Responses, sender_id: str, start: float, language: str) -> None:
        self.rng, self.responses, self.sender_id, self.language = rng, responses, sender_id, language
        self.clock = start
        self.events: List[Event] = []
        self.topic: Optional[str] = None
        self.disclaimer = False
        self.add(ActionExecuted("action_session_start", confidence=1.0), SessionStarted(),
                 ActionExecuted("action_listen"))

    def add(self, *events: Event) -> None:
        for event in events:
            self.clock += 0.002
            event.timestamp = self.clock
            event.metadata = dict(META, **(event.metadata or {}))
            self.events.append(event)

    def wait(self, seconds: float) -> None:
        self.clock += seconds

    def user(self, text: str, intent: str, confidence: float, ranked: Sequence[str]) -> None:
        detected = len(text) >= 4 and not text.startswith("/")
        entities = [{"entity": "language", "value": self.language, "start": 0, "end": len(text),
                     "extractor": "LanguageDetector"}] if detected else []
        message_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        ranking = [{"name": intent, "confidence": confidence}] + [
            {"name": name, "confidence": round(self.rng.random() * (1 - confidence) / 3, 6)} for name in ranked[:9]]
        parse_data = {"intent": {"name": intent, "confidence": confidence}, "entities": entities, "text": text,
                      "message_id": message_id, "metadata": {},
                      "text_tokens": [[start, start + 4] for start in range(0, len(text) - 3, 5)],
                      "intent_ranking": ranking, "questions": []}
        self.add(UserUttered(text, parse_data["intent"], entities, parse_data, input_channel="rest",
                             message_id=message_id))
        if detected:
            self.add(SlotSet("language", self.language))
        self.add(DefinePrevUserUtteredFeaturization(False))

    def act(self, action: str) -> None:
        self.add(ActionExecuted(action, policy="RulePolicy", confidence=1.0))

    def say(self, text: str, template: Optional[str] = None, buttons: Optional[List[Dict[str, str]]] = None,
            custom: Optional[Dict[str, Any]] = None) -> None:
        metadata = {"utter_action": template, "template": template} if template else {}
        self.add(BotUttered(text, {"elements": None, "quick_replies": None, "buttons": buttons, "attachment": None,
                                   "image": None, "custom": custom}, metadata))

    def end_turn(self) -> None:
        if not self.disclaimer:
            self.say(self.responses.text("utter_disclaimer", self.language), "utter_disclaimer")
            self.add(SlotSet("disclaimer_shown", True))
            self.disclaimer = True
        self.act("action_listen")

    def question(self, topic_ids: Sequence[str]) -> None:
        content = self.responses.content(self.language)
        topic = content.topics[self.rng.choice(topic_ids)]
        text = topic.question if self.rng.random() < 0.5 else topic.question.lower().rstrip("?？")
        self.user(text, topic.intents[0], round(0.6 + 0.4 * self.rng.random(), 6),
                  [other.intents[0] for other in content.topics.values() if other is not topic])
        self.act("action_answer_topic")
        self.say(topic.short_answer, "utter_answer", [{"title": "This helped", "payload": "/feedback_helpful"},
                                                      {"title": "This did not help", "payload": "/feedback_unhelpful"}])
        related = [content.topics[topic_id] for topic_id in topic.related]
        self.say(f"Source: {content.source_line(topic)}", "utter_source_line",
                 [{"title": other.question, "payload": f"/{other.intents[0]}"} for other in related],
                 {"topic": topic.id, "part": "short_answer", "sources": topic.sources})
        self.add(SlotSet("topic", topic.id))
        self.topic = topic.id
        self.end_turn()

    def feedback(self, helpful: bool) -> None:
        intent = "feedback_helpful" if helpful else "feedback_unhelpful"
        self.user(f"/{intent}", intent, 1.0, [])
        self.act("action_record_feedback")
        self.say(self.responses.text("utter_feedback_thanks" if helpful else "utter_feedback_sorry", self.language),
                 "utter_feedback_thanks" if helpful else "utter_feedback_sorry")
        self.add(SlotSet("feedback", {"topic": self.topic, "helpful": helpful}))
        self.act("action_listen")

    def not_understood(self) -> None:
        template = self.rng.choice(UNCLEAR[self.language][: 3 + int(self.rng.paretovariate(1.2))])
        words = WORDS[self.language]
        text = template.format(n=self.rng.choice([2, 3, 4, 5, 8, 10, 12]), food=self.rng.choice(words["food"]),
                               person=self.rng.choice(words["person"]), scan=self.rng.choice(words["scan"]),
                               thing=self.rng.choice(words["thing"][:2 + int(self.rng.paretovariate(1.5))]))
        if self.rng.random() < 0.2:
            text = text.capitalize() if self.rng.random() < 0.5 else text.replace(" ", "  ", 1)
        self.user(text, "nlu_fallback", 0.22, ["ask_what_is", "ask_dangerous", "out_of_scope"])
        self.act("action_suggest_topics")
        self.say(self.responses.text("utter_did_you_mean", self.language), "utter_did_you_mean",
                 [{"title": "Is it dangerous?", "payload": "/ask_dangerous"}])
        self.end_turn()

    def warning_sign(self) -> None:
        content = self.responses.content(self.language)
        named = self.rng.random() < 0.9
        signs = self.rng.sample(content.red_flags.signs, 1 if self.rng.random() < 0.8 else 2) if named else []
        text = " and ".join(sign.name for sign in signs) or ("I feel really bad" if self.language == "en" else "我很难受")
        self.user(text, "report_red_flag", 1.0, ["ask_symptoms", "ask_see_doctor"])
        self.act("action_triage_red_flags")
        self.say(content.red_flags.warning(signs), custom={"alert": "red_flag", "signs": [sign.id for sign in signs]})
        self.add(SlotSet("warned", [sign.id for sign in signs]))
        self.end_turn()

    def other(self) -> None:
        intent = self.rng.choice(INTENTS_OTHER)
        self.user("hello" if self.language == "en" else "你好", intent, 0.9, ["greet", "thank"])
        self.act("action_greet" if intent == "greet" else f"utter_{intent}")
        self.say(self.responses.text("utter_greet", self.language), "utter_greet")
        self.end_turn()

    def hand_off(self, now: float) -> None:
        """Asks for a person; staff answer (most), hand back (most of those), or not yet."""
        clinic = self.responses.content(self.language).clinic
        self.user("can I talk to a nurse" if self.language == "en" else "我想找护士", "request_human", 0.99, ["help"])
        self.act("action_hand_off")
        self.say(clinic["handoff_sent"], custom={"handoff": "requested"})
        self.add(ConversationPaused())
        paused_at = self.clock
        for _ in range(self.rng.choice([0, 0, 1, 2])):
            self.wait(self.rng.uniform(20, 120))
            self.user("hello?" if self.language == "en" else "在吗", "greet", 0.9, ["greet"])
        wait = self.rng.lognormvariate(6.0, 1.0)  # median about 7 minutes
        if paused_at + wait > now or self.rng.random() < 0.05:
            return  # nobody has answered yet
        self.clock = max(self.clock, paused_at + wait)
        staff = self.rng.choice(STAFF)
        for _ in range(self.rng.randint(1, 3)):
            self.add(BotUttered("Hello, this is the clinic. I have read your questions.", {}, {"staff": staff}))
            self.wait(self.rng.uniform(30, 300))
        if self.rng.random() < 0.8:
            self.add(ConversationResumed())
            self.act("action_hand_back")
            self.say(self.responses.text("utter_greet", self.language))
            self.act("action_listen")


def conversations(count: int, seed: int = SEED) -> Iterator[Tuple[str, List[Event]]]:
    """`count` conversations spread over the DAYS days up to LAST_DAY, in a fixed order."""
    rng = random.Random(seed)
    responses = Responses()
    first = NOW - DAYS * 86400
    topic_ids = list(responses.content("en").topics)
    popular = topic_ids[:6] * 4 + topic_ids  # some topics are asked far more than others
    for number in range(count):
        day = rng.randrange(DAYS)
        start = first + day * 86400 + rng.triangular(7, 23, 14) * 3600
        language = "en" if rng.random() < 0.7 else "zh"
        talk = Conversation(rng, responses, f"bench-{number:06d}", start, language)
        for turn in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])):
            talk.wait(rng.uniform(10, 90))
            kind = rng.random()
            if kind < 0.06:
                talk.not_understood()
            elif kind < 0.09:
                talk.warning_sign()
            elif kind < 0.13 and turn == 0:
                talk.other()
            else:
                talk.question(popular)
                if rng.random() < 0.3:
                    talk.wait(rng.uniform(5, 30))
                    talk.feedback(rng.random() < 0.7)
        if rng.random() < 0.03:
            talk.wait(rng.uniform(10, 60))
            talk.hand_off(NOW)
        yield talk.sender_id, talk.events


# -- databases ---------------------------------------------------------------------------


def sqlite_insert(engine: sa.engine.Engine, batch: List[Row]) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)", batch)


def postgres_insert(engine: sa.engine.Engine, batch: List[Row]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(batch)
    buffer.seek(0)
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buffer)
        connection.commit()
    finally:
        connection.close()


def seed(engine: sa.engine.Engine, count: int, insert: Callable[[sa.engine.Engine, List[Row]], None]) -> int:
    batch: List[Row] = []
    total = 0
    for number, (sender_id, events) in enumerate(conversations(count), start=1):
        batch.extend(rows(sender_id, events))
        if number % CHUNK == 0 or number == count:
            insert(engine, batch)
            total += len(batch)
            batch = []
            print(f"  {number:,} conversations, {total:,} events", end="\r", flush=True)
    print()
    return total


def drop_indexes(engine: sa.engine.Engine) -> None:
    with engine.begin() as connection:
        for name in insights.INDEXES:
            connection.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))


def size_mb(engine: sa.engine.Engine, path: Optional[Path]) -> Dict[str, float]:
    """The table's and each index's size on disk."""
    with engine.connect() as connection:
        if path is not None:
            page = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
            names = ["events"] + [index["name"] for index in sa.inspect(engine).get_indexes("events")]
            try:
                sizes = dict(connection.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").all())
                return {name: sizes.get(name, 0) / 1e6 for name in names}
            except sa.exc.OperationalError:  # SQLite built without dbstat: the file only
                return {"file": path.stat().st_size / 1e6, "page size": page}
        # The table with its TOAST part (long JSON), then each index.
        query = ("SELECT 'events', pg_table_size('events') UNION ALL SELECT c.relname, pg_relation_size(c.oid) "
                 "FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE i.indrelid = 'events'::regclass")
        return {name: size / 1e6 for name, size in connection.exec_driver_sql(query).all()}


def timed(action: Callable[[], Any]) -> Tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def time_report(engine: sa.engine.Engine, since: Optional[dt.date], until: Optional[dt.date],
                runs: int) -> Tuple[float, float, insights.Insights]:
    """The first run and the median of the others."""
    times = []
    found = None
    for _ in range(runs):
        seconds, found = timed(lambda: insights.build(engine, since, until, TIMEZONE, now=NOW))
        times.append(seconds)
    assert found is not None
    return times[0], statistics.median(times[1:] or times), found


def insert_cost(engine: sa.engine.Engine, insert: Callable[[sa.engine.Engine, List[Row]], None]) -> float:
    """Seconds to store 1,000 more conversations (as extra senders; removed afterwards)."""
    batch = [row for number, (sender_id, events) in enumerate(conversations(1000, seed=SEED + 1))
             for row in rows(f"extra-{sender_id}", events)]
    seconds, _ = timed(lambda: insert(engine, batch))
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id LIKE 'extra-%'"))
    return seconds


def run_cli(endpoints: Path, out: Path) -> float:
    seconds, result = timed(lambda: subprocess.run(
        [sys.executable, "-m", "staff.report", "--out", str(out), "--timezone", TIMEZONE], cwd=ROOT,
        env=dict(os.environ, STAFF_ENDPOINTS=str(endpoints)), capture_output=True, text=True))
    if result.returncode != 0:
        raise RuntimeError(f"python -m staff.report failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def vacuum(engine: sa.engine.Engine) -> None:
    """On PostgreSQL, what autovacuum does on a live store (statistics, the visibility map)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE events")


# Which of the report's indexes exist for each measurement, in an order that builds each index once.
TYPE_TIME = "ix_events_type_time"
SLOTS = tuple(name for name in insights.INDEXES if name != TYPE_TIME)
ALL = "all four"
SETS = [("none (Rasa's table as it is)", ()), (f"`{TYPE_TIME}` only", (TYPE_TIME,)), (ALL, tuple(insights.INDEXES)),
        ("the three slot indexes only", SLOTS)]


def measure(name: str, store: SQLTrackerStore, insert: Callable[[sa.engine.Engine, List[Row]], None],
            count: int, endpoints: Path, work: Path, path: Optional[Path] = None) -> Dict[str, Any]:
    engine = store.engine
    print(f"{name}: seeding {count:,} conversations")
    seconds, events = timed(lambda: seed(engine, count, insert))
    figures: Dict[str, Any] = {"events": events, "seed_s": seconds, "builds": {}, "created": {}}
    vacuum(engine)
    drop_indexes(engine)
    last_week = (LAST_DAY - dt.timedelta(days=6), LAST_DAY + dt.timedelta(days=1))
    results = []
    for label, wanted in SETS:
        with engine.begin() as connection:
            for index in set(insights.INDEXES) - set(wanted):
                connection.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
        for index in wanted:
            if index not in {entry["name"] for entry in sa.inspect(engine).get_indexes("events")}:
                print(f"{name}: adding {index}")
                figures["created"][index], _ = timed(lambda: insights.create_index(engine, index))
        vacuum(engine)
        print(f"{name}: the report with the report's indexes: {label}")
        whole = time_report(engine, None, None, runs=3)
        week = time_report(engine, *last_week, runs=3)
        figures["builds"][label] = (whole[:2], week[:2])
        results.append(whole[2])
        if not wanted:
            figures["insert_plain"] = insert_cost(engine, insert)
        if label == ALL:
            figures["insert_indexed"] = insert_cost(engine, insert)
            figures["sizes"] = size_mb(engine, path)
    assert all(found == results[0] for found in results), "the indexes changed the figures"
    found = results[0]
    insights.ensure_indexes(engine)
    figures["files_s"], _ = timed(lambda: report.write_report(found, work / f"{name}-report"))
    figures["cli_s"] = run_cli(endpoints, work / f"{name}-cli")
    figures["found"] = found
    return figures


# -- the results file ------------------------------------------------------------------


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) / 1e6 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0.0)
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM; Python {platform.python_version()}"


def write_markdown(out: Path, count: int, results: Dict[str, Dict[str, Any]], versions: Dict[str, str]) -> None:
    lines = [
        f"# The insights report on {count:,} conversations",
        "",
        f"Written by `make bench-report` (`.venv/bin/python bench/report_scale.py`) on {dt.date.today().isoformat()}.",
        f"Machine: {machine()}; " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "The two cores were shared with other work while this ran (other test suites): a figure can vary by half "
        "between runs; compare the rows of one table, measured minutes apart, rather than runs.",
        "",
        f"Seeded: {count:,} conversations over {DAYS} days (fixed seed {SEED}): 70% English, 30% Chinese, "
        "1 to 6 patient messages each, 6% of messages not understood, 3% warning signs, feedback after 30% of "
        "answers, 3% hand-offs (staff answer most, after a median of about 7 minutes, and hand back 80% of those). "
        "Each event is a Rasa event object stored as `SQLTrackerStore.save` stores it, bulk-inserted into the "
        "table Rasa creates (with its own index on `sender_id`).",
        "",
        "Timed: `staff.insights.build`, all the report's queries, for the whole 90 days and for the last week "
        "(`--days 7`): the first of three runs, then the median of the other two (the machine's file cache is "
        "warm from seeding, though the kernel gives it back within minutes here). The report's indexes "
        "(`staff.insights.INDEXES`, made by `ensure_indexes` at the start of the report and of the console): "
        f"`{TYPE_TIME}` on (type_name, timestamp, sender_id, intent_name, action_name, id) answers the questions "
        "per day, conversation and intent, the hand-off actions, pauses and resumes from the index alone; "
        + ", ".join(f"`{name}`" for name in SLOTS) + " are partial indexes of one slot each (language, feedback, "
        "warning signs) that hold the slot's JSON (PostgreSQL: INCLUDE), so that the report never reads the table "
        "for them. PostgreSQL builds them CONCURRENTLY, while the Rasa server writes; SQLite locks the database "
        "while it builds one, and a Rasa server that waits longer than its 5 s busy timeout fails that message.",
        "",
    ]
    for name, figures in results.items():
        found = figures["found"]
        lines += [
            f"## {name}",
            "",
            f"{figures['events']:,} events stored in {figures['seed_s']:.0f} s. Found by the report: "
            f"{found.conversations:,} conversations, {found.questions:,} questions, {found.not_understood_total:,} "
            f"not understood ({len(report.not_understood_groups(found)):,} groups), "
            f"{found.hand_offs.handed_off:,} hand-offs, {found.hand_offs.still_waiting:,} still waiting.",
            "",
            "| the report's indexes | 90 days: first run | 90 days: next two | last week: first run | "
            "last week: next two |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for label, ((whole_first, whole_next), (week_first, week_next)) in figures["builds"].items():
            lines.append(f"| {label} | {whole_first:.1f} s | {whole_next:.1f} s | {week_first:.2f} s | "
                         f"{week_next:.2f} s |")
        sizes = figures["sizes"]
        lines += [
            "",
            "What the indexes cost: " + "; ".join(
                f"`{index}` took {seconds:.0f} s to build and takes {sizes.get(index, 0):,.0f} MB"
                for index, seconds in figures["created"].items())
            + f" (the table itself: {sizes.get('events', 0):,.0f} MB). Storing 1,000 more conversations "
            f"(about {figures['events'] // max(found.conversations, 1) * 1000:,} events, one transaction) took "
            f"{figures['insert_plain']:.2f} s without the indexes and {figures['insert_indexed']:.2f} s with them.",
            "",
            f"With all four indexes: the plots, CSV files, YAML and HTML (`staff.report.write_report`) took "
            f"{figures['files_s']:.1f} s, and `python -m staff.report` from start to end (Python and Rasa's imports, "
            f"the indexes checked, the queries, the files) {figures['cli_s']:.1f} s.",
            "",
        ]
    out.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "report_scale.md")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="report-scale-"))
    results: Dict[str, Dict[str, Any]] = {}
    versions: Dict[str, str] = {}
    try:
        database = work / "conversations.db"
        sqlite_store = SQLTrackerStore(dialect="sqlite", db=str(database))
        endpoints = work / "endpoints-sqlite.yml"
        endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {database}\n")
        with sqlite_store.engine.connect() as connection:
            versions["SQLite"] = connection.exec_driver_sql("SELECT sqlite_version()").scalar_one()
        results["SQLite"] = measure("SQLite", sqlite_store, sqlite_insert, options.conversations, endpoints, work,
                                    database)
        sqlite_store.engine.dispose()
        database.unlink()
        if not options.skip_postgres:
            postgres_store = SQLTrackerStore(dialect="postgresql", db=BENCH_DB, **POSTGRES)
            try:
                endpoints = work / "endpoints-postgres.yml"
                endpoints.write_text(
                    f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {POSTGRES['host']}\n"
                    f"  port: {POSTGRES['port']}\n  db: {BENCH_DB}\n  username: {POSTGRES['username']}\n")
                with postgres_store.engine.connect() as connection:
                    versions["PostgreSQL"] = connection.exec_driver_sql("SHOW server_version").scalar_one().split()[0]
                results["PostgreSQL"] = measure("PostgreSQL", postgres_store, postgres_insert, options.conversations,
                                                endpoints, work)
            finally:
                postgres_store.engine.dispose()
                drop_database()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_markdown(options.out, options.conversations, results, versions)
    print(f"Wrote {options.out}")


def drop_database(name: str = BENCH_DB) -> None:
    login = SQLTrackerStore.get_db_url("postgresql", POSTGRES["host"], POSTGRES["port"], POSTGRES["login_db"],
                                       POSTGRES["username"])
    engine = sa.create_engine(login, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    engine.dispose()


if __name__ == "__main__":
    main()
