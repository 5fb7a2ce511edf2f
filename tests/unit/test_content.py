"""The curated content in every language: schema, traceability to the seeds,
the same entries and fields in each language, and clear errors."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from content_model import CONTENT_DIR, ContentError, load_library

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
LIBRARY = load_library()
LANGUAGES = LIBRARY.languages.codes
CONTENT = LIBRARY.content(LIBRARY.languages.default)

REQUIRED_TOPICS = {
    "what_is", "dangerous", "treatment", "rescan_interval", "rescan_duration", "causes", "cancer",
    "bile_duct_stones", "detection", "symptoms", "see_doctor", "go_away", "liver_function",
    "lifestyle", "parasites", "unborn_baby", "who_gets", "report_words", "single_multiple",
}


def domain_intents():
    return set(yaml.safe_load((ROOT / "domain.yml").read_text())["intents"])


def trained_intents(language):
    intents = set()
    for path in (ROOT / "data" / "nlu" / language).glob("*.yml"):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                intents.add(block["intent"])
    return intents


PER_TOPIC = [(language, topic_id) for language in LANGUAGES for topic_id in sorted(CONTENT.topics)]


def test_every_required_topic_is_written():
    assert REQUIRED_TOPICS <= set(CONTENT.topics)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_training_examples_in_every_language(language):
    missing = domain_intents() - trained_intents(language)
    assert not missing, f"data/nlu/{language}/ has no examples of {sorted(missing)}"


@pytest.mark.parametrize("language, topic_id", PER_TOPIC)
def test_short_answer_is_short(language, topic_id):
    answer = LIBRARY.content(language).topics[topic_id].short_answer
    sentences = [s for s in re.split(r"[.?!。？！]\s*", answer) if s.strip()]
    assert 1 <= len(sentences) <= 3, answer


@pytest.mark.parametrize("language, topic_id", PER_TOPIC)
def test_topic_has_a_name_and_texts_in_its_language(language, topic_id):
    topic = LIBRARY.content(language).topics[topic_id]
    if language == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", text) for text in (topic.question, topic.short_answer, topic.explanation))
    assert topic.names or topic_id == "report_words"


@pytest.mark.parametrize("topic_id", sorted(CONTENT.topics))
def test_topic_names_seeds_that_exist(topic_id):
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    for source in CONTENT.topics[topic_id].sources:
        assert (SEEDS / source).is_file(), f"{topic_id} cites missing seed {source}"


def test_every_topic_is_someone_elses_related_topic():
    related = {target for topic in CONTENT.topics.values() for target in topic.related}
    assert set(CONTENT.topics) - related == set()


BANNED = ("albendazole", "mebendazole", "glycyrrhizin", "antibiotic", "antiviral", "mg ", "precursor",
          "you do not have cancer", "you are fine", "portal hypertension",
          "阿苯达唑", "甲苯咪唑", "甘草酸", "抗生素", "抗病毒", "毫克", "护肝片", "利胆片", "癌前", "你没事", "门脉高压", "门静脉高压")


@pytest.mark.parametrize("language, text", [(language, t.short_answer + " " + t.explanation + " " + t.what_you_can_do)
                                            for language in LANGUAGES for t in LIBRARY.content(language).topics.values()])
def test_no_medicine_names_and_no_refuted_claims(language, text):
    lowered = text.lower()
    for banned in BANNED:
        assert banned not in lowered


def test_red_flags_match_warning_signs_and_not_mild_symptoms():
    find = CONTENT.red_flags.find
    assert [s.id for s in find("my eyes have gone yellow")] == ["jaundice"]
    assert [s.id for s in find("I threw up blood this morning")] == ["vomiting_blood"]
    assert find("I feel a bit tired lately") == []
    assert find("is a liver calcification dangerous?") == []


def test_guidance_table_gives_follow_up_advice_for_a_simple_spot():
    answers = {"scan": "ultrasound", "spots": "single", "symptoms": "no", "wide_ducts": "no",
               "mass": "no", "liver_disease": "no", "cancer_history": "no", "parasite_area": "no"}
    assert [rule.id for rule in CONTENT.guidance.advise(answers)] == ["simple_follow_up"]


def test_guidance_table_sends_widened_ducts_and_cancer_history_to_the_doctor():
    answers = {"scan": "ct", "spots": "multiple", "symptoms": "unknown", "wide_ducts": "yes",
               "mass": "no", "liver_disease": "no", "cancer_history": "yes", "parasite_area": "no"}
    assert [rule.id for rule in CONTENT.guidance.advise(answers)] == ["cancer_history", "wide_ducts", "not_sure"]


@pytest.fixture
def content_copy(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit_yaml(directory, language, name, change):
    """Changes one content file of a copy: `change` gets its data and edits it in place."""
    path = directory / language / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def break_first_topic(directory, change, language="en"):
    edit_yaml(directory, language, "topics.yml", lambda data: change(data["topics"][0]))


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda topic: topic.pop("short_answer"), "topic 'what_is': field 'short_answer' is missing"),
        (lambda topic: topic.update(short_answer="  "), "field 'short_answer' is missing or empty"),
        (lambda topic: topic.update(related=["no_such_topic"]), "unknown topics ['no_such_topic']"),
        (lambda topic: topic.update(sources=["999_unknown.txt"]), "unknown seed files ['999_unknown.txt']"),
        (lambda topic: topic.update(sources=[]), "field 'sources' must not be empty"),
        (lambda topic: topic.update(id="Bad Id"), "field 'id' must be a snake_case name"),
        (lambda topic: topic.update(intents=["ask_dangerous"]), "'ask_dangerous' already belongs to topic"),
    ],
)
def test_broken_topic_is_refused_naming_file_and_field(content_copy, change, expected):
    break_first_topic(content_copy, change)
    with pytest.raises(ContentError) as error:
        load_library(content_copy)
    assert "en/topics.yml" in str(error.value)
    assert expected in str(error.value)


@pytest.mark.parametrize("language", LANGUAGES)
def test_unreadable_yaml_is_refused_naming_the_file(content_copy, language):
    (content_copy / language / "red_flags.yml").write_text("signs: [unclosed")
    with pytest.raises(ContentError, match=f"{language}/red_flags.yml: not valid YAML"):
        load_library(content_copy)


@pytest.mark.parametrize("language", LANGUAGES)
def test_broken_red_flag_pattern_is_refused(content_copy, language):
    edit_yaml(content_copy, language, "red_flags.yml", lambda data: data["signs"][0].update(patterns=["yellow (eyes"]))
    with pytest.raises(ContentError, match="sign 'jaundice': field 'patterns' has a broken pattern"):
        load_library(content_copy)


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_file_is_refused(content_copy, language):
    (content_copy / language / "guidance.yml").unlink()
    with pytest.raises(ContentError, match=f"{language}/guidance.yml: file not found"):
        load_library(content_copy)


OTHER_LANGUAGES = [language for language in LANGUAGES if language != LIBRARY.languages.default]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_language_without_a_topic_is_refused_naming_it(content_copy, language):
    edit_yaml(content_copy, language, "topics.yml",
              lambda data: data.update(topics=[topic for topic in data["topics"] if topic["id"] != "cancer"]))
    # Other topics lead to it, so the loader names it as they do.
    with pytest.raises(ContentError, match=f"{language}/topics.yml: .*'cancer'"):
        load_library(content_copy)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_language_without_a_text_is_refused_naming_the_field(content_copy, language):
    break_first_topic(content_copy, lambda topic: topic.pop("explanation"), language)
    with pytest.raises(ContentError, match=f"{language}/topics.yml: topic 'what_is': field 'explanation' is missing"):
        load_library(content_copy)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_language_whose_topic_leads_elsewhere_is_refused(content_copy, language):
    break_first_topic(content_copy, lambda topic: topic.update(related=["cancer", "causes", "symptoms"]), language)
    with pytest.raises(ContentError, match=f"{language}/topics.yml: topic 'what_is': field 'related' differs"):
        load_library(content_copy)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_a_language_without_a_warning_sign_is_refused(content_copy, language):
    edit_yaml(content_copy, language, "red_flags.yml", lambda data: data.update(signs=data["signs"][1:]))
    with pytest.raises(ContentError, match=f"{language}/red_flags.yml: sign 'jaundice' is missing"):
        load_library(content_copy)


def test_a_listed_language_without_its_folder_is_refused(content_copy):
    edit_yaml(content_copy, ".", "languages.yml",
              lambda data: data["languages"].update(fr=dict(data["languages"]["en"], name="Français", switch="français")))
    with pytest.raises(ContentError, match="fr/sources.yml: file not found"):
        load_library(content_copy)


def domain_responses():
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def variation_language(variant):
    return next((c["value"] for c in variant.get("condition", []) if c["name"] == "language"), LIBRARY.languages.default)


@pytest.mark.parametrize("name", sorted(domain_responses()))
def test_every_response_has_one_variation_per_language_with_the_same_buttons(name):
    variants = domain_responses()[name]
    by_language = {}
    for variant in variants:
        by_language.setdefault(variation_language(variant), []).append(variant)
    assert sorted(by_language) == sorted(LANGUAGES), f"{name}: variations for {sorted(by_language)}"
    payloads = {language: [[b["payload"] for b in v.get("buttons", [])] for v in vs] for language, vs in by_language.items()}
    assert len({str(p) for p in payloads.values()}) == 1, f"{name}: buttons differ between languages {payloads}"
    placeholders = {language: sorted(set(re.findall(r"\{(\w+)\}", vs[0]["text"]))) for language, vs in by_language.items()}
    assert len({str(p) for p in placeholders.values()}) == 1, f"{name}: placeholders differ {placeholders}"


def widget_strings(language):
    return yaml.safe_load((CONTENT_DIR / language / "widget.yml").read_text(encoding="utf-8"))["strings"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_text_of_the_widget(language):
    script = (ROOT / "webchat" / "widget.js").read_text(encoding="utf-8")
    block = script[script.index("const STRINGS = {"):]
    keys = set(re.findall(r"^\s+(\w+): ", block[: block.index("};")], re.MULTILINE))
    strings = widget_strings(language)
    assert set(strings) == keys | {"title"}, f"content/{language}/widget.yml differs from widget.js's STRINGS"
    assert all(isinstance(text, str) and text.strip() for text in strings.values())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("change, expected", [
    (lambda data: data.update(handoff_closed="Staff answer soon."), "field 'handoff_closed' must contain {when}, {phone}"),
    (lambda data: data.update(staff_says="{who}: {name} {text}"), "field 'staff_says' has an unknown placeholder"),
    (lambda data: data.pop("handed_back"), "field 'handed_back' is missing or empty"),
    (lambda data: data.update(when_later="on {weekday}"), "field 'when_later' must contain {time}"),
    (lambda data: data.update(time="{hour}"), "field 'time' must contain {minute}"),
    (lambda data: data.update(weekdays=data["weekdays"][:6]), "field 'weekdays' must list 7 names"),
    (lambda data: data.update(months="January"), "field 'months' must list 12 names"),
])
def test_broken_hand_off_wording_is_refused_naming_the_field(content_copy, language, change, expected):
    edit_yaml(content_copy, language, "clinic.yml", change)
    with pytest.raises(ContentError) as error:
        load_library(content_copy)
    assert f"{language}/clinic.yml" in str(error.value) and expected in str(error.value)


def test_missing_opening_hours_are_refused(content_copy):
    (content_copy / "clinic.yml").unlink()
    with pytest.raises(ContentError, match="content/clinic.yml: file not found"):
        load_library(content_copy)
