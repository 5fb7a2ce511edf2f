"""Messaging channels: the clinic connector, Twilio SMS/WhatsApp, and the
credentials file that switches channels on from environment variables."""
