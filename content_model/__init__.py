"""Loading, validation and lookup of the curated content in content/.

The content is data that clinic staff edit. It is checked once when the action
server starts: a broken entry stops the start with a message that names the
file, the entry and the field, so a typo never reaches a patient.
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple

import yaml

# Relative to this file, never to the working directory. CONTENT_DIR lets a
# clinic keep its own copy of the content elsewhere.
CONTENT_DIR = Path(os.environ.get("CONTENT_DIR", Path(__file__).resolve().parent.parent / "content"))

TEXT_FIELDS = ("question", "short_answer", "explanation", "what_you_can_do")


class ContentError(ValueError):
    """A content file is missing, unreadable, or has a broken entry."""


@dataclass(frozen=True)
class Topic:
    id: Text
    intents: List[Text]
    names: List[Text]  # words patients use for the topic ("worms" for parasites)
    question: Text
    short_answer: Text
    explanation: Text
    what_you_can_do: Text
    related: List[Text]
    sources: List[Text]
    follow_ups: Dict[Text, Text]
    mentioned_by: Optional[Pattern] = None  # words that call for this topic beside another question


@dataclass(frozen=True)
class RedFlag:
    id: Text
    name: Text
    level: Text  # "emergency" or "prompt"
    patterns: List[Pattern]
    not_when: List[Pattern]  # the same words with another meaning


# Parts of a sentence: a sign said in one part ("no fever, but my eyes are yellow")
# is judged on that part alone.
_SENTENCE = re.compile(r"\.(?!\d)|[?!\n]+")  # not inside "38.5"
_CLAUSE = re.compile(r"[.?!;,\n]+|\b(?:but|although|though|however|except)\b")


@dataclass(frozen=True)
class RedFlags:
    intro: Text
    unsure: Text
    levels: Dict[Text, Text]  # level -> what to do
    signs: List[RedFlag]
    absent: List[Pattern]  # "no", "not", "never" before the sign's words
    over: List[Pattern]  # "as a newborn", "last year"
    asking: List[Pattern]  # "what signs should I watch for, like yellow eyes?"

    def assess(self, text: Text) -> Tuple[List[RedFlag], List[RedFlag]]:
        """The signs a message says the person has, and those whose words it
        uses without having them (negated, over, asked about, other meaning)."""
        present: List[RedFlag] = []
        dismissed: List[RedFlag] = []
        for sentence in _SENTENCE.split(text.lower()):
            asking = any(pattern.search(sentence) for pattern in self.asking)
            for sign in self.signs:
                if sign in present:
                    continue
                found = next(((p, m) for p, m in ((p, p.search(sentence)) for p in sign.patterns) if m), None)
                if found is None:
                    continue
                pattern, match = found
                # The part of the sentence the sign is said in ("no fever, but my eyes are yellow").
                start = max((m.end() for m in _CLAUSE.finditer(sentence, 0, match.start())), default=0)
                end = next((m.start() for m in _CLAUSE.finditer(sentence, match.end())), len(sentence))
                # "eyes are not yellow" is negated inside the match; "not making sense" is the sign.
                said = sentence[start: match.start() if self._negates(pattern.pattern) else match.end()]
                if (asking or self._negates(said)
                        or any(other.search(sentence[start:end]) for other in self.over + sign.not_when)):
                    dismissed.append(sign)
                else:
                    present.append(sign)
        return present, [sign for sign in dismissed if sign not in present]

    def _negates(self, text: Text) -> bool:
        return any(pattern.search(text) for pattern in self.absent)

    def find(self, text: Text) -> List[RedFlag]:
        return self.assess(text)[0]

    def warning(self, signs: List[RedFlag]) -> Text:
        """What to say first: the signs named, then the most urgent advice;
        with no sign understood, the signs to check."""
        if not signs:
            return self.unsure.format(signs=", ".join(sign.name for sign in self.signs))
        level = "emergency" if any(sign.level == "emergency" for sign in signs) else "prompt"
        names = " and ".join(sign.name for sign in signs)
        return f"{self.intro.format(signs=names)} {self.levels[level]}"


@dataclass(frozen=True)
class ScopeKind:
    id: Text
    patterns: List[Pattern]
    unless: Optional[Text]  # "finding" or "liver": words that keep the message in scope
    decline: Text


@dataclass(frozen=True)
class Scope:
    """Questions near the assistant's field that it declines (content/scope.yml)."""

    guards: Dict[Text, Pattern]  # "finding", "liver"
    kinds: List[ScopeKind]
    general: Text

    def outside(self, text: Text) -> Optional[ScopeKind]:
        lowered = text.lower()
        for kind in self.kinds:
            if any(pattern.search(lowered) for pattern in kind.patterns) and not (
                    kind.unless and self.guards[kind.unless].search(lowered)):
                return kind
        return None

    def decline(self, kind_id: Optional[Text]) -> Text:
        return next((kind.decline for kind in self.kinds if kind.id == kind_id), self.general)


