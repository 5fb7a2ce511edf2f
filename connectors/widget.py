"""Rasa's socket.io channel, with custom payloads that reach the browser.

Rasa 3.6's SocketIOOutput.send_custom_json calls `sio.emit(event, **payload)`,
so this project's payloads ({"topic": ...}, {"alert": "red_flag", ...}) become
unknown keyword arguments of emit() and raise TypeError. The turn then stops
half way: later messages (the disclaimer, the answer after a warning) are lost
and the tracker is not saved, so "tell me more" forgets the topic.

This channel sends a custom payload like any other message, as the event's
data, in the REST channel's shape: {"custom": {...}}. Everything else
(session_request, rooms, user_uttered) is Rasa's own code, unchanged.

Switched on by connectors/credentials.py as `connectors.widget.SocketIOInput:`.
"""
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint


class SocketIOOutput(socketio.SocketIOOutput):
    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class SocketIOInput(socketio.SocketIOInput):
    def get_output_channel(self) -> Optional[OutputChannel]:
        # Used for messages the HTTP API triggers outside a user turn.
        return self.sio and SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_fixed_output(message: UserMessage) -> None:
            message.output_channel = SocketIOOutput(self.sio, self.bot_message_evt)
            await on_new_message(message)

        return super().blueprint(with_fixed_output)
