"""The insights report on a seeded tracker store, on SQLite and on PostgreSQL.

Eight known conversations are stored through Rasa's own save path (the masking
tracker store, real Rasa event objects, one conversation through Rasa's plain
SQLTrackerStore as a store written before masking was switched on); the report's
counts, files, plots and NLU export are checked against what they hold."""
import asyncio
import csv
import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event, SessionStarted, SlotSet, UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.loading import load_data

from privacy.tracker_store import MaskingSQLTrackerStore
from staff import insights, report

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
SINCE, UNTIL = dt.date(2026, 11, 2), dt.date(2026, 11, 6)  # four days, 2 to 5 November
NOW = dt.datetime(2026, 11, 5, 12, 0, tzinfo=UTC).timestamp()
RAW_PERSONAL = ["415-555-0123", "07700 900123", "jo@example.com", "555-0123"]
POSTGRES = {"host": "127.0.0.1", "port": 5432, "username": "postgres", "login_db": "test"}


class Talk:
    """One conversation's events, as Rasa and the actions produce them, with a clock."""

    def __init__(self, sender_id: str, start: dt.datetime) -> None:
        self.sender_id = sender_id
        self.clock = start.timestamp()
        self.events: List[Event] = []
        self.add(ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"))

    def add(self, *events: Event) -> None:
        for event in events:
            event.timestamp = self.clock
            self.clock += 0.01
            self.events.append(event)

    def wait(self, seconds: float) -> "Talk":
        self.clock += seconds
        return self

    def user(self, text: str, intent: str, language: Optional[str]) -> None:
        """A patient message; the language detector's entity fills the `language` slot right after it."""
        entities = [{"entity": "language", "value": language, "start": 0, "end": len(text),
                     "extractor": "LanguageDetector"}] if language else []
        parse_data = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities, "text": text,
                      "intent_ranking": [{"name": intent, "confidence": 0.9}]}
        self.add(UserUttered(text, parse_data["intent"], entities, parse_data, input_channel="rest"))
        if language:
            self.add(SlotSet("language", language))

    def reply(self, action: str, text: str, *slots: SlotSet, custom: Optional[Dict[str, Any]] = None) -> "Talk":
        self.add(ActionExecuted(action, policy="RulePolicy", confidence=1.0),
                 BotUttered(text, {"custom": custom} if custom else {}), *slots, ActionExecuted("action_listen"))
        return self

    def ask(self, intent: str, topic: str, text: str, language: Optional[str]) -> "Talk":
        self.user(text, intent, language)
        return self.reply("action_answer_topic", f"The answer about {topic}.", SlotSet("topic", topic),
                          custom={"topic": topic, "part": "short_answer"})

    def feedback(self, topic: str, helpful: bool) -> "Talk":
        intent = "feedback_helpful" if helpful else "feedback_unhelpful"
        self.user(f"/{intent}", intent, None)
        return self.reply("action_record_feedback", "Thank you.",
                          SlotSet("feedback", {"topic": topic, "helpful": helpful}))

    def unclear(self, text: str, language: Optional[str]) -> "Talk":
        self.user(text, "nlu_fallback", language)
        return self.reply("action_suggest_topics", "Sorry, did you mean one of these?")

    def warn(self, text: str, signs: List[str], language: Optional[str]) -> "Talk":
        self.user(text, "report_red_flag", language)
        return self.reply("action_triage_red_flags", "This can be a warning sign.", SlotSet("warned", signs),
                          custom={"alert": "red_flag", "signs": signs})

    def hand_off(self, text: str, language: Optional[str]) -> "Talk":
        self.user(text, "request_human", language)
        self.add(ActionExecuted("action_hand_off", policy="RulePolicy", confidence=1.0),
                 BotUttered("I have asked a member of the clinic team to join this chat.", {}), ConversationPaused())
        self.paused_at = self.events[-1].timestamp
        return self

    def staff(self, name: str, text: str, after: float) -> "Talk":
        """A staff reply `after` seconds after the hand-off."""
        self.clock = self.paused_at + after
        self.add(BotUttered(text, {}, {"staff": name}))
        return self

    def hand_back(self) -> "Talk":
        self.add(ConversationResumed(), ActionExecuted("action_hand_back"), BotUttered("I am back.", {}),
                 ActionExecuted("action_listen"))
        return self


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def seeded_conversations() -> Dict[str, Talk]:
    talks = {
        # 2 November: English and Chinese questions, feedback, messages not understood.
        "a": Talk("a", at(2, 9)).ask("ask_dangerous", "dangerous", "is it dangerous?", "en")
        .feedback("dangerous", False).unclear("Blorp 12 zz", "en")
        .ask("ask_cancer", "cancer", "could it be cancer?", "en").feedback("cancer", True),
        "b": Talk("b", at(2, 10)).ask("ask_dangerous", "dangerous", "肝上有个钙化点，要紧吗", "zh")
        .feedback("dangerous", False).unclear("咕噜 3 啦啦", "zh").unclear("咕噜 3 啦啦", "zh")
        .unclear("咕噜  7 啦啦", "zh"),
        # 3 November: warning signs (personal details in the message), hand-offs answered by staff.
        "c": Talk("c", at(3, 14)).warn("my eyes went yellow, call me on 07700 900123 or jo@example.com",
                                       ["jaundice"], "en")
        .warn("so what should I do?", ["jaundice"], "en").hand_off("can I talk to a nurse", "en"),
        "d": Talk("d", at(3, 20)).warn("我吐血了", ["vomiting_blood"], "zh").warn("很难受", [], "zh")
        .hand_off("我想找护士", "zh"),
        # 5 November: one still waiting, one handed back unanswered, a language switch.
        "e": Talk("e", at(5, 8)).unclear("blorp 5 zz", "en").unclear("blorp 5 zz", "en")
        .hand_off("a person please, I'm jo@example.com", "en"),
        "f": Talk("f", at(5, 9)).unclear("my number is 415-555-0123 what now", "en")
        .hand_off("talk to a nurse", "en"),
        # A button first: the first language the conversation shows.
        "g": Talk("g", at(5, 10)).ask("ask_cancer", "cancer", "/ask_cancer", None)
        .ask("ask_what_is", "what_is", "what is a liver calcification", "en"),
        # Before the period; 23:30 UTC is already 21 October in London (summer time).
        "h": Talk("h", at(20, 23, 30, month=10)).ask("ask_dangerous", "dangerous", "is it dangerous", "en")
        .hand_off("a nurse please", "en"),
    }
    c, d, f, g, h = talks["c"], talks["d"], talks["f"], talks["g"], talks["h"]
    c.user("hello?", "greet", None)  # while waiting: no reply, and too short to tell its language
    c.staff("nina", "Hello, this is Nina from the clinic.", after=300)
    c.staff("nina", "Please go to urgent care today.", after=360).hand_back()
    d.staff("li.wei", "您好，我是诊所的护士。", after=900)
    f.wait(120).hand_back()
    g.user("请用中文", "switch_language", "zh")
    g.reply("utter_language_switched", "好的。")
    g.user("/ask_what_is", "ask_what_is", None)  # a button: the conversation's language, now Chinese
    g.reply("action_answer_topic", "肝内钙化是……", SlotSet("topic", "what_is"))
    h.staff("sam", "Hello.", after=200)
    return talks


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def save(store: SQLTrackerStore, talk: Talk, domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(talk.sender_id, talk.events, slots=domain.slots)
    asyncio.run(store.save(tracker))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory, domain) -> Iterator[Dict[str, Any]]:
    """A store holding the seeded conversations; "f" saved without masking."""
    workdir = tmp_path_factory.mktemp(request.param)
    talks = seeded_conversations()
    endpoints = workdir / "endpoints.yml"
    if request.param == "sqlite":
        settings: Dict[str, Any] = {"dialect": "sqlite", "db": str(workdir / "conversations.db")}
        endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {settings['db']}\n")
    else:
        settings = dict(POSTGRES, dialect="postgresql", db=f"report_test_{uuid.uuid4().hex[:12]}")
        endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {POSTGRES['host']}\n"
                             f"  port: {POSTGRES['port']}\n  db: {settings['db']}\n  username: postgres\n")
    masking = MaskingSQLTrackerStore(**settings)
    plain = SQLTrackerStore(**settings)
    try:
        for talk in talks.values():
            save(plain if talk.sender_id == "f" else masking, talk, domain)
        yield {"engine": masking.engine, "talks": talks, "endpoints": endpoints, "workdir": workdir}
    finally:
        masking.engine.dispose()
        plain.engine.dispose()
        if request.param == "postgresql":
            drop(settings["db"])


