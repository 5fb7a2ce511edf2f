"""Warning signs judged in context, near-scope declines, several questions in
one message, follow-ups and the language of each message, on the real content
and actions."""
import pytest

from actions.actions import LIBRARY, ActionAnswerTopic, ActionDeclineScope, ActionTriageRedFlags
from components.language_detector import LanguageDetector
from tests.unit.conftest import make_tracker

CONTENT = LIBRARY.content("en")


@pytest.mark.parametrize("text, sign", [
    ("no fever, but my eyes are yellow", "jaundice"),
    ("my wee looks like cola", "dark_urine_pale_stools"),
    ("what I threw up looked like coffee grounds", "vomiting_blood"),
    ("dad is not making sense today", "confusion"),
    ("my skin has gone yellow", "jaundice"),
    ("how often should I be scanned? also I've lost 6 kilos without trying", "weight_loss"),
    ("they found it last month and now the whites of my eyes look yellow", "jaundice"),
    ("my eyes are yellow, could the spot cause this?", "jaundice"),
    ("since last month my eyes have been yellow", "jaundice"),
    ("外公这两天反应迟钝、答非所问，是不是和肝有关", "confusion"),
    ("这两天眼睛发黄", "jaundice"),
    ("没有发烧，但是眼睛黄了", "jaundice"),
    ("吐出来的东西像咖啡渣", "vomiting_blood"),
    ("小便像浓茶一样", "dark_urine_pale_stools"),
])
def test_a_sign_the_person_has_is_found_in_any_language(text, sign):
    assert [found.id for found in LIBRARY.assess_red_flags(text)[0]] == [sign]


@pytest.mark.parametrize("text", [
    "I have no fever and no yellow eyes",
    "my eyes are not yellow",
    "I'm confused about what my report says",
    "I had weight-loss surgery two years ago",
    "I had jaundice as a newborn",
    "what warning signs should I watch for, like yellow eyes?",
    "我没有发烧，眼睛也不黄",
    "小时候得过黄疸",
    "以前吐过血，早就好了",
])
def test_a_sign_s_words_without_the_sign_are_not_a_warning(text):
    present, dismissed = LIBRARY.assess_red_flags(text)
    assert present == [] and dismissed


@pytest.mark.parametrize("text", ["看报告看糊涂了", "I'm confused by my report", "我姓黄，想问问钙化灶", "你答非所问",
                                  "我在减肥，一个月瘦了五斤，钙化灶有影响吗"])
