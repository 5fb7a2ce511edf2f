"""Loading, validation and lookup of the curated content in content/.

The content is data that clinic staff edit, one folder per language
(content/en/, content/zh/, listed in content/languages.yml). It is checked
once when the action server starts: a broken entry, or a language that lacks
an entry or a field the default language has, stops the start with a message
that names the file, the entry and the field, so a typo never reaches a patient.
"""
import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Pattern, Text, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from content_model.languages import Language, Languages, parse_languages

# Relative to this file, never to the working directory. CONTENT_DIR lets a
# clinic keep its own copy of the content elsewhere.
CONTENT_DIR = Path(os.environ.get("CONTENT_DIR", Path(__file__).resolve().parent.parent / "content"))

TEXT_FIELDS = ("question", "short_answer", "explanation", "what_you_can_do")


_WIDE = "[\u3000-\u9fff\uff00-\uffef]"  # Chinese characters and full-width punctuation


def flow(text: Text) -> Text:
    """A text as one line: YAML's line breaks become spaces, except between
    Chinese characters, which are written without spaces."""
    return re.sub(rf"(?<={_WIDE}) (?={_WIDE})", "", " ".join(text.split()))


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
# is judged on that part alone. Punctuation of every language served ends a part;
# each language's red_flags.yml names the words that do (`clause_breaks`).
_SENTENCE = re.compile(r"\.(?!\d)|[?!\n。？！]+")  # not inside "38.5"
_PUNCTUATION = r"[.?!;,\n。？！；，、]+"
_QUESTION = re.compile(r"[^.?!\n。？！]+[?？]")
_CLAUSE = re.compile(r"[,;，；、]")
_LATIN_WORD = re.compile(r"[a-z]*")  # the rest of a word a pattern matched the start of ("calcifi" + "ed")


@dataclass(frozen=True)
class RedFlags:
    intro: Text
    unsure: Text
    levels: Dict[Text, Text]  # level -> what to do
    signs: List[RedFlag]
    absent: List[Pattern]  # "no", "not", "never" before the sign's words
    over: List[Pattern]  # "as a newborn", "last year"
    asking: List[Pattern]  # "what signs should I watch for, like yellow eyes?"
    clauses: Pattern  # where a part of a sentence ends
    joiners: Dict[Text, Text]  # how the language joins sign names: "list" (", ") and "and" (" and ")

    def assess(self, text: Text) -> Tuple[List[RedFlag], List[RedFlag]]:
        """The signs a message says the person has, and those whose words it
        uses without having them (negated, over, asked about, other meaning)."""
        present: List[RedFlag] = []
        dismissed: List[RedFlag] = []
        for sentence in _SENTENCE.split(text.lower()):
            for sign in self.signs:
                if sign in present:
                    continue
                # The sign's first pattern that matches decides (red_flags.yml lists the patterns
                # that carry another meaning's context, "我在减肥，瘦了五斤", first).
                found = next(((p, m) for p, m in ((p, p.search(sentence)) for p in sign.patterns) if m), None)
                if found is None:
                    continue
                (present if self._has_sign(sentence, sign, *found) else dismissed).append(sign)
        return present, [sign for sign in dismissed if sign not in present]

    def _has_sign(self, sentence: Text, sign: RedFlag, pattern: Pattern, match: Any) -> bool:
        """Whether the sign's words at `match` say the person has it now."""
        # The part of the sentence the sign is said in ("no fever, but my eyes are yellow").
        start = max((m.end() for m in self.clauses.finditer(sentence, 0, match.start())), default=0)
        end = next((m.start() for m in self.clauses.finditer(sentence, match.end())), len(sentence))
        part = sentence[start:end]
        # "eyes are not yellow" is negated inside the match; "not making sense" is the sign.
        said = sentence[start: match.start() if self._negates(pattern.pattern) else match.end()]
        # Asking about a sign is judged in its own part: "my eyes are yellow, could the spot cause
        # this?" has the sign; "what should I watch for, like yellow eyes?" asks about it.
        return not (any(asking.search(part) for asking in self.asking) or self._negates(said)
                    or any(other.search(part) for other in self.over + sign.not_when))

    def _negates(self, text: Text) -> bool:
        return any(pattern.search(text) for pattern in self.absent)

    def find(self, text: Text) -> List[RedFlag]:
        return self.assess(text)[0]

    def warning(self, signs: List[RedFlag]) -> Text:
        """What to say first: the signs named, then the most urgent advice;
        with no sign understood, the signs to check."""
        if not signs:
            return self.unsure.format(signs=self.joiners["list"].join(sign.name for sign in self.signs))
        level = "emergency" if any(sign.level == "emergency" for sign in signs) else "prompt"
        names = self.joiners["and"].join(sign.name for sign in signs)
        return flow(f"{self.intro.format(signs=names)} {self.levels[level]}")


