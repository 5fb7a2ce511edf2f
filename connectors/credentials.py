"""Writes the credentials file for the Rasa server: the always-on channels of
credentials.yml, plus each messaging channel whose environment variables are
all set.

    .venv/bin/python -m connectors.credentials .rasa/credentials.yml
    .venv/bin/rasa run --credentials .rasa/credentials.yml ...

Run it from the repository root with the environment the Rasa server gets.
Secrets and URLs are written as ${VARIABLE} references that Rasa fills in from
the environment when it starts, so the file holds no secrets. Rasa fails on a
${VARIABLE} that is not set, which is why optional channels are decided here
and must not be put in credentials.yml.

Always on: every channel in credentials.yml (the REST channel), and socketio
(the web widget) with the settings below unless credentials.yml configures it;
SOCKETIO_REDIS_URL (e.g. redis://127.0.0.1:6379/0) shares its messages between
Rasa processes through Redis (connectors/widget.py), as `make run-prod` needs.
  clinic    CLINIC_SECRET, CLINIC_CALLBACK_URL; CLINIC_REPLY_FORMAT json (default) or text;
            optional CLINIC_SECRET_PREVIOUS (still accepted while the secret is rotated)
  twilio    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER ("whatsapp:+..." for WhatsApp);
            optional TWILIO_WEBHOOK_URL (public URL, for the signature check behind a proxy)
  telegram  TELEGRAM_TOKEN, TELEGRAM_VERIFY (the bot's username), TELEGRAM_WEBHOOK_URL,
            TELEGRAM_SECRET_TOKEN (every update must carry it; connectors/telegram.py)
"""
import argparse
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

CLINIC = ("CLINIC_SECRET", "CLINIC_CALLBACK_URL")
TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER")
TELEGRAM = ("TELEGRAM_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN")

# The web widget's channel: Rasa's socket.io channel with custom payloads that
# reach the browser (connectors/widget.py). Keep python-socketio==5.8.0.
SOCKETIO_CHANNEL = "connectors.widget.SocketIOInput"
SOCKETIO = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
HEADER = "# Written by connectors/credentials.py from credentials.yml and environment variables; do not edit.\n"


def ref(variable: str) -> str:
    return "${" + variable + "}"


def build(env: Mapping[str, str], base: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """(credentials, one report line per channel) for the environment `env`
    and the always-on channels `base` (credentials.yml)."""
    credentials = dict(base)
    credentials.setdefault(SOCKETIO_CHANNEL, SOCKETIO)
    report = [f"{channel}: on" for channel in credentials]
    if env.get("SOCKETIO_REDIS_URL"):
        credentials[SOCKETIO_CHANNEL] = dict(credentials[SOCKETIO_CHANNEL] or {}, redis_url=ref("SOCKETIO_REDIS_URL"))
        report.append("socketio: messages shared between Rasa processes through Redis (SOCKETIO_REDIS_URL)")

    def wanted(channel: str, variables: Sequence[str]) -> bool:
        missing = [name for name in variables if not env.get(name)]
        if len(missing) == len(variables):
            report.append(f"{channel}: off (set {', '.join(variables)} to switch it on)")
        elif missing:
            # Some but not all set is most likely a mistake: say so loudly.
            report.append(f"{channel}: OFF, WARNING: {', '.join(missing)} not set")
        return not missing

    if wanted("clinic", CLINIC):
        clinic = {"secret": ref("CLINIC_SECRET"), "callback_url": ref("CLINIC_CALLBACK_URL")}
        if env.get("CLINIC_SECRET_PREVIOUS"):
            clinic["previous_secret"] = ref("CLINIC_SECRET_PREVIOUS")
        reply_format = env.get("CLINIC_REPLY_FORMAT") or "json"
        # Written as is: an unknown format makes the Rasa server refuse to start, naming it.
        clinic["reply_format"] = reply_format
        credentials["connectors.clinic.ClinicInput"] = clinic
        report.append(f"clinic: on ({reply_format} replies) at /webhooks/clinic/webhook")
    if wanted("twilio", TWILIO):
        twilio = {name: ref(variable) for name, variable in zip(("account_sid", "auth_token", "twilio_number"), TWILIO)}
        if env.get("TWILIO_WEBHOOK_URL"):
            twilio["webhook_url"] = ref("TWILIO_WEBHOOK_URL")
        credentials["connectors.sms.SmsInput"] = twilio
        kind = "WhatsApp" if env["TWILIO_NUMBER"].startswith("whatsapp:") else "SMS"
        report.append(f"twilio: on ({kind}) at /webhooks/twilio/webhook")
    if wanted("telegram", TELEGRAM):
        credentials["connectors.telegram.TelegramInput"] = {
            name: ref(variable)
            for name, variable in zip(("access_token", "verify", "webhook_url", "secret_token"), TELEGRAM)
        }
        report.append("telegram: on at /webhooks/telegram/webhook")
    return credentials, report


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="credentials file to write, e.g. .rasa/credentials.yml")
    parser.add_argument("--base", type=Path, default=Path("credentials.yml"), help="always-on channels")
    args = parser.parse_args(argv)
    credentials, report = build(os.environ, yaml.safe_load(args.base.read_text()) or {})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(HEADER + yaml.safe_dump(credentials, sort_keys=False))
    print(f">> channels ({args.output}):")
    for line in report:
        print(f"   {line}")


if __name__ == "__main__":
    main()
