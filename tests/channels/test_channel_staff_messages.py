"""Unit tests of how channels show what the clinic team sends: the staff label
on text-only channels, and the REST channel's staff messages since the
patient's previous message (read from an SQL tracker store's table, or from
any other store's tracker), with real Rasa events and stores."""
import asyncio

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, ConversationPaused, ConversationResumed,
                                     SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.clinic import ClinicTextOutput
from connectors.rest import sql_store, staff_messages, staff_turn
from connectors.text_only import with_staff_name
from content_model import load_library
from privacy.tracker_store import MaskingSQLTrackerStore
from tests.e2e.conftest import ROOT

LIBRARY = load_library()
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
REPLY = {"en": "Hello, I am looking at your questions now.", "zh": "你好，我正在看你的问题。"}


def staff(text: str, name: str = "Ana") -> BotUttered:
    """A staff reply as the console appends it."""
    return BotUttered(text, data={"custom": {"from": "staff", "name": name}}, metadata={"staff": "ana"})


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("name", ["Ana", "", None])
def test_text_channels_say_who_on_the_clinic_team_wrote(language, name):
    clinic = LIBRARY.content(language).clinic
    custom = {"from": "staff"} if name is None else {"from": "staff", "name": name}
    output = ClinicTextOutput()
    asyncio.run(output.send_response("patient", {"text": REPLY[language], "custom": custom}))
    expected = (clinic["staff_says"].format(name=name, text=REPLY[language]) if name
                else clinic["staff_says_unnamed"].format(text=REPLY[language]))
    assert [message["text"] for message in output.messages] == [expected]
    assert REPLY[language] in expected and (not name or name in expected)


def test_other_messages_are_left_as_they_are():
    for message in ({"text": "Usually not.", "custom": {"topic": "dangerous"}}, {"custom": {"from": "staff"}}, {"text": "hi"}):
        assert with_staff_name(message) is message


def turn(question: str, message_id: str, reply: str) -> list:
    return [UserUttered(question, message_id=message_id), SlotSet("language", "en"), ActionExecuted("action_answer_topic"),
            BotUttered(reply), ActionExecuted("action_listen")]


HAND_OFF = [UserUttered("a nurse please", message_id="m2"), ActionExecuted("action_hand_off"),
            BotUttered("Someone will join."), ConversationPaused()]
WAITING = [UserUttered("hello?", message_id="m3")]
HAND_BACK = [ConversationResumed(), ActionExecuted("action_hand_back"), BotUttered("I'm back."),
             ActionExecuted("action_listen")]
CONVERSATIONS = {
    # name: (events before the patient's message m4, texts REST owes the patient at m4)
    "staff replied while paused": (WAITING + [staff("Hello"), staff("Are you there?")], ["Hello", "Are you there?"]),
    "staff replied and handed back": (WAITING + [staff("Hello")] + HAND_BACK, ["Hello", "I'm back."]),
    "handed back without a reply": (WAITING + HAND_BACK, ["I'm back."]),
    "a warning while paused was the reply to m3": (
        [UserUttered("I vomited blood", message_id="m3"), ActionExecuted("action_triage_red_flags"),
         BotUttered("You mentioned vomiting blood."), staff("I am calling you now")], ["I am calling you now"]),
    "an ordinary turn": (turn("is it dangerous?", "m3", "Usually not."), []),
    "nothing since the hand-off": (WAITING, []),
}


def conversation(name: str) -> list:
    before, _ = CONVERSATIONS[name]
    return ([ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
            + turn("is it dangerous?", "m1", "Usually not.") + HAND_OFF + before + [UserUttered("and now?", message_id="m4")])


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_what_staff_sent_since_the_previous_message(name):
    assert [event.text for event in staff_turn(conversation(name), "m4")] == CONVERSATIONS[name][1]


def test_staff_messages_after_a_new_session_are_still_owed():
    events = conversation("staff replied and handed back")
    events[-1:-1] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    assert [event.text for event in staff_turn(events, "m4")] == ["Hello", "I'm back."]


def test_an_unknown_message_owes_nothing():
    assert staff_turn(conversation("staff replied while paused"), "not-stored") == []


def stores(tmp_path):
    return {"sqlite": MaskingSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "store.db")),
            "in memory": InMemoryTrackerStore(DOMAIN)}


@pytest.mark.parametrize("new_session", [False, True], ids=["same session", "m4 starts a session"])
@pytest.mark.parametrize("kind", ["sqlite", "in memory"])
@pytest.mark.parametrize("name", CONVERSATIONS)
def test_rest_reads_the_staff_messages_from_the_store(tmp_path, kind, name, new_session):
    store = stores(tmp_path)[kind]
    events = conversation(name)
    if new_session:  # the patient came back after the session expired: the staff messages are in the last one
        events[-1:-1] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events(f"patient-{kind}", events, DOMAIN.slots)
    asyncio.run(store.save(tracker))
    messages = asyncio.run(staff_messages(store, tracker.sender_id, "m4"))
    assert [message["text"] for message in messages if "text" in message] == CONVERSATIONS[name][1]
    staff_payloads = [message["custom"] for message in messages if "custom" in message]
    assert staff_payloads == [{"from": "staff", "name": "Ana"}] * sum(
        1 for event in conversation(name) if isinstance(event, BotUttered) and event.metadata.get("staff")
        and event.text in CONVERSATIONS[name][1])
    assert (sql_store(store) is store) is (kind == "sqlite")