@dataclass(frozen=True)
class ScopeKind:
    id: Text
    patterns: List[Pattern]
    unless: Optional[Text]  # "finding" or "liver": words that keep the message in scope
    decline: Text
    referred_to: bool = False  # a thing a later "it" can mean (a stone, a cyst), not only the finding


@dataclass(frozen=True)
class Scope:
    """Questions near the assistant's field that it declines (content/scope.yml)."""

    guards: Dict[Text, Pattern]  # "finding", "liver"
    kinds: List[ScopeKind]
    general: Text
    refers_back: Pattern  # "it", "this": a sentence about the finding named before
    turns_to: Pattern  # "but what about", "主要想问": what follows is what the patient asks about
    pronoun: Optional[Pattern] = None  # "it": points to the thing named last
    links: Optional[Pattern] = None  # "caused", "linked": a question that ties the other thing to the finding
    background: Optional[Pattern] = None  # "the scan for my kidney stones": a thing named only as background

    def outside(self, text: Text, guards: Optional[List[Dict[Text, Pattern]]] = None) -> Optional[ScopeKind]:
        """The kind of near-scope question a message asks, if any. A kind with
        `unless` is kept in scope by its guard words (of any language in
        `guards`), except when a question in it (or its last sentence) asks about
        the other thing without them ("...my liver spot is fine. Can I eat eggs
        with a gallstone?"), unless a reference back to the finding comes before
        the other thing ("can it pass like a kidney stone?"); when a question names
        neither and its "it" points to the other thing, named last before it
        ("...and a 6 mm kidney stone. Will it pass?"); or when the message turns to
        the other thing ("my liver spot is harmless, but what about the gallstones?")."""
        guards = guards or [self.guards]
        lowered = text.lower()
        asked = [(match.start(), match.group()) for match in _QUESTION.finditer(lowered)]
        # The clause a question mark ends may ask about the other thing alone ("..., could the cyst burst?").
        clauses = [(start + len(question) - len(clause), clause)
                   for start, question in asked for clause in [_CLAUSE.split(question)[-1]]]
        sentences = [sentence for sentence in _SENTENCE.split(lowered) if sentence.strip()]
        questions = asked + clauses or [(lowered.rfind(sentence), sentence) for sentence in sentences[-1:]]
        turns = list(self.turns_to.finditer(lowered))
        turned_to = lowered[turns[-1].end():] if turns else ""

        def guarded(kind: ScopeKind, part: Text) -> bool:
            return any(guard[kind.unless].search(part) for guard in guards)

        def first_other(kind: ScopeKind, part: Text) -> Optional[int]:
            return min((match.start() for pattern in kind.patterns for match in [pattern.search(part)] if match),
                       default=None)

        def named_last_is_other(kind: ScopeKind, before: Text) -> bool:
            # "The scan for my kidney stones" is background, not a thing named.
            before = self.background.sub(" ", before) if self.background else before
            other = max((match.start() for pattern in kind.patterns for match in pattern.finditer(before)), default=None)
            guard = max((match.end() + len(_LATIN_WORD.match(before, match.end()).group())
                         for g in guards for match in g[kind.unless].finditer(before)), default=None)
            # "A calcified cyst": the guard word right before the other thing names the finding.
            return other is not None and (guard is None or other > guard + 1)

        def asks_about_other(kind: ScopeKind, start: int, question: Text) -> bool:
            if guarded(kind, question):
                return False
            other = first_other(kind, question)
            if other is not None:
                # "this kidney stone", "这个肾结石": a word right before the other thing points to it, not back.
                backs = [match for match in self.refers_back.finditer(question) if not 0 <= other - match.end() <= 1]
                # A reference before the other thing points back; two different ones after it link the
                # two ("could that come from this?"), unlike "it ... on its own".
                words = {match.group().split("'")[0].rstrip("s") for match in backs}
                # "Could my gallstones have caused it?": a reference after a linking word asks about the finding.
                linked = bool(backs) and self.links is not None and bool(self.links.search(question))
                return not any(match.start() < other for match in backs) and len(words) < 2 and not linked
            return (kind.referred_to and self.pronoun is not None and bool(self.pronoun.search(question))
                    and not (self.links and self.links.search(question)) and named_last_is_other(kind, lowered[:start]))

        def turns_to_other(kind: ScopeKind) -> bool:
            # After the turn, "that one" means the other thing; only a reference before it points back.
            first = first_other(kind, turned_to)
            return (first is not None and not guarded(kind, turned_to)
                    and not self.refers_back.search(turned_to[:first]))

        for kind in self.kinds:
            if not any(pattern.search(lowered) for pattern in kind.patterns):
                continue
            if not kind.unless or not guarded(kind, lowered):
                return kind
            if any(asks_about_other(kind, start, question) for start, question in questions) or turns_to_other(kind):
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


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIOD = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))")