def drop(database: str) -> None:
    engine = sa.create_engine(SQLTrackerStore.get_db_url("postgresql", POSTGRES["host"], POSTGRES["port"],
                                                         POSTGRES["login_db"], POSTGRES["username"]),
                              isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    engine.dispose()


@pytest.fixture(scope="module")
def found(seeded) -> insights.Insights:
    return insights.build(seeded["engine"], SINCE, UNTIL, "UTC", now=NOW)


@pytest.fixture(scope="module")
def written(seeded, found) -> Path:
    out = seeded["workdir"] / "report"
    report.write_report(found, out)
    return out


def read_csv(path: Path) -> List[List[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


# -- the counts ----------------------------------------------------------------------


def test_conversations_and_questions_per_day(found):
    assert found.conversations == 7
    assert found.questions == 26
    assert [(day.day.isoformat(), day.conversations, day.questions, day.not_understood) for day in found.days] == [
        ("2026-11-02", 2, 10, 4), ("2026-11-03", 2, 7, 0), ("2026-11-04", 0, 0, 0), ("2026-11-05", 3, 9, 3)]
    assert found.not_understood_total == 7
    assert found.fallback_rate == pytest.approx(7 / 26)


def test_questions_by_intent_and_language(found):
    assert found.questions_by_intent == {
        ("ask_dangerous", "en"): 1, ("ask_dangerous", "zh"): 1, ("ask_cancer", "en"): 2, ("ask_what_is", "en"): 1,
        # The button after "请用中文" counts in Chinese; "hello?" while waiting in English.
        ("ask_what_is", "zh"): 1, ("switch_language", "zh"): 1, ("greet", "en"): 1,
        ("feedback_unhelpful", "en"): 1, ("feedback_unhelpful", "zh"): 1, ("feedback_helpful", "en"): 1,
        ("nlu_fallback", "en"): 4, ("nlu_fallback", "zh"): 3, ("report_red_flag", "en"): 2,
        ("report_red_flag", "zh"): 2, ("request_human", "en"): 3, ("request_human", "zh"): 1,
    }


def test_feedback_and_warning_signs(found):
    assert found.feedback == {"dangerous": insights.Feedback(helpful=0, not_helpful=2),
                              "cancer": insights.Feedback(helpful=1, not_helpful=0)}
    assert found.signs == {"jaundice": insights.Sign(warnings=2, conversations=1),
                           "vomiting_blood": insights.Sign(warnings=1, conversations=1),
                           "": insights.Sign(warnings=1, conversations=1)}


def test_hand_offs_waits_and_staff(found, seeded):
    hand_offs = found.hand_offs
    assert (hand_offs.asked, hand_offs.handed_off, hand_offs.answered, hand_offs.handed_back_unanswered,
            hand_offs.still_waiting) == (4, 4, 2, 1, 1)
    assert hand_offs.waits == pytest.approx([300, 900])
    assert hand_offs.median_wait == pytest.approx(600)
    assert hand_offs.p90_wait == pytest.approx(900)
    assert hand_offs.longest_still_waiting == pytest.approx(NOW - seeded["talks"]["e"].paused_at)
    assert found.staff == {
        "nina": insights.Staff(replies=2, conversations=1, first_replies=1, median_first_reply=pytest.approx(300)),
        "li.wei": insights.Staff(replies=1, conversations=1, first_replies=1, median_first_reply=pytest.approx(900)),
    }


def test_messages_not_understood_are_grouped_and_masked(found):
    assert report.not_understood_groups(found) == [
        report.Group("blorp 5 zz", "en", 3),  # with "Blorp 12 zz": capitals and numbers differ
        report.Group("咕噜 3 啦啦", "zh", 3),  # with "咕噜  7 啦啦": spaces and numbers differ
        report.Group("my number is [phone] what now", "en", 1),  # stored unmasked, masked by the report
    ]


def test_days_follow_the_clinic_time_zone(seeded):
    # 20:00 UTC on 3 November is 4 November in Shanghai.
    shanghai = insights.build(seeded["engine"], SINCE, UNTIL, "Asia/Shanghai", now=NOW)
    assert [(day.day.isoformat(), day.conversations) for day in shanghai.days] == [
        ("2026-11-02", 2), ("2026-11-03", 1), ("2026-11-04", 1), ("2026-11-05", 3)]
    # Without a period: everything stored, from conversation "h" on. 23:30 UTC on 20 October is
    # 21 October in London (summer time), and 5 November's messages stay on 5 November (winter time).
    london = insights.build(seeded["engine"], timezone="Europe/London", now=NOW)
    assert (london.days[0].day, london.days[0].conversations) == (dt.date(2026, 10, 21), 1)
    assert (london.days[-1].day, london.days[-1].conversations) == (dt.date(2026, 11, 5), 3)
    assert len(london.days) == 16 and london.conversations == 8 and london.questions == 28
    assert london.staff["sam"].replies == 1 and london.hand_offs.handed_off == 5


def test_indexes_are_added_once_and_change_no_figure(seeded, found):
    engine = seeded["engine"]
    added = insights.ensure_indexes(engine)
    assert set(insights.INDEXES) <= {index["name"] for index in sa.inspect(engine).get_indexes("events")}
    assert insights.ensure_indexes(engine) == []
    assert set(added) <= set(insights.INDEXES)
    assert insights.build(engine, SINCE, UNTIL, "UTC", now=NOW) == found


# -- the files -----------------------------------------------------------------------


def test_csv_files_hold_the_tables(written):
    assert read_csv(written / "per_day.csv") == [
        ["Day", "Conversations", "Questions", "Not understood", "Share not understood"],
        ["2026-11-02", "2", "10", "4", "0.4000"], ["2026-11-03", "2", "7", "0", "0.0000"],
        ["2026-11-04", "0", "0", "0", ""], ["2026-11-05", "3", "9", "3", "0.3333"]]
    by_topic = {row[0]: row[1:] for row in read_csv(written / "by_topic.csv")}
    assert by_topic["Topic"] == ["English (en)", "中文 (zh)", "Total"]
    assert by_topic["Is it dangerous?"] == ["1", "1", "2"]
    assert by_topic["Not understood"] == ["4", "3", "7"]
    assert read_csv(written / "by_language.csv")[1:] == [["English (en)", "16", "4", "0.2500"],
                                                        ["中文 (zh)", "10", "3", "0.3000"]]
    assert read_csv(written / "feedback.csv")[1][:3] == ["Is it dangerous?", "2", "0"]
    assert read_csv(written / "red_flags.csv")[1] == ["Yellow skin or eyes", "2", "1"]
    assert read_csv(written / "waits.csv")[1:3] == [["Median wait for a first reply", "600.0"],
                                                    ["9 in 10 waited at most (90th percentile)", "900.0"]]
    assert read_csv(written / "staff.csv")[1:] == [["nina", "2", "1", "1", "300.0"], ["li.wei", "1", "1", "1", "900.0"]]
    assert len(read_csv(written / "not_understood.csv")) == 4


def test_html_page_has_captioned_tables_and_local_plots(written, found):
    page = (written / "index.html").read_text(encoding="utf-8")
    images = re.findall(r'<img class="chart" src="([^"]+)"', page)
    assert sorted(images) == ["by_topic.png", "feedback.png", "per_day.png", "red_flags.png", "waits.png"]
    for image in images:
        assert (written / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("<table>") == page.count("<caption>") == len(report.tables(found))
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "From 2026-11-02 to 2026-11-05 (UTC time)." in page


def test_fragment_for_the_console_has_its_plots_inline(found):
    fragment = report.render_html(found)
    assert fragment.startswith('<section class="insights">')
    assert fragment.count('src="data:image/png;base64,') == 5
    assert "<style" not in fragment and "<script" not in fragment


def test_no_personal_detail_reaches_the_report(written):
    for path in written.iterdir():
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for detail in RAW_PERSONAL:
            assert detail not in text, f"{detail} in {path.name}"


def test_not_understood_loads_with_rasas_nlu_reader(written):
    path = written / "not_understood.yml"
    data = load_data(str(path))
    examples = [(message.get("text"), message.get("intent"), message.get("metadata")["example"]["count"])
                for message in data.training_examples]
    assert examples == [("blorp 5 zz", "to_label", 3), ("my number is [phone] what now", "to_label", 1),
                        ("咕噜 3 啦啦", "to_label", 3)]
    assert [message.get("metadata")["intent"]["language"] for message in data.training_examples] == ["en", "en", "zh"]
    assert not RasaYAMLReader().reads(path.read_text(encoding="utf-8")).entities  # "[phone]" is no entity


def test_empty_store_gives_an_empty_report(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    empty = insights.build(engine, SINCE, UNTIL)
    assert insights.ensure_indexes(engine) == []
    assert (empty.conversations, empty.questions, empty.days) == (0, 0, [])
    page = report.write_report(empty, tmp_path / "out").read_text(encoding="utf-8")
    assert "None in this period." in page


# -- the command ---------------------------------------------------------------------


def run_report(endpoints: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "staff.report", *arguments], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, STAFF_ENDPOINTS=str(endpoints)), timeout=300)


def test_command_writes_the_report(seeded, tmp_path):
    done = run_report(seeded["endpoints"], "--out", str(tmp_path), "--since", "2026-11-02", "--days", "4",
                      "--timezone", "UTC")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {tmp_path / 'index.html'}: 7 conversations, 26 questions, 26.9% not understood, 4 hand-offs" \
        in done.stdout
    assert read_csv(tmp_path / "summary.csv")[1] == ["Conversations", "7"]
    # Without --timezone, whatever is stored, in the clinic's days.
    done = run_report(seeded["endpoints"], "--out", str(tmp_path / "all"))
    assert done.returncode == 0, done.stderr
    assert f"({report.clinic_timezone()} time)" in (tmp_path / "all" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("arguments, message", [
    (["--since", "2026-13-01"], "'2026-13-01' is not a date like 2026-12-01"),
    (["--days", "-3"], "'-3' is not a number of days"),
    (["--timezone", "Mars/Olympus"], "'Mars/Olympus' is not a time zone name"),
])
def test_command_explains_bad_options(tmp_path, arguments, message):
    done = run_report(tmp_path / "endpoints.yml", *arguments)  # refused before the store is read
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_command_explains_a_folder_it_cannot_write(seeded, tmp_path):
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    done = run_report(seeded["endpoints"], "--out", str(taken), "--timezone", "UTC")
    assert done.returncode == 1 and f"Could not write the report to {taken}" in done.stdout
    assert "Traceback" not in done.stderr and taken.read_text() == "not a folder"


def test_command_explains_a_missing_or_unreachable_store(tmp_path):
    missing = tmp_path / "missing.yml"
    missing.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'none.db'}\n")
    done = run_report(missing, "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "No conversations stored yet" in done.stdout and "Traceback" not in done.stderr
    assert not (tmp_path / "none.db").exists()
    closed = tmp_path / "closed.yml"
    closed.write_text("tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 1\n  db: x\n"
                      "  username: postgres\n")
    done = run_report(closed, "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "Could not read the tracker store" in done.stdout
    assert "Traceback" not in done.stderr


def test_period_from_the_options():
    today = dt.date(2026, 12, 2)
    assert report.period(dt.date(2026, 11, 2), 4, today) == (dt.date(2026, 11, 2), dt.date(2026, 11, 6))
    assert report.period(None, 7, today) == (dt.date(2026, 11, 26), dt.date(2026, 12, 3))
    assert report.period(dt.date(2026, 11, 2), None, today) == (dt.date(2026, 11, 2), None)
    assert report.period(None, None, today) == (None, None)
