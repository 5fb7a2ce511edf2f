"""Property-based tests (hypothesis) of what takes untrusted or hand-edited
input: the masking, the content loader, the text-only rendering and the REST
channel's body checks. Each runs a bounded number of generated examples."""
import asyncio
import copy
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from sanic.exceptions import SanicException

from connectors.rest import MAX_MESSAGE_CHARS, CheckedRestInput
from connectors.text_only import SMS_MAX_CHARS, UCS2_MAX_CHARS, numbered_options, split_text
from content_model import ContentError, load_content
from privacy.masking import mask
from tests.e2e.conftest import ROOT

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MEDICAL = ["segment VI", "5 mm", "3 to 6 months", "2 to 3 years", "CT", "MRI", "B超", "3到6个月", "0.36% to 1.2%",
           "strong echo", "bile duct stones", "肝内钙化灶"]
# Lower-case words, digits up to 3 in a row and punctuation: nothing that names or numbers a person.
filler = st.lists(st.sampled_from(list("abcdefghijklmnopqrstuvwxyz ,.?!") + ["is ", "the ", "my "]), max_size=40).map("".join)


@SETTINGS
@given(st.text(max_size=400))
def test_masking_never_fails_and_is_idempotent(text):
    masked = mask(text)
    assert isinstance(masked, str)
    assert mask(masked) == masked


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=30), st.from_regex(r"\+?\d[\d ().-]{5,20}\d", fullmatch=True)), max_size=8))
def test_no_run_of_six_digits_survives(parts):
    masked = mask(" ".join(parts))
    assert not re.search(r"(?<![0-9A-Za-z])\d{6,}(?![0-9A-Za-z])", masked)


@SETTINGS
@given(filler, st.sampled_from(MEDICAL), filler)
def test_medical_words_stay_readable(before, medical, after):
    assert medical in mask(f"{before} {medical} {after}")


@pytest.fixture(scope="module")
def content_copy(tmp_path_factory) -> Path:
    copy_dir = tmp_path_factory.mktemp("content") / "en"
    shutil.copytree(ROOT / "content" / "en", copy_dir)
    return copy_dir


def paths(data, prefix=()):
    """Every place in a YAML tree, as a path of keys and indices."""
    yield prefix
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, child in items:
        yield from paths(child, prefix + (key,))


junk = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                                       max_size=3), max_leaves=6)


@settings(SETTINGS, max_examples=60)
@given(st.sampled_from(["topics.yml", "clinic.yml", "red_flags.yml", "scope.yml", "guidance.yml", "sources.yml"]),
       st.data())
def test_a_broken_content_file_is_refused_with_content_error_never_another_error(content_copy, name, data):
    original = yaml.safe_load((ROOT / "content" / "en" / name).read_text(encoding="utf-8"))
    broken = copy.deepcopy(original)
    where = data.draw(st.sampled_from(list(paths(broken))[1:]))
    parent = broken
    for key in where[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        parent[where[-1]] = data.draw(junk)
    else:
        del parent[where[-1]]
    (content_copy / name).write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    try:
        load_content(content_copy)
    except ContentError as error:
        # Named: the broken file, or another that now disagrees with it (a removed source).
        assert str(content_copy) in str(error)
    finally:
        (content_copy / name).write_text(yaml.safe_dump(original, allow_unicode=True), encoding="utf-8")


@SETTINGS
@given(st.text(max_size=1500), st.sampled_from([SMS_MAX_CHARS, UCS2_MAX_CHARS, 40]))
def test_split_text_keeps_every_word_within_the_limit(text, limit):
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"title": st.text(max_size=60), "payload": st.text(max_size=20)}), max_size=5),
       st.integers(1, 50), st.text(max_size=80))
def test_numbered_options_number_every_button_in_order(buttons, first, text):
    lines = numbered_options(buttons, first, text)
    assert len(lines) == len(buttons)
    assert all(str(first + n) in line for n, line in enumerate(lines))


class Request:
    """What CheckedRestInput reads of a Sanic request: the body and its JSON."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children,
                                                                                           max_size=3), max_leaves=8)


@SETTINGS
@given(st.one_of(st.binary(max_size=300),
                 st.builds(lambda sender, message: json.dumps({"sender": sender, "message": message}).encode(),
                           json_values, json_values)))
def test_rest_body_checks_accept_or_refuse_with_4xx_only(body):
    channel = CheckedRestInput.__new__(CheckedRestInput)
    request = Request(body)
    try:
        sender = asyncio.run(channel._extract_sender(request))
        message = channel._extract_message(request)
    except SanicException as error:
        assert 400 <= error.status_code < 500
    else:
        assert isinstance(sender, str) and sender.strip() and len(sender) <= 200
        assert isinstance(message, str) and len(message) <= MAX_MESSAGE_CHARS
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", message)
