"""Handing a conversation to the clinic team and back, with a real rasa_sdk
Tracker and CollectingDispatcher: opening hours (content/clinic.yml) at fixed
times, in every language; the hand back; a session that starts while staff
are awaited; a warning sign while paused."""
import asyncio
import dataclasses
import datetime
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web

import actions.actions as actions_module
from actions.actions import LIBRARY, ActionHandBack, ActionHandOff, ActionSessionStart, ActionTriageRedFlags
from content_model import ContentError, load_opening_hours
from tests.unit.conftest import make_tracker

LANGUAGES = LIBRARY.languages.codes
ZONE = "America/New_York"
# The tests' own week (not the clinic's, which staff edit): two periods on weekdays,
# a short Saturday, Christmas closed.
HOURS = {
    "timezone": ZONE, "phone": "(555) 555-0199",
    "hours": {day: ["08:30-12:30", "13:30-17:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    | {"saturday": ["09:00-12:00"], "sunday": []},
    "closed_dates": [datetime.date(2026, 12, 25)],
}


def at(text: str) -> datetime.datetime:
    """A moment in the tests' time zone, "2026-12-02 10:00"."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONE))


# (now, open?, next opening when closed)
MOMENTS = {
    "inside": ("2026-12-02 10:00", True, None),  # a Wednesday morning
    "lunch break": ("2026-12-02 12:45", False, "2026-12-02 13:30"),
    "evening": ("2026-12-02 17:00", False, "2026-12-03 08:30"),
    "before opening": ("2026-12-03 06:10", False, "2026-12-03 08:30"),
    "weekend": ("2026-12-05 12:00", False, "2026-12-07 08:30"),  # Saturday noon: closed until Monday
    "closed date": ("2026-12-24 18:00", False, "2026-12-26 09:00"),  # Christmas is a Friday
    "across a clock change": ("2027-03-13 15:00", False, "2027-03-15 08:30"),  # summer time starts on the 14th
}


def write_hours(tmp_path: Path, **changes) -> Path:
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(dict(HOURS, **changes)), encoding="utf-8")
    return path


@pytest.fixture
def hours(tmp_path):
    return load_opening_hours(write_hours(tmp_path))


@pytest.fixture
def clinic_at(monkeypatch, hours):
    """Runs the actions with the tests' hours and `now` fixed."""
    def fix(now: datetime.datetime) -> None:
        monkeypatch.setattr(actions_module, "LIBRARY", dataclasses.replace(LIBRARY, hours=hours))
        monkeypatch.setattr(actions_module, "now", lambda: now)
    return fix


@pytest.mark.parametrize("moment", MOMENTS)
def test_opening_hours_know_when_staff_answer(hours, moment):
    now, open_now, opening = MOMENTS[moment]
    assert hours.is_open(at(now)) is open_now
    if opening:
        assert hours.next_opening(at(now)) == at(opening)
    # The same moment written in another zone is the same moment.
    assert hours.is_open(at(now).astimezone(datetime.timezone.utc)) is open_now


def test_opening_times_are_in_the_clinics_zone_across_a_clock_change(hours):
    opening = hours.next_opening(at("2027-03-13 15:00"))
    assert opening.utcoffset() == datetime.timedelta(hours=-4)  # daylight time on the Monday
    assert hours.next_opening(at("2026-12-02 17:00")).utcoffset() == datetime.timedelta(hours=-5)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("moment", MOMENTS)
def test_hand_off_tells_the_patient_when_staff_will_answer(language, moment, clinic_at, hours, dispatcher, domain,
                                                           monkeypatch):
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("STAFF_CONSOLE_URL", "http://127.0.0.1:8090")
    now, open_now, opening = MOMENTS[moment]
    clinic_at(at(now))
    content = LIBRARY.content(language)
    tracker = make_tracker("a nurse please", intent="request_human", slots={"language": language})
    events = asyncio.run(ActionHandOff().run(dispatcher, tracker, domain))

    assert [event["event"] for event in events] == ["pause"]  # waits in the staff queue, open or not
    assert dispatcher.messages[0]["custom"] == {"handoff": "requested"}
    text = dispatcher.messages[0]["text"]
    if open_now:
        assert text == content.clinic["handoff_sent"]
        return
    when = content.calendar.when(at(opening), at(now))
    assert text == content.clinic["handoff_closed"].format(when=when, phone=hours.phone)
    assert hours.phone in text and when in text
    # The day is named as today, tomorrow or its weekday and date, in the patient's language.
    days = (at(opening).date() - at(now).date()).days
    hour = at(opening).hour % 12 or 12
    assert f"{hour}:{at(opening).minute:02d}" in when
    if days == 0:
        assert when.startswith(content.calendar.today.split("{")[0])
    elif days == 1:
        assert when.startswith(content.calendar.tomorrow.split("{")[0])
    else:
        assert content.calendar.weekdays[at(opening).weekday()] in when
        assert content.calendar.months[at(opening).month - 1] in when and str(at(opening).day) in when


def test_without_console_or_webhook_the_patient_gets_the_clinics_contact(clinic_at, dispatcher, domain, monkeypatch):
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("STAFF_CONSOLE_URL", raising=False)
    clinic_at(at(MOMENTS["inside"][0]))
    events = asyncio.run(ActionHandOff().run(dispatcher, make_tracker("a nurse please", intent="request_human"), domain))
    content = LIBRARY.content("en")
    assert dispatcher.messages[0]["text"] == f"{content.clinic['handoff_unavailable']} {content.clinic['contact']}"
    assert not [event for event in events if event["event"] == "pause"]


@pytest.fixture
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_with_webhook(port: int, status: int, tracker, dispatcher, domain):
    """Runs the hand-off with a local clinic webhook answering `status`; returns (events, bodies received)."""
    received = []

    async def scenario():
        async def handler(request):
            received.append(await request.json())
            return web.json_response({}, status=status)

        app = web.Application()
        app.router.add_post("/handoff", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await ActionHandOff().run(dispatcher, tracker, domain)
        finally:
            await runner.cleanup()

    return asyncio.run(scenario()), received


def test_hand_off_posts_the_conversation_to_the_webhook_and_pauses(clinic_at, dispatcher, domain, monkeypatch, free_port):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", f"http://127.0.0.1:{free_port}/handoff")
    monkeypatch.delenv("STAFF_CONSOLE_URL", raising=False)
    clinic_at(at(MOMENTS["inside"][0]))
    tracker = make_tracker("can I talk to a nurse", intent="request_human",
                           slots={"check_answers": {"scan": "ct"}, "topic": "cancer"})
    events, received = run_with_webhook(free_port, 200, tracker, dispatcher, domain)
    assert [event["event"] for event in events] == ["pause"]
    assert received[0]["conversation_id"] == "test-patient"
    assert received[0]["questions"] == ["can I talk to a nurse"]
    assert received[0]["check_answers"] == {"scan": "ct"}
    assert dispatcher.messages[0]["text"] == LIBRARY.content("en").clinic["handoff_sent"]


@pytest.mark.parametrize("console", [True, False])
def test_a_refused_webhook_still_pauses_when_the_console_runs(console, clinic_at, dispatcher, domain, monkeypatch,
                                                               free_port):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", f"http://127.0.0.1:{free_port}/handoff")
    if console:
        monkeypatch.setenv("STAFF_CONSOLE_URL", "http://127.0.0.1:8090")
    else:
        monkeypatch.delenv("STAFF_CONSOLE_URL", raising=False)
    clinic_at(at(MOMENTS["inside"][0]))
    events, received = run_with_webhook(free_port, 503, make_tracker("a nurse", intent="request_human"),
                                        dispatcher, domain)
    assert len(received) == 1  # posted for the clinic's own system either way
    assert bool([event for event in events if event["event"] == "pause"]) is console


@pytest.mark.parametrize("language", LANGUAGES)
def test_hand_back_says_the_assistant_is_back_in_the_conversations_language(language, dispatcher, domain):
    events = ActionHandBack().run(dispatcher, make_tracker("", slots={"language": language}), domain)
    assert [message["text"] for message in dispatcher.messages] == [LIBRARY.content(language).clinic["handed_back"]]
    # The next message is read as after any answer.
    assert events == [{"event": "action", "name": "action_listen", "policy": None, "confidence": None, "timestamp": None}]


@pytest.mark.parametrize("paused", [True, False])
def test_a_new_session_keeps_a_conversation_waiting_for_staff_paused(paused, dispatcher, domain):
    tracker = make_tracker("hello?", slots={"language": "zh", "topic": "cancer"}, paused=paused)
    events = ActionSessionStart().run(dispatcher, tracker, domain)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "session_started" and kinds[-1] == "action"
    assert ("pause" in kinds) is paused
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert slots == ({"language": "zh"} if paused else {})  # nothing else carried over
    assert dispatcher.messages == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_warning_sign_while_waiting_for_staff_gets_only_the_warning(language, dispatcher, domain):
    text = {"en": "I vomited blood, is it the calcification?", "zh": "今天早上吐血了，是钙化引起的吗？"}[language]
    tracker = make_tracker(text, intent="report_red_flag", slots={"language": language}, paused=True,
                           ranking=[{"name": "report_red_flag", "confidence": 1.0}, {"name": "ask_symptoms", "confidence": 0.8}])
    events = ActionTriageRedFlags().run(dispatcher, tracker, domain)
    red_flags = LIBRARY.content(language).red_flags
    sign = next(sign for sign in red_flags.signs if sign.id == "vomiting_blood")
    assert [message["text"] for message in dispatcher.messages] == [red_flags.warning([sign])]
    assert dispatcher.messages[0]["custom"] == {"alert": "red_flag", "signs": ["vomiting_blood"]}
    assert events == [{"event": "slot", "name": "warned", "value": ["vomiting_blood"], "timestamp": None}]


@pytest.mark.parametrize("changes, message", [
    ({"timezone": "Mars/Olympus"}, "field 'timezone' must be a time zone name"),
    ({"phone": ""}, "field 'phone' is missing or empty"),
    ({"hours": {"funday": ["09:00-17:00"]}}, "field 'hours' must map days"),
    ({"hours": {"monday": "09:00-17:00"}}, "hours: monday: must be a list of periods"),
    ({"hours": {"monday": ["9-17"]}}, "hours: monday: a period is not written as HH:MM-HH:MM"),
    ({"hours": {"monday": ["17:00-09:00"]}}, "hours: monday: each period must end after it starts"),
    ({"hours": {"monday": ["09:00-13:00", "12:00-17:00"]}}, "periods must not overlap"),
    ({"hours": {"monday": [], "sunday": []}}, "field 'hours' must open on at least one day"),
    ({"closed_dates": ["25/12/2026"]}, "field 'closed_dates' must be a list of dates written YYYY-MM-DD"),
])
def test_broken_opening_hours_are_refused_naming_the_field(tmp_path, changes, message):
    with pytest.raises(ContentError, match=message) as error:
        load_opening_hours(write_hours(tmp_path, **changes))
    assert "clinic.yml" in str(error.value)


def test_a_day_may_run_to_midnight(tmp_path):
    hours = load_opening_hours(write_hours(tmp_path, hours={"sunday": ["20:00-24:00"]}))
    assert hours.is_open(at("2026-12-06 23:59"))
    assert not hours.is_open(at("2026-12-07 00:00"))
    assert hours.next_opening(at("2026-12-07 00:00")) == at("2026-12-13 20:00")
