"""Runs `rasa` (arguments as for the rasa command) with the only two calls that
would leave this machine replaced: the HTTP request of Twilio's client (sending
an SMS) and the request of the Telegram bot client (setWebhook at start-up,
getMe for each message, sendMessage). Each such call is appended as a JSON line
to the file named by FAKE_API_LOG and answered the way the real API answers.
Everything else, Rasa and the channels included, is the real code."""
import itertools
import json
import os
import sys
import time
from typing import Any, Dict, Optional

import aiogram.bot.api
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

_message_ids = itertools.count(1)


def record(entry: Dict[str, Any]) -> None:
    with open(os.environ["FAKE_API_LOG"], "a") as log:
        log.write(json.dumps(entry, default=str) + "\n")


def twilio_request(self: TwilioHttpClient, method: str, url: str, params: Optional[dict] = None,
                   data: Optional[dict] = None, **kwargs: Any) -> Response:
    record({"api": "twilio", "method": method, "url": url, "data": data})
    sid = f"SM{next(_message_ids):032d}"
    reply = {"sid": sid, "account_sid": os.environ["TWILIO_ACCOUNT_SID"], "status": "queued",
             "to": data["To"], "from": data["From"], "body": data["Body"], "direction": "outbound-api"}
    return Response(201, json.dumps(reply))


async def telegram_request(session: Any, server: Any, token: str, method: str,
                           data: Optional[dict] = None, files: Any = None, **kwargs: Any) -> Any:
    record({"api": "telegram", "method": method, "data": data})
    if method == "setWebhook":
        return True
    if method == "getMe":
        return {"id": 4242, "is_bot": True, "first_name": "Clinic assistant",
                "username": os.environ["TELEGRAM_VERIFY"]}
    if method == "sendMessage":
        return {"message_id": next(_message_ids), "date": int(time.time()), "text": data["text"],
                "chat": {"id": int(data["chat_id"]), "type": "private"}}
    raise AssertionError(f"unexpected Telegram API call {method}")


TwilioHttpClient.request = twilio_request
aiogram.bot.api.make_request = telegram_request

if __name__ == "__main__":
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    main()
