"""Plain-text replies for channels that cannot show buttons: SMS and WhatsApp
through Twilio (`connectors/sms.py`) and the clinic connector's text replies
(`connectors/clinic.py`).

Options. Buttons become numbered lines under the message text, worded in the
message's language (`reply_option` in content/<language>/clinic.yml):

    A liver calcification is usually harmless. Most of these spots are ...
    Reply 1: This helped
    Reply 2: This did not help

Numbers run on across the messages of one bot turn (the next message of the
same turn starts at "Reply 3: ..."), so a number means one thing even when SMS
messages arrive out of order. When the patient answers with just a number,
`pick_option` replaces it with that option's payload before Rasa sees it.

Remembering options. Nothing is kept in memory: the options are read back
from the conversation tracker (the bot messages since the patient's last
message), so they survive a restart and work across several server processes
that share a tracker store. This relies on the numbering restarting with each
patient message, i.e. one `TextOnlyOutput` per incoming message, and on
`action_session_start` not sending buttons (this bot's does not send anything).

Staff replies. A message from the clinic team (sent through Rasa's HTTP API,
`{"custom": {"from": "staff", "name": ...}}`) starts with who sent it
("Ana, clinic team: ...", `staff_says` in content/<language>/clinic.yml).

Length. Each message sent is at most `limit(text)` characters. For SMS that
is two segments that phones show as one message: 306 characters (2 x 153) when
the text fits the GSM-7 alphabet, 134 (2 x 67) when it needs UCS-2, as Chinese
does (one UCS-2 message holds 70 characters, a part of a longer one 67).
Longer texts are split into several messages, never trimmed, because a
shortened medical answer could mean something else. A text is split at a line
break if there is one in the second half of the allowed length, else after a
sentence (or "; " between sources), else after a comma, else between words (or
anywhere in Chinese, which has no spaces); only a single word longer than the
limit (a long link) is cut.
"""
import re
from functools import lru_cache
from typing import Any, Dict, List, Sequence, Text

from rasa.core.channels.channel import OutputChannel
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import BotUttered, Event, UserUttered

from content_model import Library, load_library

SMS_MAX_CHARS = 306  # two GSM-7 segments of 153
UCS2_MAX_CHARS = 134  # two UCS-2 segments of 67
# The GSM 03.38 alphabet (its extension characters count twice, so they are left
# out here: a text with them is measured as UCS-2, which is never too long).
_GSM_7 = re.compile("[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,\\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*")

# Where a long text may be split, best first. Each match ends where the first
# part ends (the punctuation stays with its sentence).
_BREAKS = (
    re.compile(r"\n"),
    re.compile(r"[.!?;](?=\s)|[。！？；]"),
    re.compile(r",(?=\s)|[，、：]"),
    re.compile(r"\s|(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])"),
)
# "2", " 2 ", "2." or "2)": what people type to pick option 2.
_OPTION_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


def split_text(text: Text, max_chars: int = SMS_MAX_CHARS) -> List[Text]:
    """`text` as parts of at most `max_chars` characters (see module docstring)."""
    parts = []
    text = text.strip()
    while len(text) > max_chars:
        cut = _cut_position(text, max_chars)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _cut_position(text: Text, max_chars: int) -> int:
    # One character more than allowed: a break right at the limit is whitespace
    # that rstrip() removes, and the lookaheads can see the space after a full stop.
    window = text[: max_chars + 1]
    for pattern in _BREAKS:
        ends = [match.end() for match in pattern.finditer(window)]
        # A break in the first half would leave a needlessly short message:
        # a weaker break further on reads better.
        if ends and ends[-1] > max_chars // 2:
            return ends[-1]
    return max_chars


def sms_limit(text: Text) -> int:
    """How long one SMS (two segments shown as one) may be for this text."""
    return SMS_MAX_CHARS if _GSM_7.fullmatch(text) else UCS2_MAX_CHARS


@lru_cache(maxsize=1)
def _library() -> Library:
    return load_library()


def numbered_options(buttons: Sequence[Dict[Text, Any]], first: int, text: Text = "") -> List[Text]:
    """The options as numbered lines, worded in the language of the message they come with."""
    library = _library()
    wording = library.content(library.languages.detect(text + " " + " ".join(b["title"] for b in buttons))).clinic["reply_option"]
    return [wording.format(number=first + i, title=button["title"]) for i, button in enumerate(buttons)]


def with_staff_name(message: Dict[Text, Any]) -> Dict[Text, Any]:
    """A staff reply with who sent it in front of its text, worded in the reply's
    language; any other message as it is."""
    custom = message.get("custom")
    if not (isinstance(custom, dict) and custom.get("from") == "staff" and message.get("text")):
        return message
    library = _library()
    clinic = library.content(library.languages.detect(message["text"])).clinic
    name = custom.get("name")
    if isinstance(name, str) and name.strip():
        return dict(message, text=clinic["staff_says"].format(name=name.strip(), text=message["text"]))
    return dict(message, text=clinic["staff_says_unnamed"].format(text=message["text"]))


def last_turn_options(events: Sequence[Event]) -> List[Dict[Text, Any]]:
    """The buttons of the bot messages since the patient's last message, in
    the order `TextOnlyOutput` numbered them."""
    turn: List[BotUttered] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            turn.append(event)
    return [button for event in reversed(turn) for button in event.data.get("buttons") or []]


async def pick_option(tracker_store: TrackerStore, sender_id: Text, text: Text) -> Text:
    """The payload of the option the patient picked by typing its number, or
    `text` unchanged if it is not the number of an option just offered."""
    match = _OPTION_NUMBER.fullmatch(text)
    if not match:
        return text
    tracker = await tracker_store.retrieve(sender_id)
    options = last_turn_options(list(tracker.events)) if tracker else []
    number = int(match.group(1))
    if 1 <= number <= len(options):
        return options[number - 1]["payload"]
    return text


class TextOnlyOutput(OutputChannel):
    """Output channel for plain-text channels; a subclass says how one text
    message is sent (`send_plain`) and may change its length (`limit`).

    Create one per incoming message: the option numbers restart with it."""

    max_chars = SMS_MAX_CHARS
    # Class default, replaced by an instance attribute on first use, so that
    # subclasses that also inherit a Rasa output channel need no __init__ juggling.
    _next_number = 1

    async def send_plain(self, recipient_id: Text, text: Text) -> None:
        raise NotImplementedError

    def limit(self, text: Text) -> int:
        """The longest message this channel sends for this text."""
        return self.max_chars

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(recipient_id, with_staff_name(message))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, self.limit(text)):
            await self.send_plain(recipient_id, part)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        lines = ([text] if text else []) + numbered_options(buttons, self._next_number, text)
        self._next_number += len(buttons)
        await self.send_text_message(recipient_id, "\n".join(lines))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        # Custom payloads ({"topic": ...}, {"alert": ...}) are data for rich
        # clients and clinic systems, not text a patient should read.
        pass
