"""A hand-off to the clinic team on every channel, against the real servers:
the patient asks for a person (the clinic is closed: they are told when staff
will answer), writes while waiting (silence), gives a warning sign (its advice
at once, stored), staff reply through Rasa's HTTP API (the reply reaches the
patient on their channel, marked as the clinic team's), staff hand back (the
assistant says so, in the patient's language) and the next question is
answered. The clinic's systems are local recorders (fake_messaging_apis.py
for Twilio and Telegram, the callback receiver for the clinic connector)."""
import datetime
import json
import queue
import time
import uuid
from typing import Any, Dict, List

import pytest
import requests
import socketio
from twilio.request_validator import RequestValidator

from connectors.clinic import sign
from tests.channels.conftest import CLINIC_SECRET, TELEGRAM, TOKEN, TWILIO
from tests.channels.test_sms import inbound, new_phone, sms_to
from tests.channels.test_telegram import sent_to, text_update

FIRST = {"en": "is it dangerous?", "zh": "肝上有个钙化点，要紧吗"}
NEXT = {"en": "could it be cancer?", "zh": "会不会是癌？"}
WAITING = {"en": "hello? is anyone there?", "zh": "有人在吗"}
SIGN = {"en": "I vomited blood this morning", "zh": "今天早上吐血了"}
REPLY = {"en": "Hello, this is Ana, a nurse at the clinic. How can I help?", "zh": "你好，我是诊所的护士小安。有什么可以帮你？"}
# How long to wait for a message that should not come.
QUIET_S = 1.0


class Patient:
    """One patient on one channel: `say` sends a message and returns once the
    server has handled it; `received` is every message the patient got, in order,
    as {"text": ..., "staff": custom payload of a staff reply or None}."""

    labelled = True  # a text-only channel puts the staff member's name in the text

    def __init__(self, server, language: str) -> None:
        self.server, self.language = server, language
        self.id = f"patient-{uuid.uuid4().hex[:10]}"

    def say(self, text: str) -> None:
        raise NotImplementedError

    def received(self) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def wait(self, count: int, seconds: float = 30) -> List[Dict[str, Any]]:
        """The messages received, once there are at least `count`."""
        deadline = time.time() + seconds
        while len(self.received()) < count and time.time() < deadline:
            time.sleep(0.1)
        return self.received()

    def close(self) -> None:
        pass


def as_messages(bodies: List[str]) -> List[Dict[str, Any]]:
    return [{"text": body, "staff": None} for body in bodies]


class SmsPatient(Patient):
    def __init__(self, server, language):
        super().__init__(server, language)
        self.id = new_phone()

    def say(self, text):
        url = f"{self.server.base}/webhooks/twilio/webhook"
        form = inbound(self.id, text)
        signature = RequestValidator(TWILIO["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
        assert requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60).status_code == 204

    def received(self):
        return as_messages(sms_to(self.server, self.id))


class TelegramPatient(Patient):
    def __init__(self, server, language):
        super().__init__(server, language)
        self.id = str(700_000_000 + uuid.uuid4().int % 10**8)

    def say(self, text):
        reply = requests.post(f"{self.server.base}/webhooks/telegram/webhook", json=text_update(int(self.id), text),
                              headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM["TELEGRAM_SECRET_TOKEN"]}, timeout=60)
        assert reply.status_code == 200, reply.text

    def received(self):
        return as_messages([data["text"] for data in sent_to(self.server, int(self.id))])


class ClinicPatient(Patient):
    """The clinic connector: replies arrive at the callback URL, signed; each POST is kept."""

    def __init__(self, server, language):
        super().__init__(server, language)
        self.posts: List[Dict[str, Any]] = []

    def say(self, text):
        message_id = uuid.uuid4().hex
        body = json.dumps({"sender": self.id, "message": text, "message_id": message_id}).encode()
        assert self.server.signed(body).json() == {"status": "accepted"}
        # Handled once the conversation holds the message (Rasa stores a turn at its end),
        # and a warning while paused has been sent or none is coming.
        deadline = time.time() + 30
        while not any(event.get("message_id") == message_id for event in self.server.tracker(self.id)["events"]):
            assert time.time() < deadline, "the clinic message was not stored"
            time.sleep(0.1)
        time.sleep(QUIET_S)

    def received(self):
        for delivery in list(self.server.callbacks.deliveries):
            payload = json.loads(delivery["body"])
            if payload["recipient_id"] != self.id:
                continue
            self.server.callbacks.deliveries.remove(delivery)
            assert delivery["signature"] == sign(CLINIC_SECRET, delivery["timestamp"], delivery["body"])
            self.posts.append(payload)
        messages: List[Dict[str, Any]] = []
        for payload in self.posts:
            for message in payload["messages"]:
                if "text" in message:
                    messages.append({"text": message["text"], "staff": None})
                elif (message.get("custom") or {}).get("from") == "staff":
                    messages[-1]["staff"] = message["custom"]  # JSON replies: the label follows its text
        return messages


