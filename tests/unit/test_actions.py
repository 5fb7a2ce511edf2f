"""Each custom action, run with a real rasa_sdk Tracker and CollectingDispatcher."""
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    LIBRARY,
    ActionAnswerTopic,
    ActionExplainTopic,
    ActionGreet,
    ActionRecordFeedback,
    ActionSuggestTopics,
    ActionSummarizeCheck,
    ActionTriageRedFlags,
)
from tests.unit.conftest import make_tracker

CONTENT = LIBRARY.content("en")
TOPICS = sorted(CONTENT.topics.values(), key=lambda topic: topic.id)
PER_LANGUAGE = [(language, topic_id) for language in LIBRARY.languages.codes for topic_id in sorted(CONTENT.topics)]


def slot_events(events):
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


@pytest.mark.parametrize("language, topic_id", PER_LANGUAGE)
def test_answer_sends_short_answer_source_buttons_and_metadata(language, topic_id, dispatcher, domain):
    content = LIBRARY.content(language)
    topic = content.topics[topic_id]
    tracker = make_tracker("question", intent=topic.intents[0], slots={"disclaimer_shown": True, "language": language})
    events = ActionAnswerTopic().run(dispatcher, tracker, domain)

    answer, source = dispatcher.messages
    assert answer["response"] == "utter_answer" and answer["answer"] == topic.short_answer
    assert source["response"] == "utter_source_line"
    assert source["cite"] == content.source_line(topic)
    assert [b["title"] for b in source["buttons"]] == [content.topics[t].question for t in topic.related]
    assert [b["payload"] for b in source["buttons"]] == [f"/{CONTENT.topics[t].intents[0]}" for t in topic.related]
    assert 2 <= len(source["buttons"]) <= 3
    assert source["custom"] == {"topic": topic.id, "part": "short_answer", "sources": topic.sources}
    assert slot_events(events) == {"topic": topic.id}


def test_how_long_after_how_often_answers_the_duration(dispatcher, domain):
    tracker = make_tracker("and for how long?", intent="ask_how_long", slots={"topic": "rescan_interval"})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == CONTENT.topics["rescan_duration"].short_answer


def test_how_long_after_will_it_go_away_stays_on_that_topic_and_says_more(dispatcher, domain):
    tracker = make_tracker("how long?", intent="ask_how_long", slots={"topic": "go_away"})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == CONTENT.topics["go_away"].explanation


def test_first_answer_of_a_conversation_is_followed_by_the_disclaimer_once(dispatcher, domain):
    events = ActionAnswerTopic().run(dispatcher, make_tracker("dangerous?", intent="ask_dangerous"), domain)
    assert dispatcher.messages[-1]["response"] == "utter_disclaimer"
    assert slot_events(events)["disclaimer_shown"] is True

    again = CollectingDispatcher()
    ActionAnswerTopic().run(again, make_tracker("cancer?", intent="ask_cancer", slots={"disclaimer_shown": True}), domain)
    assert "utter_disclaimer" not in [m.get("response") for m in again.messages]


@pytest.mark.parametrize("topic", TOPICS, ids=[topic.id for topic in TOPICS])
def test_tell_me_more_gives_the_longer_explanation_of_the_last_topic(topic, dispatcher, domain):
    tracker = make_tracker("tell me more", intent="tell_me_more", slots={"topic": topic.id, "disclaimer_shown": True})
    ActionExplainTopic().run(dispatcher, tracker, domain)
    texts = [m.get("text") for m in dispatcher.messages]
    assert texts[:2] == [topic.explanation, topic.what_you_can_do]
    assert dispatcher.messages[2]["custom"]["part"] == "explanation"


def test_tell_me_more_about_another_topic_answers_that_topic(dispatcher, domain):
    tracker = make_tracker(
        "tell me more about the parasites", intent="tell_me_more", slots={"topic": "causes"},
    )
    events = ActionExplainTopic().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == CONTENT.topics["parasites"].short_answer
    assert slot_events(events)["topic"] == "parasites"


