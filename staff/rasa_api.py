"""What the console changes in a conversation, through Rasa's HTTP API
(RASA_URL, token RASA_AUTH_TOKEN), so that Rasa stores it and sends it through
the patient's own channel (staff/__init__.py has the conventions)."""
import asyncio
from typing import Any, Dict, List, Text
from urllib.parse import quote

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=30)
# Rasa's HTTP API takes the conversation id in the path as sent, without
# percent-decoding it ("+1555..." works, "%2B1555..." is another conversation):
# ids are sent as they are, and one that would need encoding cannot be reached.
PATH_SAFE = "/!$&'()*+,;=:@"


class RasaError(RuntimeError):
    """Rasa's server refused or did not answer; the message says which, for staff."""


class RasaAPI:
    def __init__(self, url: Text, token: Text) -> None:
        self.url = url.rstrip("/")
        self.token = token

    async def _post(self, conversation_id: Text, path: Text, params: Dict[Text, Text], body: Any) -> None:
        if quote(conversation_id, safe=PATH_SAFE) != conversation_id:
            raise RasaError("this conversation's id has characters that Rasa's HTTP API cannot take")
        url = f"{self.url}/conversations/{conversation_id}/{path}"
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.post(url, params=dict(params, token=self.token), json=body) as reply:
                    if reply.status >= 300:
                        raise RasaError(f"the assistant's server refused it (HTTP {reply.status})")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaError(f"the assistant's server did not answer ({type(error).__name__})") from error

    async def append(self, conversation_id: Text, events: List[Dict[Text, Any]]) -> None:
        """Stores the events; bot events are also sent through the patient's latest channel."""
        await self._post(conversation_id, "tracker/events",
                         {"output_channel": "latest", "execute_side_effects": "true"}, events)

    async def reply(self, conversation_id: Text, text: Text, username: Text, display_name: Text) -> None:
        # metadata.staff marks the message as a person's (and who); the custom
        # payload lets rich channels (the widget) show it as the staff's.
        await self.append(conversation_id, [{
            "event": "bot", "text": text, "metadata": {"staff": username},
            "data": {"custom": {"from": "staff", "name": display_name}},
        }])

    async def hand_back(self, conversation_id: Text) -> None:
        """The assistant takes over again and tells the patient so, in their language."""
        await self.append(conversation_id, [{"event": "resume"}])
        try:
            await self._post(conversation_id, "execute", {"output_channel": "latest"}, {"name": "action_hand_back"})
        except RasaError as error:
            raise RasaError(f"the assistant took over again, but telling the patient failed: {error}") from error
