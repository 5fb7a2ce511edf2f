"""The curated content: schema, traceability to the seeds, and clear errors."""
import shutil
from pathlib import Path

import pytest
import yaml

from content_model import CONTENT_DIR, ContentError, load_content

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT.parent / "shared" / "seeds"
CONTENT = load_content()

REQUIRED_TOPICS = {
    "what_is", "dangerous", "treatment", "rescan_interval", "rescan_duration", "causes", "cancer",
    "bile_duct_stones", "detection", "symptoms", "see_doctor", "go_away", "liver_function",
    "lifestyle", "parasites", "unborn_baby", "who_gets", "report_words", "single_multiple",
}


def domain_intents():
    return set(yaml.safe_load((ROOT / "domain.yml").read_text())["intents"])


def trained_intents():
    intents = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                intents.add(block["intent"])
    return intents


def test_every_required_topic_is_written():
    assert REQUIRED_TOPICS <= set(CONTENT.topics)


@pytest.mark.parametrize("topic_id", sorted(CONTENT.topics))
def test_topic_is_reachable_from_a_trained_intent(topic_id):
    topic = CONTENT.topics[topic_id]
    assert set(topic.intents) & domain_intents() & trained_intents(), f"no trained intent leads to {topic_id}"


@pytest.mark.parametrize("topic_id", sorted(CONTENT.topics))
def test_short_answer_is_short(topic_id):
    sentences = [s for s in CONTENT.topics[topic_id].short_answer.replace("?", ".").split(". ") if s.strip()]
    assert 1 <= len(sentences) <= 3, CONTENT.topics[topic_id].short_answer


@pytest.mark.parametrize("topic_id", sorted(CONTENT.topics))
def test_topic_names_seeds_that_exist(topic_id):
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    for source in CONTENT.topics[topic_id].sources:
        assert (SEEDS / source).is_file(), f"{topic_id} cites missing seed {source}"


def test_every_topic_is_someone_elses_related_topic():
    related = {target for topic in CONTENT.topics.values() for target in topic.related}
    assert set(CONTENT.topics) - related == set()


@pytest.mark.parametrize("text", [t.short_answer + " " + t.explanation + " " + t.what_you_can_do for t in CONTENT.topics.values()])
def test_no_medicine_names_and_no_refuted_claims(text):
    lowered = text.lower()
    for banned in ("albendazole", "mebendazole", "glycyrrhizin", "antibiotic", "antiviral", "mg ",
                   "precursor", "you do not have cancer", "you are fine", "portal hypertension"):
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


def break_first_topic(directory, change):
    path = directory / "topics.yml"
    data = yaml.safe_load(path.read_text())
    change(data["topics"][0])
    path.write_text(yaml.safe_dump(data))


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
        load_content(content_copy)
    assert "topics.yml" in str(error.value)
    assert expected in str(error.value)


def test_unreadable_yaml_is_refused_naming_the_file(content_copy):
    (content_copy / "red_flags.yml").write_text("signs: [unclosed")
    with pytest.raises(ContentError, match="red_flags.yml: not valid YAML"):
        load_content(content_copy)


def test_broken_red_flag_pattern_is_refused(content_copy):
    path = content_copy / "red_flags.yml"
    data = yaml.safe_load(path.read_text())
    data["signs"][0]["patterns"] = ["yellow (eyes"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ContentError, match="sign 'jaundice': field 'patterns' has a broken pattern"):
        load_content(content_copy)


def test_missing_file_is_refused(content_copy):
    (content_copy / "guidance.yml").unlink()
    with pytest.raises(ContentError, match="guidance.yml: file not found"):
        load_content(content_copy)