@dataclass(frozen=True)
class OpeningHours:
    """When the clinic team answers patients in the chat (content/clinic.yml)."""

    timezone: ZoneInfo
    phone: Text
    weekly: Dict[int, List[Tuple[int, int]]]  # weekday (0 = Monday) -> (start, end) in minutes after midnight
    closed: FrozenSet[datetime.date]

    def is_open(self, now: datetime.datetime) -> bool:
        local = now.astimezone(self.timezone)
        minute = local.hour * 60 + local.minute
        return local.date() not in self.closed and any(
            start <= minute < end for start, end in self.weekly.get(local.weekday(), []))

    def next_opening(self, now: datetime.datetime) -> datetime.datetime:
        """The first opening after `now`, in the clinic's time zone. The loader makes
        sure the week opens at least once, so one is found after the closed dates."""
        local = now.astimezone(self.timezone)
        for offset in range(len(self.closed) + 8):
            day = local.date() + datetime.timedelta(days=offset)
            if day in self.closed:
                continue
            for start, _ in self.weekly.get(day.weekday(), []):
                opening = datetime.datetime.combine(day, datetime.time(start // 60, start % 60), self.timezone)
                if opening > local:
                    return opening
        raise AssertionError("unreachable: the loader refuses a week without opening hours")


@dataclass(frozen=True)
class Calendar:
    """How a language writes the next opening: "tomorrow at 8:30 AM", "明天上午8:30"
    (content/<language>/clinic.yml)."""

    today: Text
    tomorrow: Text
    later: Text
    time: Text
    halves: List[Text]  # before and after noon
    weekdays: List[Text]  # Monday first
    months: List[Text]

    def when(self, moment: datetime.datetime, now: datetime.datetime) -> Text:
        """`moment` as the patient reads it at `now` (both in the clinic's time zone)."""
        days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
        time = self.time.format(hour=moment.hour, hour12=moment.hour % 12 or 12, minute=f"{moment.minute:02d}",
                                half=self.halves[moment.hour >= 12])
        template = self.today if days == 0 else self.tomorrow if days == 1 else self.later
        return template.format(time=time, weekday=self.weekdays[moment.weekday()], month=self.months[moment.month - 1],
                               day=moment.day)


@dataclass(frozen=True)
class Content:
    topics: Dict[Text, Topic]
    citations: Dict[Text, Text]  # seed file name -> how the bot cites it
    red_flags: RedFlags
    scope: Scope
    guidance: Guidance
    clinic: Dict[Text, Text]
    calendar: Calendar
    citation_separator: Text  # between two citations in a source line ("; ")

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
            if re.search(rf"(?<![a-z0-9]){re.escape(name.lower())}(?![a-z0-9])", lowered)
        ]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def source_line(self, topic: Topic) -> Text:
        return self.citation_separator.join(self.citations[source] for source in topic.sources)

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
    """Words of Latin script, and pairs of Chinese characters (Chinese has no spaces)."""
    lowered = text.lower()
    words = {word for word in re.findall(r"[a-z]+", lowered) if word not in _STOP_WORDS and len(word) > 2}
    for run in re.findall(r"[\u4e00-\u9fff]+", lowered):
        words.update(run[i:i + 2] for i in range(len(run) - 1))
    return words


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


def _load_citations(path: Path) -> Tuple[Dict[Text, Text], Text]:
    data = _read_yaml(path)
    separator = data.get("separator")
    if not isinstance(separator, str) or not separator.strip():
        raise ContentError(f"{path}: field 'separator' (between two citations, such as '; ') is missing or empty")
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise ContentError(f"{path}: field 'sources' must map seed file names to their details")
    citations = {}
    for name, details in sources.items():
        cite_as = details.get("cite_as") if isinstance(details, dict) else None
        if not isinstance(cite_as, str) or not cite_as.strip():
            raise ContentError(f"{path}: source '{name}': field 'cite_as' is missing or empty")
        citations[name] = cite_as.strip()
    return citations, separator


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
            **{field: flow(entry[field]) for field in TEXT_FIELDS},
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
    return flow(value)


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
    if not isinstance(levels, dict) or set(levels) != {"emergency", "prompt"} \
            or not all(isinstance(text, str) and text.strip() for text in levels.values()):
        raise ContentError(f"{path}: field 'levels' must give the advice for 'emergency' and 'prompt'")
    signs = []
    for number, entry in enumerate(data.get("signs") or [], start=1):
        if not isinstance(entry, dict):
            raise ContentError(f"{path}: sign #{number}: expected a mapping of fields")
        where = f"sign '{entry.get('id', number)}': "
        if not isinstance(entry.get("level"), str) or entry["level"] not in levels:
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
    clause_breaks = _pattern(path, "", data, "clause_breaks")
    return RedFlags(intro, unsure, {level: flow(text) for level, text in levels.items()}, signs,
                    *(_patterns(path, "not_a_sign: ", not_a_sign, field) for field in ("absent", "over", "asking")),
                    re.compile(f"{_PUNCTUATION}|{clause_breaks.pattern}"), _joiners(path, data))


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
                               entry.get("unless"), _text(path, where, entry, "decline"), entry.get("referred_to") is True))
    return Scope(guards, kinds, _text(path, "", data, "general"), _pattern(path, "", data, "refers_back"),
                 _pattern(path, "", data, "turns_to"),
                 *(_pattern(path, "", data, field) if field in data else None for field in ("pronoun", "links", "background")))