def test_tell_me_more_with_no_topic_yet_asks_what_about(dispatcher, domain):
    ActionExplainTopic().run(dispatcher, make_tracker("why?", intent="tell_me_more"), domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_first"


def test_greet_then_disclaimer(dispatcher, domain):
    ActionGreet().run(dispatcher, make_tracker("hi", intent="greet"), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet", "utter_disclaimer"]


SIGN_MESSAGES = {
    "en": {
        "jaundice": "my eyes look yellow",
        "fever_with_pain": "I have a fever and pain under my right ribs",
        "severe_pain": "severe pain in my belly",
        "vomiting_blood": "I vomited blood",
        "black_or_bloody_stools": "my stools are black",
        "confusion": "my dad seems confused",
        "weight_loss": "I have lost 8 kg without trying",
        "dark_urine_pale_stools": "my pee is dark brown",
    },
    "zh": {
        "jaundice": "这两天眼睛发黄",
        "fever_with_pain": "发烧39度，右边肋骨下面疼",
        "severe_pain": "肚子疼得受不了",
        "vomiting_blood": "今天早上吐血了",
        "black_or_bloody_stools": "大便是黑色的",
        "confusion": "我爸今天说胡话，认不出人",
        "weight_loss": "没减肥，两个月瘦了十几斤",
        "dark_urine_pale_stools": "小便像浓茶一样",
    },
}


@pytest.mark.parametrize("language, sign_id", [(language, sign.id) for language in SIGN_MESSAGES for sign in CONTENT.red_flags.signs])
def test_warning_is_the_first_thing_said_naming_the_sign_in_the_language(language, sign_id, dispatcher, domain):
    red_flags = LIBRARY.content(language).red_flags
    sign = next(sign for sign in red_flags.signs if sign.id == sign_id)
    tracker = make_tracker(SIGN_MESSAGES[language][sign_id], intent="report_red_flag", slots={"language": language},
                           ranking=[{"name": "report_red_flag", "confidence": 1.0}])
    ActionTriageRedFlags().run(dispatcher, tracker, domain)
    first = dispatcher.messages[0]
    assert first["text"] == red_flags.warning([sign])
    assert sign.name in first["text"] and red_flags.levels[sign.level] in first["text"]
    assert first["custom"] == {"alert": "red_flag", "signs": [sign.id]}
    assert dispatcher.messages[-1]["response"] == "utter_disclaimer"


def test_a_sign_written_in_another_language_is_still_warned_in_the_conversations_language(dispatcher, domain):
    tracker = make_tracker("I vomited blood", intent="report_red_flag", slots={"language": "zh"},
                           ranking=[{"name": "report_red_flag", "confidence": 1.0}])
    ActionTriageRedFlags().run(dispatcher, tracker, domain)
    chinese = LIBRARY.content("zh").red_flags
    assert dispatcher.messages[0]["text"] == chinese.warning([s for s in chinese.signs if s.id == "vomiting_blood"])


def test_warning_then_the_question_that_came_with_it(dispatcher, domain):
    tracker = make_tracker(
        "my skin is yellow, could it be cancer?", intent="report_red_flag", slots={"disclaimer_shown": True},
        ranking=[{"name": "report_red_flag", "confidence": 1.0}, {"name": "ask_cancer", "confidence": 0.8}],
    )
    ActionTriageRedFlags().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["custom"]["alert"] == "red_flag"
    assert dispatcher.messages[1]["answer"] == CONTENT.topics["cancer"].short_answer


def test_fallback_offers_likely_topics_as_buttons(dispatcher, domain):
    tracker = make_tracker(
        "parasite worm thing", intent="nlu_fallback", slots={"disclaimer_shown": True},
        ranking=[{"name": "nlu_fallback", "confidence": 0.5}, {"name": "ask_parasites", "confidence": 0.4},
                 {"name": "ask_causes", "confidence": 0.3}],
    )
    ActionSuggestTopics().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_did_you_mean"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:2] == ["/ask_parasites", "/ask_causes"] and len(payloads) <= 3


AMBIGUOUS = [{"name": "nlu_fallback", "confidence": 0.22}, {"name": "ask_vs_stones", "confidence": 0.224},
             {"name": "ask_single_multiple", "confidence": 0.218}, {"name": "inform", "confidence": 0.1}]


@pytest.mark.parametrize("in_play, explained", [("bile_duct_stones", True), ("single_multiple", True), ("cancer", False), (None, False)])
def test_ambiguous_follow_up_is_about_the_topic_in_play_when_it_is_a_likely_reading(dispatcher, domain, in_play, explained):
    slots = {"disclaimer_shown": True, "topic": in_play}
    tracker = make_tracker("so which one have i got? report says single spot", intent="nlu_fallback", slots=slots, ranking=AMBIGUOUS)
    ActionSuggestTopics().run(dispatcher, tracker, domain)
    if explained:
        assert dispatcher.messages[0]["text"] == CONTENT.topics[in_play].explanation
    else:
        assert dispatcher.messages[0]["response"] == "utter_did_you_mean"


def test_content_search_ranks_topics_by_shared_words():
    assert CONTENT.search("widened bile duct stones")[0].id == "bile_duct_stones"


def test_second_miss_in_a_row_says_what_it_can_do_and_offers_a_person(dispatcher, domain):
    tracker = make_tracker("blah blah", intent="nlu_fallback", earlier_intents=["nlu_fallback"], slots={"disclaimer_shown": True})
    ActionSuggestTopics().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_second_miss"


def test_summary_follows_the_decision_table_and_clears_the_check(dispatcher, domain):
    answers = {"scan": "ultrasound", "spots": "single", "symptoms": "no", "wide_ducts": "yes",
               "mass": "no", "liver_disease": "no", "cancer_history": "no", "parasite_area": "unknown"}
    events = ActionSummarizeCheck().run(dispatcher, make_tracker("no", intent="deny", slots=answers), domain)
    texts = [m["text"] for m in dispatcher.messages]
    rules = {rule.id: rule for rule in CONTENT.guidance.rules}
    assert texts == [CONTENT.guidance.intro, rules["wide_ducts"].message, rules["not_sure"].message, CONTENT.guidance.closing]
    assert dispatcher.messages[-1]["custom"]["rules"] == ["wide_ducts", "not_sure"]
    slots = slot_events(events)
    assert slots["check_answers"] == answers and slots["wide_ducts"] is None


def test_feedback_is_recorded_with_the_topic(dispatcher, domain):
    events = ActionRecordFeedback().run(dispatcher, make_tracker("not helpful", intent="feedback_unhelpful", slots={"topic": "cancer"}), domain)
    assert slot_events(events)["feedback"] == {"topic": "cancer", "helpful": False}
    assert dispatcher.messages[0]["response"] == "utter_feedback_sorry"
