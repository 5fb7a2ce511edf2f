"""Each message is answered in the language it is written in, over the real servers."""
import uuid

import pytest
import requests

from content_model import load_library

LIBRARY = load_library()
ENGLISH, CHINESE = LIBRARY.content("en"), LIBRARY.content("zh")


def say(servers, sender, text, metadata=None):
    body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
    response = requests.post(servers.rest_url, json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def texts(replies):
    return [reply.get("text") for reply in replies if reply.get("text")]


def new_patient():
    return f"patient-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("question, topic", [
    ("肝上有个钙化点，要紧吗", "dangerous"),
    ("肝内钙化灶需要治疗吗", "treatment"),
    ("多久复查一次", "rescan_interval"),
    ("钙化灶会不会变成癌", "cancer"),
])
def test_a_chinese_question_gets_the_chinese_answer_source_and_disclaimer(servers, question, topic):
    replies = texts(say(servers, new_patient(), question))
    answer = CHINESE.topics[topic]
    assert replies[0] == answer.short_answer
    assert f"来源：{CHINESE.source_line(answer)}" in replies
    disclaimer = [text for text in replies if "电脑" in text or "诊断" in text]
    assert disclaimer, replies


def test_the_language_follows_each_message_and_short_replies_keep_it(servers):
    patient = new_patient()
    assert texts(say(servers, patient, "is it dangerous?"))[0] == ENGLISH.topics["dangerous"].short_answer
    assert texts(say(servers, patient, "需要治疗吗"))[0] == CHINESE.topics["treatment"].short_answer
    # "why?" in no particular language: the conversation's language stays Chinese.
    assert texts(say(servers, patient, "??"))[0] != ENGLISH.topics["treatment"].explanation
    assert texts(say(servers, patient, "English please"))[0].startswith("OK, I will answer in English")
    assert texts(say(servers, patient, "/ask_cancer"))[0] == ENGLISH.topics["cancer"].short_answer


def test_the_widget_language_decides_a_first_message_too_short_to_tell(servers):
    assert texts(say(servers, new_patient(), "ok", metadata={"language": "zh"}))[0] != texts(say(servers, new_patient(), "ok"))[0]
    # The widget's first, unseen message names its language (a payload skips language detection).
    assert texts(say(servers, new_patient(), '/greet{"language": "zh"}'))[0].startswith("你好")


def test_a_warning_sign_in_chinese_is_warned_first_in_chinese(servers):
    replies = say(servers, new_patient(), "我有肝内钙化灶，这两天眼睛发黄，多久复查一次？")
    jaundice = [sign for sign in CHINESE.red_flags.signs if sign.id == "jaundice"]
    assert replies[0]["text"] == CHINESE.red_flags.warning(jaundice)
    assert replies[1]["custom"] == {"alert": "red_flag", "signs": ["jaundice"]}
    assert CHINESE.topics["rescan_interval"].short_answer in texts(replies)


def test_a_warning_sign_in_english_inside_a_chinese_conversation_is_still_warned(servers):
    patient = new_patient()
    say(servers, patient, "肝内钙化灶是什么")
    replies = say(servers, patient, "I vomited blood this morning")
    assert any((reply.get("custom") or {}).get("alert") == "red_flag" for reply in replies)


def test_what_to_do_after_a_warning_gets_the_warning_again(servers):
    patient = new_patient()
    first = say(servers, patient, "我眼睛发黄了")
    again = say(servers, patient, "那我该怎么办")
    assert again[0]["text"] == first[0]["text"]