def _joiners(path: Path, data: Dict[Text, Any]) -> Dict[Text, Text]:
    joiners = data.get("joiners")
    if not isinstance(joiners, dict) or not all(isinstance(joiners.get(key), str) for key in ("list", "and")):
        raise ContentError(f"{path}: field 'joiners' must give the words that join sign names: 'list' and 'and'")
    return {key: joiners[key] for key in ("list", "and")}


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


# Templates of clinic.yml and the placeholders each must use (and may use, no others).
_CLINIC_TEMPLATES = {
    "reply_option": ("number", "title"), "summary_intro": ("date",), "summary_warning": ("signs",),
    "handoff_closed": ("when", "phone"), "staff_says": ("name", "text"), "staff_says_unnamed": ("text",),
}


def _template(path: Path, field: Text, text: Text, required: Tuple[Text, ...], allowed: Tuple[Text, ...] = ()) -> None:
    """A template names each required placeholder and no unknown one."""
    missing = [name for name in required if f"{{{name}}}" not in text]
    if missing:
        raise ContentError(f"{path}: field '{field}' must contain {', '.join(f'{{{name}}}' for name in missing)}")
    try:
        text.format(**{name: "" for name in required + allowed})
    except (KeyError, IndexError, ValueError) as error:
        raise ContentError(f"{path}: field '{field}' has an unknown placeholder or a stray brace ({error})")


def load_clinic(path: Path) -> Dict[Text, Text]:
    data = _read_yaml(path)
    clinic = {field: _text(path, "", data, field)
              for field in ("name", "contact", "handoff_sent", "handoff_unavailable", "handoff_closed", "handed_back",
                            "staff_says", "staff_says_unnamed", "try_again", "slow_down", "message_refused",
                            "reply_option", "summary_intro", "summary_warning", "summary_closing", "summary_empty")}
    for field, placeholders in _CLINIC_TEMPLATES.items():
        _template(path, field, clinic[field], placeholders)
    return clinic


