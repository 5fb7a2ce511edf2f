"""Every patient-facing text, in every language, reads easily.

English: US grade 8 or below (Flesch-Kincaid). Chinese has no such formula, so
plain Chinese is checked the way editors of patient leaflets check it: short
sentences (at most 40 characters) and only common characters (among the 6,000
most used, counted from the word frequencies of jieba's dictionary; the
school-level list of common characters has 3,500, and medical words such as
黄疸 rank just above it).
"""
import collections
import datetime
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Tuple

import jieba
import pytest
import textstat
import yaml

from content_model import TEXT_FIELDS, load_library

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library()
MAX_GRADE = 8.0
MAX_SENTENCE_CHARACTERS = 40
COMMON_CHARACTERS = 6000
HAN = re.compile(r"[\u4e00-\u9fff]")


def responses_in(language: str):
    """The domain's responses in a language: the variations whose condition names it
    (the default language's are those with no condition)."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    for name, variants in responses.items():
        for variant in variants:
            conditions = {condition["value"] for condition in variant.get("condition", []) if condition["name"] == "language"}
            if conditions == {language} or (not conditions and language == LIBRARY.languages.default):
                yield name, variant


def patient_texts(language: str) -> Iterator[Tuple[str, str]]:
    content = LIBRARY.content(language)
    for topic in content.topics.values():
        for field in TEXT_FIELDS:
            yield f"content/{language}/topics.yml {topic.id}.{field}", getattr(topic, field)
    red_flags = content.red_flags
    for sign in red_flags.signs:
        yield f"content/{language}/red_flags.yml warning for {sign.id}", red_flags.warning([sign])
    # The list of every sign is a list, not prose: the wording around it is measured with one sign.
    yield f"content/{language}/red_flags.yml unsure", red_flags.unsure.format(signs=red_flags.signs[0].name)
    for kind in content.scope.kinds:
        yield f"content/{language}/scope.yml {kind.id}", kind.decline
    guidance = content.guidance
    yield f"content/{language}/guidance.yml intro", guidance.intro
    yield f"content/{language}/guidance.yml closing", guidance.closing
    for rule in guidance.rules:
        yield f"content/{language}/guidance.yml {rule.id}", rule.message
    for field, text in content.clinic.items():
        if field != "name" and "{" not in text:  # not a template ("Reply {number}: {title}")
            yield f"content/{language}/clinic.yml {field}", text
    # Outside opening hours, as a patient reads it, with its longest "when" (a weekday and date).
    now = datetime.datetime(2026, 12, 4, 18, 0, tzinfo=LIBRARY.hours.timezone)
    when = content.calendar.when(now + datetime.timedelta(days=3, hours=-9, minutes=-30), now)
    yield f"content/{language}/clinic.yml handoff_closed", content.clinic["handoff_closed"].format(
        when=when, phone=LIBRARY.hours.phone)
    for name, variant in responses_in(language):
        if "{" not in variant["text"]:
            yield f"domain.yml {name} ({language})", variant["text"]
        # Labels of one to three words ("Ultrasound") are not sentences; FK says nothing of them.
        for button in variant.get("buttons", []):
            if len(button["title"].split()) > 3 or HAN.search(button["title"]):
                yield f"domain.yml {name} button ({language})", button["title"]


@lru_cache(maxsize=1)
def common_characters() -> frozenset:
    counts: collections.Counter = collections.Counter()
    dictionary = Path(jieba.__file__).parent / "dict.txt"
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        word, frequency = line.split()[:2]
        for character in HAN.findall(word):
            counts[character] += int(frequency)
    return frozenset(character for character, _ in counts.most_common(COMMON_CHARACTERS))


def chinese_problems(text: str) -> list:
    problems = [f"sentence of {len(sentence)} characters (max {MAX_SENTENCE_CHARACTERS}): {sentence}"
                for sentence in re.split(r"[。！？；\n]", text) if len(sentence.strip()) > MAX_SENTENCE_CHARACTERS]
    rare = sorted({character for character in HAN.findall(text) if character not in common_characters()})
    return problems + ([f"rare characters {rare}"] if rare else [])


TEXTS = {language: list(patient_texts(language)) for language in LIBRARY.languages.codes}
ENGLISH = TEXTS.get("en", [])
CHINESE = TEXTS.get("zh", [])


@pytest.mark.parametrize("where, text", ENGLISH, ids=[where for where, _ in ENGLISH])
def test_english_reads_at_grade_8_or_below(where, text):
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{where} reads at grade {grade:.1f} (max {MAX_GRADE}): {text}"


@pytest.mark.parametrize("where, text", CHINESE, ids=[where for where, _ in CHINESE])
def test_chinese_has_short_sentences_and_common_characters(where, text):
    assert not chinese_problems(text), f"{where}: {chinese_problems(text)}"


def test_chinese_check_catches_long_sentences_and_rare_characters():
    assert chinese_problems("肝内钙化灶通常是以前的小伤留下的疤，" * 3)
    assert chinese_problems("钙化灶旁见一龘。")
    assert not chinese_problems("肝内钙化灶通常无害。请按医生说的复查。")


def test_report_the_hardest_texts(capsys):
    graded = sorted(((textstat.flesch_kincaid_grade(text), where) for where, text in ENGLISH), reverse=True)
    lengths = sorted(len(sentence) for _, text in CHINESE for sentence in re.split(r"[。！？；\n]", text) if sentence.strip())
    with capsys.disabled():
        print(f"\nreading level, English: {len(graded)} texts, hardest grade {graded[0][0]:.1f} ({graded[0][1]}), "
              f"median {graded[len(graded) // 2][0]:.1f}")
        if lengths:
            print(f"reading level, Chinese: {len(CHINESE)} texts, longest sentence {lengths[-1]} characters, "
                  f"median {lengths[len(lengths) // 2]}")
    assert graded[0][0] <= MAX_GRADE