@dataclass(frozen=True)
class GuidanceRule:
    id: Text
    when: Dict[Text, List[Text]]
    message: Text
    sources: List[Text]


@dataclass(frozen=True)
class Guidance:
    intro: Text
    closing: Text
    rules: List[GuidanceRule]

    def advise(self, answers: Dict[Text, Optional[Text]]) -> List[GuidanceRule]:
        facts = dict(answers, any_unknown="yes" if "unknown" in answers.values() else "no")
        return [rule for rule in self.rules if all(facts.get(key) in values for key, values in rule.when.items())]


@dataclass(frozen=True)
class Content:
    topics: Dict[Text, Topic]
    citations: Dict[Text, Text]  # seed file name -> how the bot cites it
    red_flags: RedFlags
    scope: Scope
    guidance: Guidance
    clinic: Dict[Text, Text]

    def topic(self, topic_id: Optional[Text]) -> Optional[Topic]:
        return self.topics.get(topic_id) if topic_id else None

    def topic_for_intent(self, intent: Optional[Text]) -> Optional[Topic]:
        for topic in self.topics.values():
            if intent in topic.intents:
                return topic
        return None

    def topics_for_questions(self, intents: List[Text], text: Text, limit: int = 3) -> List[Topic]:
        """The topics a message asks about, in the order asked, plus any topic whose
        words it pastes ("a 5 mm strong echo, is it dangerous?" also explains the words)."""
        asked: List[Topic] = []
        for intent in intents:
            topic = self.topic_for_intent(intent)
            if topic and topic not in asked:
                asked.append(topic)
        lowered = text.lower()
        for topic in self.topics.values():
            if asked and topic not in asked and topic.mentioned_by and topic.mentioned_by.search(lowered):
                asked.append(topic)
        return asked[:limit]

    def named_topic(self, text: Text) -> Optional[Topic]:
        """The topic a message names ("tell me more about the worms"); the longest name wins."""
        lowered = text.lower()
        found = [
            (len(name), topic)
            for topic in self.topics.values()
            for name in topic.names
            if re.search(rf"\b{re.escape(name.lower())}\b", lowered)
        ]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def source_line(self, topic: Topic) -> Text:
        return "; ".join(self.citations[source] for source in topic.sources)

    def search(self, text: Text, limit: int = 3) -> List[Topic]:
        """Topics whose wording shares the most words with `text`, best first."""
        words = _words(text)
        scored = []
        for topic in self.topics.values():
            topic_words = _words(" ".join([topic.id.replace("_", " "), topic.question, topic.short_answer] + topic.names))
            score = len(words & topic_words)
            if score:
                scored.append((score, topic.id))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self.topics[topic_id] for _, topic_id in scored[:limit]]


_STOP_WORDS = {
    "a", "an", "the", "is", "it", "i", "my", "me", "do", "does", "can", "of", "in", "to",
    "and", "or", "what", "how", "be", "on", "for", "with", "you", "your", "this", "that",
    "are", "if", "at", "as", "so", "have", "has", "should", "will", "about", "from", "there",
}


def _words(text: Text) -> set:
    return {word for word in re.findall(r"[a-z]+", text.lower()) if word not in _STOP_WORDS and len(word) > 2}


