"""Warning signs judged in context, near-scope declines, and several questions
in one message, on the real content and actions."""
import pytest

from actions.actions import CONTENT, ActionAnswerTopic, ActionDeclineScope, ActionTriageRedFlags
from tests.unit.conftest import make_tracker


@pytest.mark.parametrize("text, sign", [
    ("no fever, but my eyes are yellow", "jaundice"),
    ("my wee looks like cola", "dark_urine_pale_stools"),
    ("what I threw up looked like coffee grounds", "vomiting_blood"),
    ("dad is not making sense today", "confusion"),
    ("my skin has gone yellow", "jaundice"),
    ("how often should I be scanned? also I've lost 6 kilos without trying", "weight_loss"),
])
def test_a_sign_the_person_has_is_found(text, sign):
    assert [found.id for found in CONTENT.red_flags.find(text)] == [sign]


@pytest.mark.parametrize("text", [
    "I have no fever and no yellow eyes",
    "my eyes are not yellow",
    "I'm confused about what my report says",
    "I had weight-loss surgery two years ago",
    "I had jaundice as a newborn",
    "what warning signs should I watch for, like yellow eyes?",
])
def test_a_sign_s_words_without_the_sign_are_not_a_warning(text):
    present, dismissed = CONTENT.red_flags.assess(text)
    assert present == [] and dismissed


def test_a_warning_with_no_sign_understood_names_the_signs_to_check(dispatcher, domain):
    tracker = make_tracker("I feel awful, is this an emergency", intent="report_red_flag")
    ActionTriageRedFlags().run(dispatcher, tracker, domain)
    first = dispatcher.messages[0]["text"]
    assert all(sign.name in first for sign in CONTENT.red_flags.signs)
    assert "You mentioned" not in first


@pytest.mark.parametrize("text, kind", [
    ("how much paracetamol can I take with a liver calcification?", "medicine"),
    ("is a calcification in my kidney dangerous?", "other_organ"),
    ("what should I eat with fatty liver?", "other_liver_disease"),
    ("the scan for my kidney stones found a calcified spot in my liver, what does it mean?", None),
    ("I have fatty liver and a calcified spot, is the spot dangerous?", None),
    ("do I need medicine for it?", None),
])
def test_near_scope_questions_are_told_apart(text, kind):
    found = CONTENT.scope.outside(text)
    assert (found.id if found else None) == kind


@pytest.mark.parametrize("kind", [kind.id for kind in CONTENT.scope.kinds] + [None])
def test_a_decline_says_why(kind, dispatcher, domain):
    tracker = make_tracker("question", intent="out_of_scope", slots={"disclaimer_shown": True}, parsed={"scope": kind})
    ActionDeclineScope().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == CONTENT.scope.decline(kind)
    assert "topic" not in (dispatcher.messages[0].get("custom") or {})


def answered(dispatcher):
    return [message["answer"] for message in dispatcher.messages if message.get("response") == "utter_answer"]


def test_two_questions_are_both_answered_in_the_order_asked(dispatcher, domain):
    questions = [{"intent": "ask_dangerous", "confidence": 0.9}, {"intent": "ask_treatment", "confidence": 0.8}]
    tracker = make_tracker("is it dangerous? and do I need treatment?", intent="ask_treatment",
                           slots={"disclaimer_shown": True}, parsed={"questions": questions})
    events = ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert answered(dispatcher) == [CONTENT.topics["dangerous"].short_answer, CONTENT.topics["treatment"].short_answer]
    assert [event["value"] for event in events if event.get("name") == "topic"] == ["treatment"]


def test_pasted_report_words_are_explained_after_the_question(dispatcher, domain):
    tracker = make_tracker("report: 4 mm strong echo with acoustic shadow. is it dangerous?", intent="ask_dangerous",
                           slots={"disclaimer_shown": True})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert answered(dispatcher) == [CONTENT.topics["dangerous"].short_answer, CONTENT.topics["report_words"].short_answer]


def test_a_warning_comes_before_each_question_asked_with_it(dispatcher, domain):
    questions = [{"intent": "ask_cancer", "confidence": 0.9}, {"intent": "ask_rescan_interval", "confidence": 0.8}]
    tracker = make_tracker("my eyes are yellow. could it be cancer? how often do I need scans?", intent="report_red_flag",
                           ranking=[{"name": "report_red_flag", "confidence": 1.0}, {"name": "ask_cancer", "confidence": 0.6}],
                           slots={"disclaimer_shown": True}, parsed={"questions": questions})
    ActionTriageRedFlags().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["custom"]["alert"] == "red_flag"
    assert answered(dispatcher) == [CONTENT.topics["cancer"].short_answer, CONTENT.topics["rescan_interval"].short_answer]
