"""Rasa's Telegram channel, with updates verified as coming from Telegram.

In credentials.yml (written by `connectors/credentials.py` from the TELEGRAM_*
variables):

    connectors.telegram.TelegramInput:
      access_token: ${TELEGRAM_TOKEN}
      verify: ${TELEGRAM_VERIFY}
      webhook_url: ${TELEGRAM_WEBHOOK_URL}
      secret_token: ${TELEGRAM_SECRET_TOKEN}

Rasa 3.6's TelegramInput accepts any POST to its webhook as an update, and
anyone can call its GET /set_webhook. Here:
- The webhook is registered at start with Telegram's `secret_token`, and
  every update must carry it in `X-Telegram-Bot-Api-Secret-Token`; others get
  401 and are dropped. (Rasa's aiogram 2.15 predates the parameter, so
  setWebhook is called with it directly.)
- /set_webhook is gone (404): the webhook is set when the server starts.
- A body that is not an update Rasa's channel can handle (a JSON object with
  a message, edited message or button tap, its chat and its text) gets 400
  instead of a server error.
- Rate limits (connectors/limits.py): refused updates are charged to their
  client address, verified ones to their chat; over a limit, 429 and nothing
  is stored (Telegram delivers the update again later).
- Messages sent through Rasa's HTTP API (staff replies, the hand back) go
  out with the channel's one Telegram client; the webhook is registered once,
  at start. A staff reply starts with who sent it (connectors/text_only.py).
The channel keeps the name "telegram": POST /webhooks/telegram/webhook.

Rotating the secret: set a new TELEGRAM_SECRET_TOKEN (1-256 characters of
A-Z, a-z, 0-9, _ and -) and restart; the server registers the webhook with
the new secret as it starts. Updates Telegram sent with the old one in the
seconds of the restart are refused and redelivered by Telegram.
"""
import asyncio
import hmac
import json
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from aiogram.types import Update
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels import telegram
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.limits import limiter, refuse_address, refuse_conversation
from connectors.replies import answer
from connectors.rest import conversation_id_ok
from connectors.text_only import with_staff_name

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What Telegram accepts as a secret_token.
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")


def chat_id(update: Dict[Text, Any]) -> Optional[Text]:
    """The chat of an update Rasa's channel can handle: a button tap, an
    edited message or a message, whose text (or button data) is text; else None."""
    for path, text_key in ((("callback_query",), "data"), (("edited_message",), "text"), (("message",), "text")):
        part = update.get(path[0])
        if part is None:
            continue
        message = part.get("message") if path[0] == "callback_query" and isinstance(part, dict) else part
        chat = message.get("chat") if isinstance(message, dict) else None
        text = part.get(text_key) if isinstance(part, dict) else None
        if not isinstance(chat, dict) or not isinstance(chat.get("id"), (int, str)) \
                or not conversation_id_ok(str(chat["id"])):
            return None
        if text is not None and not isinstance(text, str):
            return None
        return str(chat["id"])
    return None


class TelegramOutput(telegram.TelegramOutput):
    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(recipient_id, with_staff_name(message))


class TelegramInput(telegram.TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        secret = str(credentials.get("secret_token") or "")
        if not SECRET_FORMAT.fullmatch(secret):
            raise RasaException("The Telegram channel needs 'secret_token' (TELEGRAM_SECRET_TOKEN): "
                                "1-256 characters of A-Z, a-z, 0-9, _ and -.")
        return cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
                   secret)

    def __init__(self, access_token: Optional[Text], verify: Optional[Text], webhook_url: Optional[Text],
                 secret_token: Text) -> None:
        # Not debug mode: Rasa's channel would re-raise a failed answer as a 500.
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.output: Optional[TelegramOutput] = None
        limiter()  # read now: a broken limit setting stops the server at start

    def get_output_channel(self) -> TelegramOutput:
        # First called by Rasa's blueprint at start, which registers the webhook; the
        # HTTP API calls it again for each message it sends, in the running loop.
        if self.output is None:
            channel = TelegramOutput(self.access_token)
            try:
                # asyncio.run, as Rasa's own channel does: the server's loop is not running yet.
                asyncio.run(channel.request("setWebhook", {"url": self.webhook_url, "secret_token": self.secret_token}))
            except TelegramAPIError as error:
                raise RasaException("Failed to set channel webhook: " + str(error)) from error
            self.output = channel
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = super().blueprint(lambda message: answer(on_new_message, message))

        @telegram_webhook.middleware("request")
        async def verify(request: Request) -> Optional[HTTPResponse]:
            if request.path.rstrip("/").endswith("/set_webhook"):
                return response.json({"error": "not found"}, status=404)
            if not request.path.rstrip("/").endswith("/webhook") or request.method != "POST":
                return None
            given = (request.headers.get(SECRET_HEADER) or "").encode("ascii", "replace")
            if not hmac.compare_digest(given, self.secret_token.encode()):
                return refuse_address(request) or response.json({"error": f"missing or wrong {SECRET_HEADER}"},
                                                                status=401)
            try:
                update = json.loads(request.body)
            except ValueError:
                update = None
            chat = chat_id(update) if isinstance(update, dict) else None
            try:
                Update(**update)
            except Exception:
                chat = None
            if chat is None:
                return response.json({"error": "not a Telegram update with a chat and text"}, status=400)
            return refuse_conversation(chat)

        return telegram_webhook