def _read_yaml(path: Path) -> Dict[Text, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found")
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML ({error})")
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return data


def _load_citations(path: Path) -> Dict[Text, Text]:
    sources = _read_yaml(path).get("sources")
    if not isinstance(sources, dict) or not sources:
        raise ContentError(f"{path}: field 'sources' must map seed file names to their details")
    citations = {}
    for name, details in sources.items():
        cite_as = details.get("cite_as") if isinstance(details, dict) else None
        if not isinstance(cite_as, str) or not cite_as.strip():
            raise ContentError(f"{path}: source '{name}': field 'cite_as' is missing or empty")
        citations[name] = cite_as.strip()
    return citations


def _text_list(path: Path, where: Text, entry: Dict[Text, Any], field: Text, required: bool = True) -> List[Text]:
    value = entry.get(field, None if required else [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ContentError(f"{path}: {where}: field '{field}' must be a list of names")
    if required and not value:
        raise ContentError(f"{path}: {where}: field '{field}' must not be empty")
    return value


def _load_topics(path: Path, citations: Dict[Text, Text]) -> Dict[Text, Topic]:
    entries = _read_yaml(path).get("topics")
    if not isinstance(entries, list) or not entries:
        raise ContentError(f"{path}: field 'topics' must be a non-empty list")
    topics: Dict[Text, Topic] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ContentError(f"{path}: topic #{number}: expected a mapping of fields")
        topic_id = entry.get("id")
        if not isinstance(topic_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", topic_id):
            raise ContentError(f"{path}: topic #{number}: field 'id' must be a snake_case name")
        where = f"topic '{topic_id}'"
        if topic_id in topics:
            raise ContentError(f"{path}: {where}: field 'id' is used twice")
        for field in TEXT_FIELDS:
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise ContentError(f"{path}: {where}: field '{field}' is missing or empty")
        follow_ups = entry.get("follow_ups") or {}
        if not isinstance(follow_ups, dict):
            raise ContentError(f"{path}: {where}: field 'follow_ups' must map intents to topic ids")
        topic = Topic(
            id=topic_id,
            intents=_text_list(path, where, entry, "intents"),
            names=_text_list(path, where, entry, "names", required=False),
            related=_text_list(path, where, entry, "related"),
            sources=_text_list(path, where, entry, "sources"),
            follow_ups=follow_ups,
            mentioned_by=_pattern(path, f"{where}: ", entry, "mentioned_by") if entry.get("mentioned_by") else None,
            **{field: " ".join(entry[field].split()) for field in TEXT_FIELDS},
        )
        unknown_sources = [source for source in topic.sources if source not in citations]
        if unknown_sources:
            raise ContentError(f"{path}: {where}: field 'sources' names unknown seed files {unknown_sources}")
        topics[topic_id] = topic

    owners: Dict[Text, Text] = {}
    for topic in topics.values():
        where = f"topic '{topic.id}'"
        for intent in topic.intents:
            if intent in owners:
                raise ContentError(f"{path}: {where}: field 'intents': '{intent}' already belongs to topic '{owners[intent]}'")
            owners[intent] = topic.id
        targets = topic.related + list(topic.follow_ups.values())
        unknown = [target for target in targets if target not in topics]
        if unknown:
            raise ContentError(f"{path}: {where}: fields 'related'/'follow_ups' name unknown topics {unknown}")
    return topics


def _text(path: Path, where: Text, entry: Dict[Text, Any], field: Text) -> Text:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{path}: {where}field '{field}' is missing or empty")
    return " ".join(value.split())


def _patterns(path: Path, where: Text, entry: Dict[Text, Any], field: Text, required: bool = True) -> List[Pattern]:
    patterns = entry.get(field, None if required else [])
    if not isinstance(patterns, list) or (required and not patterns):
        raise ContentError(f"{path}: {where}field '{field}' must be a non-empty list" if required
                           else f"{path}: {where}field '{field}' must be a list")
    try:
        return [re.compile(str(pattern)) for pattern in patterns]
    except re.error as error:
        raise ContentError(f"{path}: {where}field '{field}' has a broken pattern ({error})")


def _pattern(path: Path, where: Text, entry: Dict[Text, Any], field: Text) -> Pattern:
    """One regular expression in a field, as `_patterns` reads a list of them."""
    if not isinstance(entry.get(field), str) or not entry[field]:
        raise ContentError(f"{path}: {where}field '{field}' must be a pattern")
    return _patterns(path, where, {field: [entry[field]]}, field)[0]


def load_red_flags(path: Path) -> RedFlags:
    data = _read_yaml(path)
    levels = data.get("levels")
    if not isinstance(levels, dict) or set(levels) != {"emergency", "prompt"}:
        raise ContentError(f"{path}: field 'levels' must give the advice for 'emergency' and 'prompt'")
    signs = []
    for number, entry in enumerate(data.get("signs") or [], start=1):
        if not isinstance(entry, dict):
            raise ContentError(f"{path}: sign #{number}: expected a mapping of fields")
        where = f"sign '{entry.get('id', number)}': "
        if entry.get("level") not in levels:
            raise ContentError(f"{path}: {where}field 'level' must be 'emergency' or 'prompt'")
        signs.append(RedFlag(_text(path, where, entry, "id"), _text(path, where, entry, "name"), entry["level"],
                             _patterns(path, where, entry, "patterns"),
                             _patterns(path, where, entry, "not_when", required=False)))
    if not signs:
        raise ContentError(f"{path}: field 'signs' must list at least one warning sign")
    intro, unsure = _text(path, "", data, "intro"), _text(path, "", data, "unsure")
    for field, text in (("intro", intro), ("unsure", unsure)):
        if "{signs}" not in text:
            raise ContentError(f"{path}: field '{field}' must contain {{signs}}")
    not_a_sign = data.get("not_a_sign")
    if not isinstance(not_a_sign, dict):
        raise ContentError(f"{path}: field 'not_a_sign' must give 'absent', 'over' and 'asking' patterns")
    return RedFlags(intro, unsure, {level: " ".join(text.split()) for level, text in levels.items()}, signs,
                    *(_patterns(path, "not_a_sign: ", not_a_sign, field) for field in ("absent", "over", "asking")))


def load_scope(path: Path) -> Scope:
    data = _read_yaml(path)
    guards = {field: _pattern(path, "", data, field) for field in ("finding", "liver")}
    kinds = []
    for number, entry in enumerate(data.get("kinds") or [], start=1):
        if not isinstance(entry, dict):
            raise ContentError(f"{path}: kind #{number}: expected a mapping of fields")
        where = f"kind '{entry.get('id', number)}': "
        if entry.get("unless") not in (None, *guards):
            raise ContentError(f"{path}: {where}field 'unless' must be one of {sorted(guards)}")
        kinds.append(ScopeKind(_text(path, where, entry, "id"), _patterns(path, where, entry, "patterns"),
                               entry.get("unless"), _text(path, where, entry, "decline")))
    return Scope(guards, kinds, _text(path, "", data, "general"))


def _answer(value: Any) -> Text:
    # YAML reads a bare yes/no as true/false; staff write yes/no, so both mean the answer.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _load_guidance(path: Path, citations: Dict[Text, Text]) -> Guidance:
    data = _read_yaml(path)
    rules = []
    for number, entry in enumerate(data.get("rules") or [], start=1):
        where = f"rule '{entry.get('id', number)}': " if isinstance(entry, dict) else f"rule #{number}: "
        if not isinstance(entry, dict) or not isinstance(entry.get("when"), dict) or not entry["when"]:
            raise ContentError(f"{path}: {where}field 'when' must map answers to values")
        when = {key: [_answer(v) for v in (value if isinstance(value, list) else [value])] for key, value in entry["when"].items()}
        sources = _text_list(path, where.rstrip(": "), entry, "sources")
        unknown_sources = [source for source in sources if source not in citations]
        if unknown_sources:
            raise ContentError(f"{path}: {where}field 'sources' names unknown seed files {unknown_sources}")
        rules.append(GuidanceRule(_text(path, where, entry, "id"), when, _text(path, where, entry, "message"), sources))
    if not rules:
        raise ContentError(f"{path}: field 'rules' must list at least one rule")
    return Guidance(_text(path, "", data, "intro"), _text(path, "", data, "closing"), rules)


def load_clinic(path: Path) -> Dict[Text, Text]:
    data = _read_yaml(path)
    return {field: _text(path, "", data, field) for field in ("name", "contact", "handoff_sent", "handoff_unavailable", "try_again")}


def load_content(directory: Path = CONTENT_DIR) -> Content:
    """Reads and checks every content file; raises ContentError naming the problem."""
    directory = Path(directory)
    citations = _load_citations(directory / "sources.yml")
    return Content(
        topics=_load_topics(directory / "topics.yml", citations),
        citations=citations,
        red_flags=load_red_flags(directory / "red_flags.yml"),
        scope=load_scope(directory / "scope.yml"),
        guidance=_load_guidance(directory / "guidance.yml", citations),
        clinic=load_clinic(directory / "clinic.yml"),
    )
