"""Forged, stale and replayed webhooks are refused and not processed: the
clinic connector (timestamped signature, message ids) and Telegram (secret token)."""
import json
import time

import pytest
import requests

from tests.security.conftest import CLINIC_SECRET_PREVIOUS, TELEGRAM_SECRET, new_id

TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def body(sender: str, text: str = "is it dangerous?", **extra) -> bytes:
    return json.dumps(dict({"sender": sender, "message": text}, **extra)).encode()


def test_a_signed_fresh_message_is_accepted_and_answered(clinic):
    sender = new_id("clinic")
    assert clinic.clinic(body(sender, message_id=new_id("m"))).status_code == 200
    assert clinic.wait_for_user_texts(sender, 1) == ["is it dangerous?"]


@pytest.mark.parametrize("age", [301, 3600, -301], ids=["just-over-5-minutes", "an-hour", "from-the-future"])
def test_a_stale_message_is_refused_and_not_processed(clinic, age):
    sender = new_id("stale")
    refused = clinic.clinic(body(sender, message_id=new_id("m")), timestamp=str(int(time.time()) - age))
    assert refused.status_code == 401 and "X-Clinic-Timestamp" in refused.json()["error"]
    assert clinic.clinic(body(sender, "hello", message_id=new_id("m"))).status_code == 200
    assert clinic.wait_for_user_texts(sender, 1) == ["hello"]


@pytest.mark.parametrize("timestamp", ["", "soon", "1e9", "0x65a0bc00"])
def test_a_message_with_an_unreadable_timestamp_is_refused(clinic, timestamp):
    assert clinic.clinic(body(new_id("ts")), timestamp=timestamp).status_code == 401


def test_a_replayed_message_id_is_refused_and_stored_once(clinic):
    sender, message_id = new_id("replay"), new_id("m")
    assert clinic.clinic(body(sender, message_id=message_id)).status_code == 200
    clinic.wait_for_user_texts(sender, 1)
    # The captured request sent again, and the same id re-signed a second later.
    time.sleep(1)
    replay = clinic.clinic(body(sender, message_id=message_id))
    assert replay.status_code == 409 and message_id in replay.json()["error"]
    assert clinic.clinic(body(sender, "hello", message_id=new_id("m"))).status_code == 200
    assert clinic.wait_for_user_texts(sender, 2) == ["is it dangerous?", "hello"]


def test_an_identical_request_without_message_id_is_refused(clinic):
    sender, now = new_id("replay"), str(int(time.time()))
    first = clinic.clinic(body(sender), timestamp=now)
    assert first.status_code == 200
    assert clinic.clinic(body(sender), timestamp=now).status_code == 409
    time.sleep(2)
    assert clinic.user_texts(sender) == ["is it dangerous?"]


def test_the_previous_secret_is_accepted_while_rotating(clinic):
    sender = new_id("rotate")
    assert clinic.clinic(body(sender, message_id=new_id("m")), secret=CLINIC_SECRET_PREVIOUS).status_code == 200
    assert clinic.clinic(body(sender, message_id=new_id("m")), secret="a-guessed-secret").status_code == 401
    assert clinic.wait_for_user_texts(sender, 1) == ["is it dangerous?"]


def test_replies_to_the_clinic_are_signed_with_a_fresh_timestamp_and_an_id(clinic):
    sender = new_id("reply")
    assert clinic.clinic(body(sender, message_id=new_id("m"))).status_code == 200
    deadline = time.time() + 30
    while time.time() < deadline and not any(b["recipient_id"] == sender for b in clinic.callbacks.bodies):
        time.sleep(0.2)
    reply = next(b for b in clinic.callbacks.bodies if b["recipient_id"] == sender)
    assert reply["message_id"] and reply["messages"]


def telegram_update(chat: int, text: str = "is it dangerous?") -> dict:
    return {"update_id": chat, "message": {"message_id": 1, "date": int(time.time()), "text": text,
                                            "from": {"id": chat, "is_bot": False, "first_name": "Pat"},
                                            "chat": {"id": chat, "type": "private"}}}


def telegram(clinic, update, secret=TELEGRAM_SECRET) -> requests.Response:
    headers = {TELEGRAM_HEADER: secret} if secret is not None else {}
    return requests.post(f"{clinic.base}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def sent_to(clinic, chat: int) -> list:
    calls = [json.loads(line) for line in clinic.outbound.read_text().splitlines()]
    return [c for c in calls if c["method"] == "sendMessage" and str(c["data"]["chat_id"]) == str(chat)]


def test_telegram_webhook_was_registered_with_the_secret_token(clinic):
    first = json.loads(clinic.outbound.read_text().splitlines()[0])
    assert first["method"] == "setWebhook" and first["data"]["secret_token"] == TELEGRAM_SECRET


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x", "ünï"],
                         ids=["unsigned", "empty", "wrong", "longer", "non-ascii"])
def test_an_update_without_the_secret_token_is_refused_and_not_processed(clinic, secret):
    chat = int(time.time() * 1000) % 10**9
    refused = telegram(clinic, telegram_update(chat), secret)
    assert refused.status_code == 401
    assert telegram(clinic, telegram_update(chat, "hello")).status_code == 200
    assert clinic.user_texts(str(chat)) == ["hello"]
    assert sent_to(clinic, chat)


def test_telegram_set_webhook_cannot_be_called_from_outside(clinic):
    assert requests.get(f"{clinic.base}/webhooks/telegram/set_webhook", timeout=30).status_code == 404


@pytest.mark.parametrize("update", [b"not json", b"[1, 2]", b'{"update_id": 5}',
                                    b'{"message": {"chat": {"id": 5}, "text": 7}}',
                                    b'{"message": {"chat": "x", "text": "hi"}}'])
def test_a_signed_but_broken_update_gets_400(clinic, update):
    reply = requests.post(f"{clinic.base}/webhooks/telegram/webhook", data=update,
                          headers={TELEGRAM_HEADER: TELEGRAM_SECRET, "Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 400