def _names(path: Path, data: Dict[Text, Any], field: Text, count: int) -> List[Text]:
    value = data.get(field)
    if not isinstance(value, list) or len(value) != count or not all(isinstance(v, str) and v.strip() for v in value):
        raise ContentError(f"{path}: field '{field}' must list {count} names")
    return value


def load_calendar(path: Path) -> Calendar:
    data = _read_yaml(path)
    times = ("hour", "hour12", "minute", "half")
    templates = {field: _text(path, "", data, field) for field in ("when_today", "when_tomorrow", "when_later", "time")}
    for field in ("when_today", "when_tomorrow", "when_later"):
        _template(path, field, templates[field], ("time",), ("weekday", "month", "day"))
    _template(path, "time", templates["time"], ("minute",), times)
    if "{hour}" not in templates["time"] and "{hour12}" not in templates["time"]:
        raise ContentError(f"{path}: field 'time' must contain {{hour}} or {{hour12}}")
    return Calendar(templates["when_today"], templates["when_tomorrow"], templates["when_later"], templates["time"],
                    _names(path, data, "halves", 2), _names(path, data, "weekdays", 7), _names(path, data, "months", 12))


def _minutes(text: Text) -> Tuple[int, int]:
    match = _PERIOD.fullmatch(text)
    if not match:
        raise ValueError
    numbers = [int(group) for group in match.groups() if group is not None]
    return numbers[0] * 60 + numbers[1], numbers[2] * 60 + numbers[3]


def load_opening_hours(path: Path) -> OpeningHours:
    """content/clinic.yml: the clinic's time zone, phone number, weekly hours and closed dates."""
    data = _read_yaml(path)
    name = data.get("timezone")
    try:
        timezone = ZoneInfo(name) if isinstance(name, str) and name else None
    except (ZoneInfoNotFoundError, ValueError):
        timezone = None
    if timezone is None:
        raise ContentError(f"{path}: field 'timezone' must be a time zone name such as America/New_York")
    phone = _text(path, "", data, "phone")
    hours = data.get("hours")
    if not isinstance(hours, dict) or not set(hours) <= set(WEEKDAYS):
        raise ContentError(f"{path}: field 'hours' must map days ({', '.join(WEEKDAYS)}) to lists of opening periods")
    weekly: Dict[int, List[Tuple[int, int]]] = {}
    for day, periods in hours.items():
        where = f"{path}: hours: {day}: "
        if not isinstance(periods, list):
            raise ContentError(f"{where}must be a list of periods such as [\"09:00-17:00\"] (an empty list: closed)")
        try:
            spans = sorted(_minutes(str(period)) for period in periods)
        except ValueError:
            raise ContentError(f"{where}a period is not written as HH:MM-HH:MM (24-hour clock, such as 09:00-17:00)")
        if any(start >= end for start, end in spans) or any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            raise ContentError(f"{where}each period must end after it starts, and periods must not overlap")
        weekly[WEEKDAYS.index(day)] = spans
    if not any(weekly.values()):
        raise ContentError(f"{path}: field 'hours' must open on at least one day")
    closed = data.get("closed_dates") or []
    try:
        if not isinstance(closed, list):
            raise ValueError
        dates = frozenset(d if isinstance(d, datetime.date) else datetime.date.fromisoformat(str(d)) for d in closed)
    except ValueError:
        raise ContentError(f"{path}: field 'closed_dates' must be a list of dates written YYYY-MM-DD")
    return OpeningHours(timezone, phone, weekly, dates)


def load_content(directory: Path) -> Content:
    """Reads and checks the content files of one language; raises ContentError naming the problem."""
    directory = Path(directory)
    citations, separator = _load_citations(directory / "sources.yml")
    return Content(
        topics=_load_topics(directory / "topics.yml", citations),
        citations=citations,
        red_flags=load_red_flags(directory / "red_flags.yml"),
        scope=load_scope(directory / "scope.yml"),
        guidance=_load_guidance(directory / "guidance.yml", citations),
        clinic=load_clinic(directory / "clinic.yml"),
        calendar=load_calendar(directory / "clinic.yml"),
        citation_separator=separator,
    )


