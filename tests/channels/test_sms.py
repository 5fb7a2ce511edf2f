"""Twilio SMS against the real servers: Twilio's inbound form post, signed the
way Twilio signs it; the SMS the server would send is recorded by
fake_messaging_apis.py (the one mocked call: Twilio's REST API)."""
import uuid

import requests
from twilio.request_validator import RequestValidator

from content_model import load_library
from connectors.text_only import SMS_MAX_CHARS
from tests.channels.conftest import TWILIO

CONTENT = load_library().content("en")


def new_phone() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


def inbound(phone: str, body: str) -> dict:
    """The form Twilio posts for an incoming SMS (application/x-www-form-urlencoded)."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
        "FromZip": "94105", "SmsSid": sid, "FromState": "CA", "SmsStatus": "received", "FromCity": "SAN FRANCISCO",
        "Body": body, "FromCountry": "US", "To": TWILIO["TWILIO_NUMBER"], "ToZip": "", "NumSegments": "1",
        "MessageSid": sid, "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"], "From": phone, "ApiVersion": "2010-04-01",
    }


def post(assistant, form: dict, signed: bool = True) -> requests.Response:
    url = f"{assistant.base}/webhooks/twilio/webhook"
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    return requests.post(url, data=form, headers=headers, timeout=60)


def sms_to(assistant, phone: str) -> list:
    """Bodies of the SMS the server asked Twilio to send to `phone`, oldest first."""
    sent = [call for call in assistant.outbound("twilio") if call["data"]["To"] == phone]
    for call in sent:
        assert call["method"] == "POST"
        assert call["url"].endswith(f"/Accounts/{TWILIO['TWILIO_ACCOUNT_SID']}/Messages.json")
        assert call["data"]["From"] == TWILIO["TWILIO_NUMBER"]
    return [call["data"]["Body"] for call in sent]


def test_sms_answer_has_numbered_options_and_fits_sms(assistant):
    phone = new_phone()
    assert post(assistant, inbound(phone, "is it dangerous?")).status_code == 204
    dangerous = CONTENT.topics["dangerous"]
    bodies = sms_to(assistant, phone)
    assert bodies[0] == f"{dangerous.short_answer}\nReply 1: This helped\nReply 2: This did not help"
    assert bodies[1].startswith("Source: ")
    related = [CONTENT.topics[topic].question for topic in dangerous.related]
    assert f"Reply 3: {related[0]}" in "\n".join(bodies)
    assert all(len(body) <= SMS_MAX_CHARS for body in bodies)
    assert not any("topic" in body or "{" in body for body in bodies)  # custom payloads are not sent

    # Texting back a number picks that option.
    assert post(assistant, inbound(phone, "3")).status_code == 204
    after = sms_to(assistant, phone)[len(bodies):]
    assert after[0].startswith(CONTENT.topics[dangerous.related[0]].short_answer)


def test_greeting_options_then_1_answers_the_first_question(assistant):
    phone = new_phone()
    post(assistant, inbound(phone, "hello"))
    greeting = sms_to(assistant, phone)
    assert "Reply 1: What is it?" in greeting[0]
    post(assistant, inbound(phone, "1"))
    assert sms_to(assistant, phone)[len(greeting)].startswith(CONTENT.topics["what_is"].short_answer)


def test_unsigned_or_wrongly_signed_twilio_request_gets_401_and_sends_nothing(assistant):
    phone = new_phone()
    assert post(assistant, inbound(phone, "hello"), signed=False).status_code == 401
    form = inbound(phone, "hello")
    url = f"{assistant.base}/webhooks/twilio/webhook"
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    reply = requests.post(url, data=form, headers={"X-Twilio-Signature": forged}, timeout=60)
    assert reply.status_code == 401
    assert sms_to(assistant, phone) == []
    tracker = assistant.tracker(phone)
    assert not [event for event in tracker["events"] if event["event"] == "user"]


def test_send_me_a_summary_by_sms_lists_the_topics_asked(assistant):
    phone = new_phone()
    for question in ("is it dangerous?", "do I need treatment?"):
        assert post(assistant, inbound(phone, question)).status_code == 204
    asked = len(sms_to(assistant, phone))
    assert post(assistant, inbound(phone, "send me a summary")).status_code == 204
    summary = "\n".join(sms_to(assistant, phone)[asked:])
    assert (f"1. {CONTENT.topics['dangerous'].question}\n2. {CONTENT.topics['treatment'].question}") in summary
    assert CONTENT.clinic["summary_closing"] in summary
    assert "{" not in summary  # the custom payload stays out of the SMS
