"""Every patient-facing text reads at US grade 8 or below (Flesch-Kincaid)."""
from pathlib import Path

import pytest
import textstat
import yaml

from content_model import TEXT_FIELDS, load_content

ROOT = Path(__file__).resolve().parents[2]
MAX_GRADE = 8.0
CONTENT = load_content()


def patient_texts():
    for topic in CONTENT.topics.values():
        for field in TEXT_FIELDS:
            yield f"content/topics.yml {topic.id}.{field}", getattr(topic, field)
    red_flags = CONTENT.red_flags
    for sign in red_flags.signs:
        yield f"content/red_flags.yml warning for {sign.id}", red_flags.warning([sign])
    guidance = CONTENT.guidance
    yield "content/guidance.yml intro", guidance.intro
    yield "content/guidance.yml closing", guidance.closing
    for rule in guidance.rules:
        yield f"content/guidance.yml {rule.id}", rule.message
    for field, text in CONTENT.clinic.items():
        if field != "name":
            yield f"content/clinic.yml {field}", text
    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    for name, variants in responses.items():
        for variant in variants:
            if "{" not in variant["text"]:
                yield f"domain.yml {name}", variant["text"]
            # Labels of one to three words ("Ultrasound") are not sentences; FK says nothing of them.
            for button in variant.get("buttons", []):
                if len(button["title"].split()) > 3:
                    yield f"domain.yml {name} button", button["title"]


TEXTS = list(patient_texts())


@pytest.mark.parametrize("where, text", TEXTS, ids=[where for where, _ in TEXTS])
def test_grade_8_or_below(where, text):
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{where} reads at grade {grade:.1f} (max {MAX_GRADE}): {text}"


def test_report_the_hardest_texts(capsys):
    graded = sorted(((textstat.flesch_kincaid_grade(text), where) for where, text in TEXTS), reverse=True)
    with capsys.disabled():
        print(f"\nreading level: {len(graded)} texts, hardest grade {graded[0][0]:.1f} ({graded[0][1]}), "
              f"median {graded[len(graded) // 2][0]:.1f}")
    assert graded[0][0] <= MAX_GRADE
