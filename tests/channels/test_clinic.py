"""The clinic connector against the real servers: signed messages answered at
the callback URL (signature checked by the receiver), unsigned ones refused,
numbered options in text mode, the full reply in JSON mode."""
import json
import time
import uuid

import pytest
import yaml

from content_model import load_library
from connectors.clinic import sign
from connectors.text_only import SMS_MAX_CHARS
from tests.channels.conftest import CLINIC_SECRET, ROOT

CONTENT = load_library().content("en")
DANGEROUS = CONTENT.topics["dangerous"]
THANKS = "Thank you. I'm glad it helped."
DOMAIN_RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def new_sender(prefix: str = "patient") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user_texts(tracker: dict) -> list:
    return [event["text"] for event in tracker["events"] if event["event"] == "user"]


def texts(reply: dict) -> list:
    return [message["text"] for message in reply["messages"]]


def test_signed_message_is_answered_at_the_callback_url_as_text_with_numbered_options(assistant):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "is it dangerous?", "message_id": "portal-17"}).encode()
    accepted = assistant.signed(body)
    assert accepted.status_code == 200 and accepted.json() == {"status": "accepted"}

    reply = assistant.callbacks.wait_for(sender)  # checks the callback's signature
    assert reply["in_reply_to"] == "portal-17"
    said = texts(reply)
    assert said[0] == f"{DANGEROUS.short_answer}\nReply 1: This helped\nReply 2: This did not help"
    # The source line (split if too long for SMS), then the related questions numbered on from 3.
    assert said[1].startswith("Source: ")
    related = [CONTENT.topics[topic].question for topic in DANGEROUS.related]
    assert "\n".join(f"Reply {number}: {question}" for number, question in enumerate(related, start=3)) in said[-2]
    assert all(set(message) == {"recipient_id", "text"} for message in reply["messages"])  # no custom payloads
    assert all(len(text) <= SMS_MAX_CHARS for text in said)


@pytest.mark.parametrize(
    "signature_of",
    [
        lambda body, now: None,
        lambda body, now: "",
        lambda body, now: "0" * 64,
        lambda body, now: sign("not-the-secret", now, body),
        lambda body, now: "sha256=" + sign(CLINIC_SECRET, now, body),
        lambda body, now: "ünïcode",
        lambda body, now: sign(CLINIC_SECRET, str(int(now) + 1), body),
    ],
    ids=["unsigned", "empty", "zeros", "other-secret", "prefixed", "non-ascii", "other-timestamp"],
)
def test_unsigned_or_wrongly_signed_message_gets_401_and_is_not_processed(assistant, signature_of):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "could it be cancer?"}).encode()
    now = str(int(time.time()))
    refused = assistant.clinic(body, signature_of(body, now), now)
    assert refused.status_code == 401
    assert "X-Clinic-Signature" in refused.json()["error"]
    # A signed message from the same patient: by the time it is answered, the
    # refused one would have been handled and stored too.
    assert texts(assistant.say(sender, "hello"))
    assert user_texts(assistant.tracker(sender)) == ["hello"]


def test_signature_of_another_body_is_refused(assistant):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "hello"}).encode()
    tampered = json.dumps({"sender": sender, "message": "/restart"}).encode()
    now = str(int(time.time()))
    assert assistant.clinic(tampered, sign(CLINIC_SECRET, now, body), now).status_code == 401


@pytest.mark.parametrize(
    "body, problem",
    [
        (b"{not json", "not valid JSON"),
        (b'["hello"]', "JSON object"),
        (b'{"message": "hello"}', "'sender'"),
        (b'{"sender": "  ", "message": "hello"}', "'sender'"),
        (b'{"sender": "p-400"}', "'message'"),
        (b'{"sender": "p-400", "message": 5}', "'message'"),
        (b'{"sender": "p-400", "message": "hello", "message_id": 7}', "'message_id'"),
    ],
)
def test_signed_but_malformed_message_gets_400_naming_the_problem(assistant, body, problem):
    refused = assistant.signed(body)
    assert refused.status_code == 400
    assert problem in refused.json()["error"]


def test_replying_with_a_number_picks_that_option(assistant):
    sender = new_sender()
    assistant.say(sender, "is it dangerous?")
    # Options 1-2 are the feedback buttons, 3 the first related question.
    first_related = CONTENT.topics[DANGEROUS.related[0]]
    assert texts(assistant.say(sender, "3"))[0].startswith(first_related.short_answer)
    assert texts(assistant.say(sender, " 1 ")) == [THANKS]
    tracker = assistant.tracker(sender)
    assert tracker["slots"]["feedback"] == {"topic": first_related.id, "helpful": True}
    # The thanks offered no options: a number is now just text.
    assistant.say(sender, "2")
    tracker = assistant.tracker(sender)
    offered = {button["title"]: button["payload"]
               for event in tracker["events"] if event["event"] == "bot"
               for button in (event.get("data") or {}).get("buttons") or []}
    assert user_texts(tracker) == ["is it dangerous?", offered[first_related.question], "/feedback_helpful", "2"]


def test_failed_delivery_is_retried(assistant):
    sender = new_sender("flaky")  # the receiver answers its first delivery with 503
    assert texts(assistant.say(sender, "hello"))
    assert sender in assistant.callbacks.refused


def test_json_replies_carry_buttons_and_custom_payloads(json_clinic):
    sender = new_sender()
    reply = json_clinic.say(sender, "is it dangerous?")
    messages = reply["messages"]
    assert messages[0]["text"] == DANGEROUS.short_answer
    assert [button["payload"] for button in messages[0]["buttons"]] == ["/feedback_helpful", "/feedback_unhelpful"]
    assert messages[1]["text"] == f"Source: {CONTENT.source_line(DANGEROUS)}"
    assert [button["title"] for button in messages[1]["buttons"]] == [
        CONTENT.topics[topic].question for topic in DANGEROUS.related
    ]
    assert any(message.get("custom", {}).get("topic") == "dangerous" for message in messages)
    # Numbers are not options in JSON mode: the clinic's own system shows the buttons.
    json_clinic.say(sender, "1")
    assert user_texts(json_clinic.tracker(sender))[-1] == "1"


def test_json_replies_carry_the_red_flag_alert(json_clinic):
    reply = json_clinic.say(new_sender(), "my eyes turned yellow")
    alerts = [message["custom"] for message in reply["messages"] if "alert" in message.get("custom", {})]
    assert alerts and alerts[0]["alert"] == "red_flag"


def test_a_chinese_message_is_answered_in_chinese_with_the_language_and_chinese_options(assistant):
    chinese = load_library().content("zh")
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "肝内钙化灶危险吗？"}, ensure_ascii=False).encode()
    assert assistant.signed(body).status_code == 200
    reply = assistant.callbacks.wait_for(sender)
    assert reply["language"] == "zh"
    said = texts(reply)
    helped, unhelpful = [button["title"] for button in next(
        variant for variant in DOMAIN_RESPONSES["utter_answer"] if variant.get("condition"))["buttons"]]
    assert said[0] == f"{chinese.topics['dangerous'].short_answer}\n回复1：{helped}\n回复2：{unhelpful}"
    assert all(len(text) <= 134 for text in said)  # UCS-2: two SMS parts of 67
