"""The languages the assistant serves (content/languages.yml), and which one a
message is written in.

The language is chosen per message from what was written: a patient may start
in English and go on in Chinese. A message too short to tell ("ok", "好", "B超")
gives no answer, and the caller keeps the conversation's language.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Text, Tuple

# Units a message needs in one script before it decides the conversation's language.
MIN_UNITS = 2
# Sentence ends of every language: each may end a question.
_SENTENCE_ENDS = r"\.(?!\d)|[?!;\n。？！；]+"
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Language:
    code: Text
    name: Text
    script: Pattern  # one unit of writing: a word of Latin letters, a Chinese character
    weight: float  # what one unit counts for when languages are mixed in a message
    switch: Pattern  # "English please", "请用中文"
    new_question: Pattern  # where a new question starts inside a sentence (", and do I need...")
    joiner: Pattern  # words that join a question to the one before ("and", "还有"), dropped from a part


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

    def parts(self, text: Text) -> List[Text]:
        """The parts of a message that may each be a question, in order, in any language served."""
        splitter = _splitter(tuple(language.new_question.pattern for language in self.languages.values()))
        parts = [part.strip(" ,-:，：") for part in splitter.split(text)]
        for language in self.languages.values():
            parts = [language.joiner.sub("", part) for part in parts]
        return [part for part in parts if len(part.split()) >= 2 or len(part) >= 4 or len(_HAN.findall(part)) >= 2]

    def detect(self, text: Text) -> Optional[Text]:
        """The language a message is written in, or None when it is too short to tell."""
        lowered = text.lower()
        units = {code: len(language.script.findall(lowered)) * language.weight for code, language in self.languages.items()}
        best = max(units, key=units.get)
        if units[best] < MIN_UNITS or list(units.values()).count(units[best]) > 1:
            return None
        return best


@lru_cache(maxsize=4)
def _splitter(new_questions: Tuple[Text, ...]) -> Pattern:
    # Compiled once, not for every message.
    return re.compile("|".join((_SENTENCE_ENDS,) + new_questions), re.IGNORECASE)


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
        for field in ("name", "script", "switch", "new_question", "joiner"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise error(f"{where}: language '{code}': field '{field}' is missing or empty")
            fields[field] = entry[field]
        try:
            weight = entry.get("weight", 1)
            if not isinstance(weight, (int, float)) or weight <= 0:
                raise error(f"{where}: language '{code}': field 'weight' must be a positive number")
            languages[code] = Language(code, fields["name"], re.compile(fields["script"]), float(weight),
                                       re.compile(fields["switch"]),
                                       re.compile(fields["new_question"], re.IGNORECASE),
                                       re.compile(fields["joiner"], re.IGNORECASE))
        except re.error as problem:
            raise error(f"{where}: language '{code}': a pattern is broken ({problem})")
    return Languages(languages)
