"""A patient talks to the real servers over the REST channel."""
import datetime
import os
import shutil
import subprocess
import uuid

import pytest
import requests
import yaml

from content_model import load_library
from tests.e2e.conftest import BIN, ROOT, TOKEN

LIBRARY = load_library()
CONTENT = LIBRARY.content("en")


def say(servers, sender, text):
    response = requests.post(servers.rest_url, json={"sender": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def topic_of(replies):
    return next((r["custom"]["topic"] for r in replies if "topic" in (r.get("custom") or {})), None)


def new_patient():
    return f"patient-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "question, topic",
    [
        ("I was told I have an intrahepatic calcification, what is that?", "what_is"),
        ("is it dangerous", "dangerous"),
        ("do I need treatment for the calcified spot?", "treatment"),
        ("how often should I have another ultrasound", "rescan_interval"),
        ("what causes a calcium deposit in the liver", "causes"),
        ("could this be cancer?", "cancer"),
        ("is it a bile duct stone?", "bile_duct_stones"),
        ("will it go away by itself", "go_away"),
        ("does it affect my liver function", "liver_function"),
        ("can I drink beer with this", "lifestyle"),
        ("what does acoustic shadow mean on my report", "report_words"),
        ("I have several spots, does the number matter?", "single_multiple"),
    ],
)
def test_patient_question_gets_its_curated_answer_with_source(servers, question, topic):
    replies = say(servers, new_patient(), question)
    texts = [r.get("text") for r in replies]
    assert texts[0] == CONTENT.topics[topic].short_answer
    assert f"Source: {CONTENT.source_line(CONTENT.topics[topic])}" in texts
    assert topic_of(replies) == topic
    assert any(r.get("buttons") for r in replies)


def test_context_follow_up_for_how_long(servers):
    patient = new_patient()
    assert topic_of(say(servers, patient, "how often should I get scanned?")) == "rescan_interval"
    assert topic_of(say(servers, patient, "and for how long?")) == "rescan_duration"


def test_tell_me_more_about_the_parasites_after_causes(servers):
    patient = new_patient()
    assert topic_of(say(servers, patient, "what causes it?")) == "causes"
    assert topic_of(say(servers, patient, "tell me more about the parasites")) == "parasites"
    more = say(servers, patient, "tell me more")
    assert more[0]["text"] == CONTENT.topics["parasites"].explanation


def test_disclaimer_once_per_conversation(servers):
    patient = new_patient()
    disclaimer = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_disclaimer"][0]["text"]
    first = [r.get("text") for r in say(servers, patient, "hello")]
    second = [r.get("text") for r in say(servers, patient, "is it dangerous?")]
    assert disclaimer in first and disclaimer not in second


def test_scan_buttons_send_the_scan_type_without_logging_errors(servers):
    patient = new_patient()
    buttons = next(r["buttons"] for r in say(servers, patient, "/start_check") if r.get("buttons"))
    ultrasound = next(b["payload"] for b in buttons if b["title"] == "Ultrasound")
    assert ultrasound == '/inform{"scan_type": "ultrasound"}'
    say(servers, patient, ultrasound)
    tracker = requests.get(f"{servers.base_url}/conversations/{patient}/tracker",
                           params={"token": TOKEN}, timeout=10).json()
    assert tracker["slots"]["scan"] == "ultrasound"
    assert "interpolator" not in servers.rasa_log.read_text()


def test_warning_sign_as_first_message_is_answered_first(servers):
    replies = say(servers, new_patient(), "my skin and eyes went yellow, is it the calcification?")
    assert replies[0]["text"].startswith("You mentioned yellow skin or eyes.")
    assert CONTENT.red_flags.levels["prompt"] in replies[0]["text"]


@pytest.mark.parametrize(
    "text",
    ["", " ", "a" * 10_000, "😟😟😟", "¿Es peligrosa la calcificación hepática?", "<script>alert(1)</script>"],
    ids=["empty", "blank", "10k-chars", "emoji", "spanish", "html"],
)
def test_bad_input_gets_a_polite_reply_and_the_server_stays_up(servers, text):
    replies = say(servers, new_patient(), text)
    assert replies and all(isinstance(r.get("text", ""), str) for r in replies)
    assert not any("Traceback" in (r.get("text") or "") for r in replies)
    assert topic_of(say(servers, new_patient(), "is it dangerous?")) == "dangerous"


def test_hand_off_reaches_the_webhook_and_the_bot_stays_silent_until_handed_back(servers, webhook):
    patient = new_patient()
    say(servers, patient, "could it be cancer?")
    asked = datetime.datetime.now(datetime.timezone.utc)
    replies = say(servers, patient, "can I talk to a nurse please")
    # In opening hours (content/clinic.yml) "someone will join", outside them when and the phone number.
    told = {LIBRARY.waiting_for_staff("en", moment) for moment in (asked, datetime.datetime.now(datetime.timezone.utc))}
    assert replies[0]["text"] in told

    event = next(e for e in webhook[1] if e["conversation_id"] == patient)
    assert event["questions"] == ["could it be cancer?", "can I talk to a nurse please"]

    assert say(servers, patient, "hello? anyone there?") == []

    resumed = requests.post(
        f"{servers.base_url}/conversations/{patient}/tracker/events", params={"token": TOKEN},
        json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}], timeout=30,
    )
    assert resumed.status_code == 200, resumed.text
    assert topic_of(say(servers, patient, "is it dangerous?")) == "dangerous"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_action_server_refuses_broken_content_naming_file_and_field(tmp_path, language):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    path = content / language / "topics.yml"
    topics = yaml.safe_load(path.read_text(encoding="utf-8"))
    del topics["topics"][1]["short_answer"]
    path.write_text(yaml.safe_dump(topics, allow_unicode=True), encoding="utf-8")
    result = subprocess.run(
        [BIN / "rasa", "run", "actions", "--port", "0", "--actions", "actions"],
        cwd=ROOT, env=dict(os.environ, CONTENT_DIR=str(content)), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert f"{language}/topics.yml: topic 'dangerous': field 'short_answer' is missing or empty" in result.stderr + result.stdout
