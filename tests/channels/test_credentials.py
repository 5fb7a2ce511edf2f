"""Unit tests of the credentials file written from credentials.yml and environment variables."""
import pytest
import yaml
from rasa.core.run import create_http_input_channels

from connectors.clinic import ClinicInput
from connectors.credentials import SOCKETIO, SOCKETIO_CHANNEL, build, main
from connectors.sms import SmsInput
from connectors.telegram import TelegramInput
from connectors.widget import SocketIOInput
from tests.e2e.conftest import ROOT

ALL = {
    "CLINIC_SECRET": "clinic-secret", "CLINIC_CALLBACK_URL": "https://portal.clinic.example/bot",
    "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "twilio-secret", "TWILIO_NUMBER": "+15005550006",
    "TELEGRAM_TOKEN": "123:telegram-secret", "TELEGRAM_VERIFY": "clinic_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.clinic.example/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "telegram-webhook-secret",
}
REST = {"rest": None}


def test_without_variables_only_the_base_channels_and_socketio_are_on():
    credentials, report = build({}, REST)
    assert credentials == {"rest": None, SOCKETIO_CHANNEL: SOCKETIO}
    assert SOCKETIO == {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    assert report[:2] == ["rest: on", f"{SOCKETIO_CHANNEL}: on"]
    assert [line.split(":")[0] for line in report[2:]] == ["clinic", "twilio", "telegram"]
    assert all(": off (set " in line for line in report[2:])


def test_base_channels_and_their_socketio_settings_are_kept():
    base = {"connectors.rest.CheckedRestInput": None, SOCKETIO_CHANNEL: {"session_persistence": False}}
    credentials, _ = build({}, base)
    assert credentials == base


def test_all_channels_on_with_secrets_as_references():
    credentials, report = build(ALL, REST)
    assert credentials["connectors.clinic.ClinicInput"] == {
        "secret": "${CLINIC_SECRET}", "callback_url": "${CLINIC_CALLBACK_URL}", "reply_format": "json"}
    assert credentials["connectors.sms.SmsInput"] == {
        "account_sid": "${TWILIO_ACCOUNT_SID}", "auth_token": "${TWILIO_AUTH_TOKEN}", "twilio_number": "${TWILIO_NUMBER}"}
    assert credentials["connectors.telegram.TelegramInput"] == {
        "access_token": "${TELEGRAM_TOKEN}", "verify": "${TELEGRAM_VERIFY}", "webhook_url": "${TELEGRAM_WEBHOOK_URL}",
        "secret_token": "${TELEGRAM_SECRET_TOKEN}"}
    assert "twilio: on (SMS) at /webhooks/twilio/webhook" in report


def test_whatsapp_number_text_replies_and_public_twilio_url():
    env = dict(ALL, TWILIO_NUMBER="whatsapp:+14155238886", CLINIC_REPLY_FORMAT="text",
               TWILIO_WEBHOOK_URL="https://bot.clinic.example/webhooks/twilio/webhook")
    credentials, report = build(env, REST)
    assert credentials["connectors.clinic.ClinicInput"]["reply_format"] == "text"
    assert credentials["connectors.sms.SmsInput"]["webhook_url"] == "${TWILIO_WEBHOOK_URL}"
    assert "twilio: on (WhatsApp) at /webhooks/twilio/webhook" in report


@pytest.mark.parametrize("missing", ["CLINIC_CALLBACK_URL", "TWILIO_NUMBER", "TELEGRAM_VERIFY", "TELEGRAM_SECRET_TOKEN"])
def test_a_partly_configured_channel_stays_off_with_a_warning(missing):
    credentials, report = build(dict(ALL, **{missing: ""}), REST)
    assert len(credentials) == 4
    assert any(line.endswith(f"WARNING: {missing} not set") for line in report)


def test_rasa_reads_the_written_file_and_builds_the_channels(tmp_path, monkeypatch, capsys):
    for name, value in ALL.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "credentials.yml"
    main([str(path), "--base", str(ROOT / "credentials.yml")])
    assert "telegram: on" in capsys.readouterr().out
    written = path.read_text()
    assert not any(secret in written for secret in ("clinic-secret", "twilio-secret", "telegram-secret",
                                                     "telegram-webhook-secret"))
    base_channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert set(base_channels) <= set(yaml.safe_load(written))

    channels = {type(channel): channel for channel in create_http_input_channels(None, str(path))}
    assert channels[ClinicInput].secret == "clinic-secret"
    assert channels[SmsInput].auth_token == "twilio-secret"
    assert channels[TelegramInput].access_token == "123:telegram-secret"
    assert channels[TelegramInput].verify == "clinic_bot"
    assert channels[TelegramInput].secret_token == "telegram-webhook-secret"


def test_socketio_shares_messages_through_redis_when_its_url_is_set(tmp_path, monkeypatch):
    credentials, report = build({"SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/1"}, REST)
    assert credentials[SOCKETIO_CHANNEL] == dict(SOCKETIO, redis_url="${SOCKETIO_REDIS_URL}")
    assert any("through Redis" in line for line in report)
    assert "redis_url" not in build({}, REST)[0][SOCKETIO_CHANNEL]

    # Rasa fills in the reference and the channel reads it.
    monkeypatch.setenv("SOCKETIO_REDIS_URL", "redis://127.0.0.1:6379/1")
    path = tmp_path / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials))
    channels = {type(channel): channel for channel in create_http_input_channels(None, str(path))}
    assert channels[SocketIOInput].redis_url == "redis://127.0.0.1:6379/1"