class ClinicTextPatient(ClinicPatient):
    labelled = True


class ClinicJsonPatient(ClinicPatient):
    labelled = False


class RestPatient(Patient):
    labelled = False

    def __init__(self, server, language):
        super().__init__(server, language)
        self.messages: List[Dict[str, Any]] = []

    def say(self, text):
        reply = requests.post(f"{self.server.base}/webhooks/rest/webhook", json={"sender": self.id, "message": text},
                              timeout=60)
        assert reply.status_code == 200, reply.text
        for message in reply.json():
            if "text" in message:
                self.messages.append({"text": message["text"], "staff": None})
            elif (message.get("custom") or {}).get("from") == "staff":
                self.messages[-1]["staff"] = message["custom"]

    def received(self):
        return list(self.messages)


class WidgetPatient(Patient):
    """The web widget's socket.io session (python-socketio's client, as tests/browser do)."""

    labelled = False

    def __init__(self, server, language):
        super().__init__(server, language)
        self.events: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.turns: "queue.Queue[Any]" = queue.Queue()
        self.messages: List[Dict[str, Any]] = []
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("session_confirm", confirmed.put)
        self.client.on("bot_uttered", self.events.put)
        self.client.on("turn_end", self.turns.put)
        self.client.connect(server.base, transports=["websocket"], wait_timeout=10)
        self.client.emit("session_request", {"session_id": self.id})
        assert confirmed.get(timeout=10) == self.id

    def say(self, text):
        self.client.emit("user_uttered", {"message": text, "session_id": self.id})
        self.turns.get(timeout=60)

    def received(self):
        while not self.events.empty():
            event = self.events.get()
            if "text" in event:
                custom = event.get("custom") or {}
                self.messages.append({"text": event["text"], "staff": custom if custom.get("from") == "staff" else None})
        return list(self.messages)

    def close(self):
        self.client.disconnect()


CHANNELS = {"sms": SmsPatient, "telegram": TelegramPatient, "clinic-text": ClinicTextPatient,
            "clinic-json": ClinicJsonPatient, "rest": RestPatient, "widget": WidgetPatient}


@pytest.fixture
def patient(request, assistant, json_clinic):
    channel, language = request.param
    server = json_clinic if channel == "clinic-json" else assistant
    created = CHANNELS[channel](server, language)
    yield created
    created.close()


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message["text"] for message in messages]


def topic_answer(library, language: str, text: str) -> str:
    return library.content(language).topics[{"is it dangerous?": "dangerous", "肝上有个钙化点，要紧吗": "dangerous",
                                              "could it be cancer?": "cancer", "会不会是癌？": "cancer"}[text]].short_answer


@pytest.mark.parametrize("patient", [(channel, language) for channel in CHANNELS for language in ("en", "zh")],
                         indirect=True, ids=lambda param: "-".join(param))
