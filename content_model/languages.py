"""The languages the assistant serves (content/languages.yml), and which one a
message is written in.

The language is chosen per message from what was written: a patient may start
in English and go on in Chinese. A message too short to tell ("ok", "好", "B超")
gives no answer, and the caller keeps the conversation's language.
"""
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Pattern, Text

# Units a message needs in one script before it decides the conversation's language.
MIN_UNITS = 2


@dataclass(frozen=True)
class Language:
    code: Text
    name: Text
    script: Pattern  # one unit of writing: a word of Latin letters, a Chinese character
    switch: Pattern  # "English please", "请用中文"


@dataclass(frozen=True)
class Languages:
    languages: Dict[Text, Language]  # in the order of content/languages.yml, the default first

    @property
    def default(self) -> Text:
        return next(iter(self.languages))

    @property
    def codes(self) -> List[Text]:
        return list(self.languages)

    def requested(self, text: Text) -> Optional[Text]:
        """The language a message asks for ("English please"), if it asks for one."""
        lowered = text.lower()
        asked = [language.code for language in self.languages.values() if language.switch.search(lowered)]
        return asked[0] if len(asked) == 1 else None

    def detect(self, text: Text) -> Optional[Text]:
        """The language a message is written in, or None when it is too short to tell."""
        lowered = text.lower()
        units = {code: len(language.script.findall(lowered)) for code, language in self.languages.items()}
        best = max(units, key=units.get)
        if units[best] < MIN_UNITS or list(units.values()).count(units[best]) > 1:
            return None
        return best


def parse_languages(data: Dict, where: Text, error: type) -> Languages:
    entries = data.get("languages")
    if not isinstance(entries, dict) or not entries:
        raise error(f"{where}: field 'languages' must map language codes to their details")
    languages = {}
    for code, entry in entries.items():
        if not isinstance(code, str) or not re.fullmatch(r"[a-z]{2,3}", code):
            raise error(f"{where}: language '{code}': the code must be 2-3 lower-case letters (ISO 639)")
        if not isinstance(entry, dict):
            raise error(f"{where}: language '{code}': expected a mapping of fields")
        fields = {}
        for field in ("name", "script", "switch"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise error(f"{where}: language '{code}': field '{field}' is missing or empty")
            fields[field] = entry[field]
        try:
            languages[code] = Language(code, fields["name"], re.compile(fields["script"]), re.compile(fields["switch"]))
        except re.error as problem:
            raise error(f"{where}: language '{code}': a pattern is broken ({problem})")
    return Languages(languages)