def load_languages(root: Path = CONTENT_DIR) -> Languages:
    path = Path(root) / "languages.yml"
    return parse_languages(_read_yaml(path), str(path), ContentError)


@dataclass(frozen=True)
class Library:
    """The content in every language served."""

    languages: Languages
    contents: Dict[Text, Content]  # language code -> its content
    hours: OpeningHours  # when the clinic team answers (content/clinic.yml)

    def content(self, language: Optional[Text]) -> Content:
        """The content in a language; the default language's for an unknown or missing one."""
        return self.contents.get(language or "", self.contents[self.languages.default])

    def assess_red_flags(self, text: Text) -> Tuple[List[RedFlag], List[RedFlag]]:
        """Warning signs in every language, whatever the conversation's language."""
        present: Dict[Text, RedFlag] = {}
        dismissed: Dict[Text, RedFlag] = {}
        for content in self.contents.values():
            found, ignored = content.red_flags.assess(text)
            present.update((sign.id, sign) for sign in found if sign.id not in present)
            dismissed.update((sign.id, sign) for sign in ignored)
        return list(present.values()), [sign for sign_id, sign in dismissed.items() if sign_id not in present]

    def signs(self, text: Text, language: Optional[Text]) -> List[RedFlag]:
        """The signs a message says the person has, named in the conversation's language."""
        names = {sign.id: sign for sign in self.content(language).red_flags.signs}
        return [names[sign.id] for sign in self.assess_red_flags(text)[0]]

    def waiting_for_staff(self, language: Optional[Text], now: datetime.datetime) -> Text:
        """What a patient handed to the clinic team is told: in opening hours that
        someone will join; outside them when staff will answer and the phone number."""
        content = self.content(language)
        if self.hours.is_open(now):
            return content.clinic["handoff_sent"]
        opening = self.hours.next_opening(now)
        return content.clinic["handoff_closed"].format(when=content.calendar.when(opening, now), phone=self.hours.phone)

    def outside_scope(self, text: Text) -> Optional[ScopeKind]:
        guards = [content.scope.guards for content in self.contents.values()]
        return next(filter(None, (content.scope.outside(text, guards) for content in self.contents.values())), None)


def _skeleton(content: Content) -> Dict[Tuple[Text, Text], Dict[Text, Dict[Text, Any]]]:
    """What must be the same in every language: the entries and their non-text fields."""
    return {
        ("topics.yml", "topic"): {topic.id: {"intents": topic.intents, "related": topic.related, "sources": topic.sources,
                                             "follow_ups": topic.follow_ups, "mentioned_by": topic.mentioned_by is not None}
                                  for topic in content.topics.values()},
        ("red_flags.yml", "sign"): {sign.id: {"level": sign.level} for sign in content.red_flags.signs},
        ("scope.yml", "kind"): {kind.id: {"unless": kind.unless} for kind in content.scope.kinds},
        ("guidance.yml", "rule"): {rule.id: {"when": rule.when, "sources": rule.sources} for rule in content.guidance.rules},
        ("sources.yml", "source"): {name: {} for name in content.citations},
    }


def _check_same_entries(root: Path, default: Text, reference: Content, language: Text, content: Content) -> None:
    theirs = _skeleton(content)
    for (file, kind), entries in _skeleton(reference).items():
        where, model = root / language / file, root / default / file
        for entry_id, fields in entries.items():
            if entry_id not in theirs[(file, kind)]:
                raise ContentError(f"{where}: {kind} '{entry_id}' is missing ({model} has it)")
            for field, value in fields.items():
                if theirs[(file, kind)][entry_id][field] != value:
                    raise ContentError(f"{where}: {kind} '{entry_id}': field '{field}' differs from {model}")
        extra = sorted(set(theirs[(file, kind)]) - set(entries))
        if extra:
            raise ContentError(f"{where}: {kind} '{extra[0]}' is not in {model}")


def load_library(root: Path = CONTENT_DIR) -> Library:
    """Every language's content, checked against the default language's:
    the same entries with the same non-text fields, every text present."""
    root = Path(root)
    languages = load_languages(root)
    contents = {code: load_content(root / code) for code in languages.codes}
    for code, content in contents.items():
        _check_same_entries(root, languages.default, contents[languages.default], code, content)
    return Library(languages, contents, load_opening_hours(root / "clinic.yml"))
