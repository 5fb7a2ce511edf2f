"""action_send_summary: the topics answered and the warning signs given, in the chat's language."""
import datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import LIBRARY, ActionAnswerTopic, ActionSendSummary, ActionTriageRedFlags
from tests.unit.conftest import make_tracker

# Per language: two questions, then a message with a warning sign.
CHATS = {
    "en": ("is it dangerous?", "ask_dangerous", "do I need treatment?", "ask_treatment", "my eyes have turned yellow"),
    "zh": ("要紧吗", "ask_dangerous", "要治疗吗", "ask_treatment", "这两天眼睛发黄"),
}


def bot_events(dispatcher: CollectingDispatcher):
    """The dispatcher's messages as the Rasa server stores them."""
    return [{"event": "bot", "text": message.get("text"), "data": {"custom": message.get("custom")}}
            for message in dispatcher.messages]


def tracker_after(language: str, events: list) -> Tracker:
    tracker = make_tracker("send me a summary", intent="request_summary", slots={"language": language})
    tracker.events = events + tracker.events
    return tracker


@pytest.mark.parametrize("language", sorted(CHATS))
def test_the_summary_lists_the_topics_asked_and_the_signs_given(language, domain):
    first, first_intent, second, second_intent, sign_text = CHATS[language]
    content = LIBRARY.content(language)
    events = []
    for text, intent in ((first, first_intent), (second, second_intent), (first, first_intent)):
        dispatcher = CollectingDispatcher()
        ActionAnswerTopic().run(dispatcher, make_tracker(text, intent=intent, slots={"language": language}), domain)
        events += bot_events(dispatcher)
    dispatcher = CollectingDispatcher()
    ActionTriageRedFlags().run(dispatcher, make_tracker(sign_text, intent="report_red_flag",
                                                        slots={"language": language}), domain)
    events += bot_events(dispatcher)

    dispatcher = CollectingDispatcher()
    ActionSendSummary().run(dispatcher, tracker_after(language, events), domain)

    [message] = dispatcher.messages
    lines = message["text"].split("\n")
    assert datetime.date.today().isoformat() in lines[0]
    # Each topic once, in the order first asked, then the sign by name.
    assert lines[1:3] == [f"1. {content.topics['dangerous'].question}", f"2. {content.topics['treatment'].question}"]
    jaundice = next(sign for sign in content.red_flags.signs if sign.id == "jaundice")
    assert jaundice.name in lines[3]
    assert lines[-1] == content.clinic["summary_closing"]
    assert message["custom"] == {"summary": ["dangerous", "treatment"], "signs": ["jaundice"]}


@pytest.mark.parametrize("language", sorted(CHATS))
def test_a_summary_before_any_question_says_to_ask_first(language, domain):
    dispatcher = CollectingDispatcher()
    ActionSendSummary().run(dispatcher, tracker_after(language, []), domain)
    assert [message["text"] for message in dispatcher.messages] == [LIBRARY.content(language).clinic["summary_empty"]]