def test_hand_off_staff_reply_and_hand_back_on_the_patients_channel(patient, closed_clinic):
    library, language, server = closed_clinic.library, patient.language, patient.server
    content = library.content(language)

    patient.say(FIRST[language])
    answered = patient.wait(1)
    assert answered[0]["text"].startswith(topic_answer(library, language, FIRST[language]))

    # Asks for a person while the clinic is closed: told when staff answer, and waits in the queue.
    before = len(patient.received())
    patient.say("/request_human")
    told = patient.wait(before + 1)[before:]
    assert texts(told) == [library.waiting_for_staff(language, datetime.datetime.now(library.hours.timezone))]
    assert library.hours.phone in told[0]["text"]
    assert server.tracker(patient.id)["paused"] is True

    # Writing while waiting: stored, no reply.
    before = len(patient.received())
    patient.say(WAITING[language])
    time.sleep(QUIET_S)
    assert len(patient.received()) == before

    # A warning sign while waiting: its advice at once, in the conversation, still waiting.
    patient.say(SIGN[language])
    sign = next(sign for sign in content.red_flags.signs if sign.id == "vomiting_blood")
    assert texts(patient.wait(before + 1)[before:]) == [content.red_flags.warning([sign])]
    tracker = server.tracker(patient.id)
    assert tracker["paused"] is True and tracker["slots"]["warned"] == ["vomiting_blood"]
    assert {"alert": "red_flag", "signs": ["vomiting_blood"]} in [
        (event.get("data") or {}).get("custom") for event in tracker["events"] if event["event"] == "bot"]

    # A staff reply reaches the patient, marked as the clinic team's (REST: with the next message).
    before = len(patient.received())
    server.staff_reply(patient.id, REPLY[language], name="Ana")
    if not isinstance(patient, RestPatient):
        reply = patient.wait(before + 1)[before:]
        if patient.labelled:
            assert texts(reply) == [content.clinic["staff_says"].format(name="Ana", text=REPLY[language])]
        else:
            assert reply == [{"text": REPLY[language], "staff": {"from": "staff", "name": "Ana"}}]
    if isinstance(patient, ClinicPatient):
        assert patient.posts[-1]["in_reply_to"] is None and patient.posts[-1]["language"] == language

    # Handed back: the assistant says so in the patient's language, then answers again.
    server.hand_back(patient.id)
    assert server.tracker(patient.id)["paused"] is False
    if not isinstance(patient, RestPatient):
        assert texts(patient.wait(before + 2)[before + 1:]) == [content.clinic["handed_back"]]
    patient.say(NEXT[language])
    after = patient.wait(before + 3)[before:]
    if isinstance(patient, RestPatient):  # what staff sent comes first in the response to the next message
        assert after[:2] == [{"text": REPLY[language], "staff": {"from": "staff", "name": "Ana"}},
                             {"text": content.clinic["handed_back"], "staff": None}]
    assert after[2]["text"].startswith(topic_answer(library, language, NEXT[language]))

    # Stored as the staff's message, with who sent it.
    staff_events = [event for event in server.tracker(patient.id)["events"]
                    if event["event"] == "bot" and (event.get("metadata") or {}).get("staff")]
    assert [(event["text"], event["metadata"]["staff"]) for event in staff_events] == [(REPLY[language], "ana")]


def test_a_conversation_waiting_overnight_still_waits_in_its_language(assistant, closed_clinic):
    """Rasa starts a new session after an hour without a patient message, which
    would unpause the conversation and forget its language (action_session_start
    keeps both): the staff reply the next morning, the patient's next message and
    the hand back all happen in a new session."""
    content = closed_clinic.library.content("zh")
    patient = RestPatient(assistant, "zh")
    evening = time.time() - 14 * 3600
    asked = [{"event": "user", "text": "我想找护士问问", "timestamp": evening, "input_channel": "rest",
              "parse_data": {"intent": {"name": "request_human", "confidence": 1.0}, "entities": []}},
             {"event": "slot", "name": "language", "value": "zh", "timestamp": evening},
             {"event": "action", "name": "action_hand_off", "timestamp": evening},
             {"event": "pause", "timestamp": evening}]
    stored = requests.post(f"{assistant.base}/conversations/{patient.id}/tracker/events", json=asked,
                           params={"token": TOKEN}, timeout=30)
    assert stored.status_code == 200, stored.text

    assistant.staff_reply(patient.id, REPLY["zh"])
    patient.say("ok")  # too short to tell its language
    assert patient.received() == [{"text": REPLY["zh"], "staff": {"from": "staff", "name": "Ana"}}]
    tracker = assistant.tracker(patient.id)
    assert tracker["paused"] is True and tracker["slots"]["language"] == "zh"
    assert [event["event"] for event in tracker["events"]].count("session_started") == 2

    assert [message["text"] for message in assistant.hand_back(patient.id)["messages"]] == [content.clinic["handed_back"]]
