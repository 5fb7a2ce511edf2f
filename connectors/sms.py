"""Twilio SMS and WhatsApp, with plain-text replies (`connectors/text_only.py`).

A thin subclass of Rasa's Twilio channel; in credentials.yml (written by
`connectors/credentials.py` from the TWILIO_* variables):

    connectors.sms.SmsInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_NUMBER}        # "whatsapp:+1..." for WhatsApp
      webhook_url: ${TWILIO_WEBHOOK_URL}     # optional, see below

Twilio posts to POST /webhooks/twilio/webhook (the channel keeps the name
"twilio"). What it adds to Rasa 3.6's TwilioInput:
- Request validation. Rasa's channel does not check X-Twilio-Signature, so
  anyone could post as any phone number. Here a request without a valid
  signature gets 401. Twilio signs the public URL it posts to; behind a proxy
  that rewrites the host or scheme, set `webhook_url` to exactly the URL
  configured in the Twilio console, otherwise the URL of the request is used.
- Buttons as numbered options, a reply that is just a number picks the option,
  and long texts split for SMS (306 characters; 1600, Twilio's own limit, for
  WhatsApp, which has no SMS segments).
- Custom payloads (topic, sources, alerts) are not sent: Rasa's TwilioOutput
  would pass their keys to Twilio's messages.create(), which fails on them.
- Messages sent through Rasa's HTTP API (staff replies, the hand back) go to
  the patient's number like any reply (`get_output_channel`); a staff reply
  starts with who sent it.
"""
from typing import Any, Awaitable, Callable, Dict, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from connectors.replies import answer
from connectors.text_only import TextOnlyOutput, pick_option, sms_limit

# Twilio refuses a message body longer than this.
TWILIO_MAX_CHARS = 1600


class SmsOutput(TextOnlyOutput, TwilioOutput):
    def limit(self, text: Text) -> int:
        return TWILIO_MAX_CHARS if (self.twilio_number or "").startswith("whatsapp:") else sms_limit(text)

    async def send_plain(self, recipient_id: Text, text: Text) -> None:
        await self._send_message({"to": recipient_id, "from_": self.twilio_number, "body": text})


class SmsInput(TwilioInput):
    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("account_sid"),
            credentials.get("auth_token"),
            credentials.get("twilio_number"),
            webhook_url=credentials.get("webhook_url"),
        )

    def __init__(
        self,
        account_sid: Optional[Text],
        auth_token: Optional[Text],
        twilio_number: Optional[Text],
        webhook_url: Optional[Text] = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.webhook_url = webhook_url
        self.validator = RequestValidator(auth_token or "")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = Blueprint("twilio_webhook", __name__)

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            # Not request.form: Sanic drops empty fields (Twilio sends some,
            # e.g. "ToCity="), and Twilio's signature covers them.
            form = RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            signature = request.headers.get("X-Twilio-Signature", "")
            if not self.validator.validate(self.webhook_url or request.url, form, signature):
                return response.text("missing or wrong X-Twilio-Signature", status=401)
            sender, text = form.get("From"), form.get("Body")
            if not sender or text is None:  # e.g. a WhatsApp location has no Body
                return response.text("", status=204)
            # As Rasa's channel does: some carriers turn "@" into "¡".
            text = await pick_option(request.app.ctx.agent.tracker_store, sender, text.replace("¡", "@"))
            await answer(on_new_message, UserMessage(
                text, self.get_output_channel(), sender, input_channel=self.name(), message_id=form.get("MessageSid"),
            ))
            return response.text("", status=204)

        return twilio_webhook

    def get_output_channel(self) -> SmsOutput:
        return SmsOutput(self.account_sid, self.auth_token, self.twilio_number)