def test_other_meanings_of_a_sign_s_words_are_not_a_warning(text):
    assert LIBRARY.assess_red_flags(text)[0] == []


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
    ("my liver spot is fine, they said. Can I still eat eggs with a gallstone?", "other_organ"),
    ("is it a stone in the liver? can it pass like a kidney stone?", None),
    ("does taking calcium supplements cause calcification in the liver?", None),
    ("should I take calcium tablets or stop them?", "medicine"),
    ("I keep getting heartburn after meals, is it reflux?", "general_health"),
    ("胆囊结石8毫米需要手术吗", "other_organ"),
    ("脂肪肝要吃什么", "other_liver_disease"),
    ("肝内钙化灶要紧吗", None),
    # Turning to another thing: declined even though the liver spot was named, unless a reference back comes first.
    ("my liver calcification is harmless, got it. But what about the gallbladder polyp, how often do I scan that one", "other_organ"),
    ("I have a liver calcification but could it be from my old gallstones?", None),
    ("肝内钙化灶我懂了，主要想问胆囊息肉4毫米要不要切", "other_organ"),
    ("肝里有个钙化灶，但它会不会和胆结石有关", None),
    # The clause a question mark ends is judged alone too; a hydatid cyst is the parasites topic.
    ("there's a 3cm cyst in my liver next to the calcification, could the cyst burst?", "other_liver_disease"),
    ("could the hydatid cyst come back after it calcified?", None),
    ("is a calcification the same as a cyst?", None),
    ("had a scan for kidney stones, found a liver spot, is it serious?", None),
    ("肝上有个3厘米的囊肿，旁边有钙化灶，囊肿会破吗？", "other_liver_disease"),
    ("我爸有肝内钙化灶，会不会慢慢把肝弄坏，变成肝硬化", None),
    # "It" in a question naming neither thing points to the thing named last; a scan's reason is background.
    ("Scan: calcified focus in the liver, and a 6 mm stone in the right kidney. Will it pass on its own?", "other_organ"),
    ("A 6 mm kidney stone and a calcified focus in the liver. Will it go away?", None),
    ("the CT for my kidney stones found a calcified spot in my liver. is it serious?", None),
    ("his scan shows a calcified cyst in his liver. could the sheep dogs have given it to him?", None),
    ("Ultrasound found a prostate calcification and a liver one. The prostate one, does it need a biopsy?", "other_organ"),
    # A linking word ties the other thing to the finding: a question about its causes.
    ("I have a liver calcification. Could my gallstones have caused it?", None),
    ("My liver has a calcified spot. My kidney stones, are they linked to it?", None),
    ("肝内钙化灶，是乙肝引起的吗？", None),
    ("Liver calcification, fine. I've had heartburn for weeks, could that be coming from this?", None),
    ("肝内有个钙化灶，右肾还有个6毫米的结石。它能自己排出来吗？", "other_organ"),
    ("查肾结石的时候发现肝里有个钙化点，它要紧吗？", None),
])
def test_near_scope_questions_are_told_apart_in_any_language(text, kind):
    found = LIBRARY.outside_scope(text)
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


def test_the_baby_stays_in_play_and_a_question_asked_again_gets_more_not_the_same(dispatcher, domain):
    tracker = make_tracker("is it dangerous?", intent="ask_dangerous", slots={"topic": "unborn_baby", "disclaimer_shown": True})
    events = ActionAnswerTopic().run(dispatcher, tracker, domain)
    baby = CONTENT.topics["unborn_baby"]
    assert [message.get("text") for message in dispatcher.messages[:2]] == [baby.explanation, baby.what_you_can_do]
    assert not [event for event in events if event.get("name") == "topic"]


def test_what_to_do_right_after_a_warning_repeats_the_warning_and_nothing_else(dispatcher, domain):
    tracker = make_tracker("so what should I do?", intent="ask_see_doctor", slots={"warned": ["jaundice"], "disclaimer_shown": True})
    events = ActionTriageRedFlags().run(dispatcher, tracker, domain)
    jaundice = [sign for sign in CONTENT.red_flags.signs if sign.id == "jaundice"]
    assert [message.get("text") for message in dispatcher.messages] == [CONTENT.red_flags.warning(jaundice)]
    assert {"event": "slot", "name": "warned", "value": ["jaundice"], "timestamp": None} in events


@pytest.mark.parametrize("text, metadata, language", [
    ("肝上有个钙化点，要紧吗", None, "zh"),
    ("is a liver calcification dangerous?", {"language": "zh"}, "en"),
    ("做了个CT，说有钙化灶", None, "zh"),
    ("what does 钙化 mean in my report", None, "en"),
    ("English please", None, "en"),
    ("The box is in Chinese and I lost the instructions, how many should I take?", {"language": "zh"}, "en"),
    ("请用中文", None, "zh"),
    ("can you answer in Chinese", None, "zh"),
    ("ok", {"language": "zh"}, "zh"),
    ("ok", None, None),
    ("好", None, None),
])
def test_the_language_of_a_message_is_what_it_is_written_in(text, metadata, language):
    assert LanguageDetector(LIBRARY.languages).language(text, metadata) == language


@pytest.mark.parametrize("language", LIBRARY.languages.codes)
def test_answers_follow_the_language_slot(language, dispatcher, domain):
    tracker = make_tracker("?", intent="ask_cancer", slots={"language": language, "disclaimer_shown": True})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert answered(dispatcher) == [LIBRARY.content(language).topics["cancer"].short_answer]
