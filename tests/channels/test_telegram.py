"""Telegram against the real servers: Telegram's update JSON posted to the
webhook. Rasa 3.6's TelegramInput calls the Bot API while starting (setWebhook)
and for every message (getMe, to compare the bot's username with `verify`), so
it cannot run offline: fake_messaging_apis.py answers those calls and records
sendMessage (the one mocked call: Telegram's Bot API)."""
import json
import time
import uuid

import requests

from content_model import load_library
from tests.channels.conftest import TELEGRAM

CONTENT = load_library().content("en")


def new_chat() -> int:
    return 700_000_000 + uuid.uuid4().int % 10**8


def user(chat_id: int) -> dict:
    return {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}


def text_update(chat_id: int, text: str) -> dict:
    """The update Telegram posts when a person writes to the bot."""
    return {
        "update_id": uuid.uuid4().int % 10**9,
        "message": {"message_id": 11, "from": user(chat_id), "date": int(time.time()), "text": text,
                    "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}},
    }


def button_update(chat_id: int, payload: str) -> dict:
    """The update Telegram posts when a person taps an inline button."""
    return {
        "update_id": uuid.uuid4().int % 10**9,
        "callback_query": {
            "id": str(uuid.uuid4().int % 10**18), "from": user(chat_id), "chat_instance": "-48151623",
            "data": payload,
            "message": {"message_id": 12, "date": int(time.time()), "text": "Source: ...",
                        "from": {"id": 4242, "is_bot": True, "first_name": "Clinic assistant",
                                 "username": TELEGRAM["TELEGRAM_VERIFY"]},
                        "chat": {"id": chat_id, "first_name": "Pat", "type": "private"}},
        },
    }


def post(assistant, update: dict) -> requests.Response:
    """Posts `update` as Telegram does, with the webhook's secret token."""
    return requests.post(f"{assistant.base}/webhooks/telegram/webhook", json=update, timeout=60,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM["TELEGRAM_SECRET_TOKEN"]})


def sent_to(assistant, chat_id: int) -> list:
    return [call["data"] for call in assistant.outbound("telegram")
            if call["method"] == "sendMessage" and str(call["data"]["chat_id"]) == str(chat_id)]


def test_webhook_was_set_at_start(assistant):
    calls = assistant.outbound("telegram")
    assert calls[0]["method"] == "setWebhook"
    assert calls[0]["data"]["url"] == TELEGRAM["TELEGRAM_WEBHOOK_URL"]
    assert calls[0]["data"]["secret_token"] == TELEGRAM["TELEGRAM_SECRET_TOKEN"]


def test_question_is_answered_with_inline_buttons_and_a_tap_answers_the_related_question(assistant):
    chat = new_chat()
    reply = post(assistant, text_update(chat, "is it dangerous?"))
    assert reply.status_code == 200 and reply.text == "success"
    dangerous = CONTENT.topics["dangerous"]
    messages = sent_to(assistant, chat)
    assert messages[0]["text"] == dangerous.short_answer
    keyboard = json.loads(messages[0]["reply_markup"])["inline_keyboard"]
    assert [button["callback_data"] for row in keyboard for button in row] == ["/feedback_helpful", "/feedback_unhelpful"]
    source = next(message for message in messages if message["text"].startswith("Source: "))
    related = [button for row in json.loads(source["reply_markup"])["inline_keyboard"] for button in row]
    assert [button["text"] for button in related] == [CONTENT.topics[t].question for t in dangerous.related]

    post(assistant, button_update(chat, related[0]["callback_data"]))
    assert sent_to(assistant, chat)[len(messages)]["text"] == CONTENT.topics[dangerous.related[0]].short_answer
