"""Unit tests of the plain-text rendering shared by SMS and the clinic connector."""
import asyncio

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.clinic import ClinicTextOutput
from connectors.sms import TWILIO_MAX_CHARS, SmsOutput
from connectors.text_only import SMS_MAX_CHARS, UCS2_MAX_CHARS, last_turn_options, pick_option, split_text

FEEDBACK = [{"title": "This helped", "payload": "/feedback_helpful"},
            {"title": "This did not help", "payload": "/feedback_unhelpful"}]
RELATED = [{"title": "Could it be cancer?", "payload": "/ask_cancer"},
           {"title": "Can it cause symptoms?", "payload": "/ask_symptoms"}]


def answer_turn(question: str = "is it dangerous?") -> list:
    """The events of one answer: the patient's question, then two messages with buttons and one without."""
    return [
        UserUttered(question),
        BotUttered("Usually not.", data={"buttons": FEEDBACK}),
        BotUttered("Source: a health article", data={"buttons": RELATED}),
        BotUttered(data={"custom": {"topic": "dangerous"}}),
        BotUttered("Please note: I am a computer assistant."),
        ActionExecuted("action_listen"),
    ]


def render(messages: list) -> list:
    """What ClinicTextOutput makes of bot messages sent as one turn."""
    output = ClinicTextOutput()

    async def send_all() -> None:
        for message in messages:
            await output.send_response("patient", dict(message))

    asyncio.run(send_all())
    return [message["text"] for message in output.messages]


def test_buttons_become_options_numbered_across_the_turn_and_custom_payloads_are_dropped():
    assert render([
        {"text": "Usually not.", "buttons": FEEDBACK},
        {"text": "Source: a health article", "buttons": RELATED},
        {"custom": {"topic": "dangerous"}},
        {"text": "Please note: I am a computer assistant."},
    ]) == [
        "Usually not.\nReply 1: This helped\nReply 2: This did not help",
        "Source: a health article\nReply 3: Could it be cancer?\nReply 4: Can it cause symptoms?",
        "Please note: I am a computer assistant.",
    ]


def test_numbering_restarts_with_each_output_channel():
    assert render([{"text": "Hi", "buttons": RELATED}]) == render([{"text": "Hi", "buttons": RELATED}])
    assert render([{"text": "Hi", "buttons": RELATED}])[0].endswith("Reply 2: Can it cause symptoms?")


def test_tracker_gives_back_the_options_in_the_order_they_were_numbered():
    events = answer_turn("could it be cancer?") + answer_turn()
    assert last_turn_options(events) == FEEDBACK + RELATED
    assert last_turn_options(events + [UserUttered("hello")]) == []


@pytest.mark.parametrize(
    "typed, sent",
    [("1", "/feedback_helpful"), ("3", "/ask_cancer"), (" 4 ", "/ask_symptoms"), ("4.", "/ask_symptoms"),
     ("2)", "/feedback_unhelpful"), ("5", "5"), ("0", "0"), ("1 please", "1 please"), ("is it dangerous?", "is it dangerous?")],
)
def test_a_number_picks_the_option_and_anything_else_passes_unchanged(typed, sent):
    store = InMemoryTrackerStore(Domain.empty())

    async def pick() -> str:
        await store.save(DialogueStateTracker.from_events("patient", answer_turn()))
        return await pick_option(store, "patient", typed)

    assert asyncio.run(pick()) == sent


def test_a_number_from_a_new_patient_passes_unchanged():
    assert asyncio.run(pick_option(InMemoryTrackerStore(Domain.empty()), "nobody", "1")) == "1"


def test_short_text_is_one_part():
    assert split_text("  Usually not.  ") == ["Usually not."]


def test_long_text_is_split_at_sentences_without_losing_words():
    sentence = "Most of these spots are old, healed scars that cause no symptoms at all. "
    text = sentence * 10
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(part) <= SMS_MAX_CHARS for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == text.strip()


def test_split_prefers_line_breaks_then_commas_then_spaces():
    lines = "a" * 200 + ". More text here.\nReply 1: This helped\nReply 2: This did not help"
    assert split_text(lines, 240) == ["a" * 200 + ". More text here.\nReply 1: This helped", "Reply 2: This did not help"]
    assert split_text("word, " * 10, 40) == ["word, word, word, word, word, word,", "word, word, word, word,"]
    assert split_text("word " * 10, 22) == ["word word word word", "word word word word", "word word"]


def test_a_word_longer_than_the_limit_is_cut():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_whatsapp_messages_may_be_longer_than_sms():
    assert SmsOutput("AC1", "token", "+15005550006").limit("Usually not.") == SMS_MAX_CHARS
    assert SmsOutput("AC1", "token", "whatsapp:+14155238886").limit("通常无害。") == TWILIO_MAX_CHARS


def test_chinese_sms_is_measured_in_ucs2_parts_and_split_at_chinese_punctuation():
    sms = SmsOutput("AC1", "token", "+15005550006")
    assert sms.limit("肝内钙化灶通常无害。") == UCS2_MAX_CHARS == 2 * 67
    assert sms.limit("A liver calcification is usually harmless (3-6 months).") == SMS_MAX_CHARS
    sentence = "肝内钙化灶通常是以前的小伤留下的疤，一般不需要治疗。"
    parts = split_text(sentence * 8, sms.limit(sentence))
    assert len(parts) > 1 and all(len(part) <= UCS2_MAX_CHARS for part in parts)
    assert all(part.endswith("。") for part in parts)
    assert "".join(parts) == sentence * 8
    # No punctuation at all: cut between characters, nothing lost.
    assert "".join(split_text("钙" * 300, 134)) == "钙" * 300


def test_options_are_numbered_in_the_language_of_their_message():
    chinese = render([{"text": "钙化灶通常无害。", "buttons": [{"title": "有帮助", "payload": "/feedback_helpful"}]}])
    english = render([{"text": "Usually harmless.", "buttons": FEEDBACK[:1]}])
    assert chinese == ["钙化灶通常无害。\n回复1：有帮助"]
    assert english == ["Usually harmless.\nReply 1: This helped"]
