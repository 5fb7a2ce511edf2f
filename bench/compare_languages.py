"""One intent classifier for both languages, or one per language? And does
Chinese word segmentation (jieba) help? Fits the project's classifier
(components/intent_classifier.py, config.yml's settings) on the training data
each way and scores it on each language's held-out set and on the working half
of its independent evaluation (the messages' first topic; intent level, without
the warning-sign and scope steps). Writes bench/language_comparison.md.

    .venv/bin/python bench/compare_languages.py
"""
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import scipy.sparse
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

from components.intent_classifier import TextIntentClassifier, fit, normalise  # noqa: E402
from content_model import load_library  # noqa: E402

LANGUAGES = load_library().languages.codes
DEFAULT = load_library().languages.default
# The default language's sets have no language in their names (README: adding a language).
HELD_OUT = {code: ROOT / "tests" / ("nlu_heldout.yml" if code == DEFAULT else f"nlu_heldout_{code}.yml") for code in LANGUAGES}
WORKING = {code: ROOT / "tests" / "eval" / ("" if code == DEFAULT else code) / "working.yml" for code in LANGUAGES}


def examples(path: Path) -> Tuple[List[str], List[str]]:
    data = load_data(str(path))
    pairs = [(example.get("text"), example.get("intent")) for example in data.intent_examples if example.get("text")]
    return [text for text, _ in pairs], [intent for _, intent in pairs]


def working_examples(path: Path) -> Tuple[List[str], List[str]]:
    library = load_library()
    intents = {topic.id: topic.intents[0] for topic in library.content(None).topics.values()}
    cases = [case for case in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"] if case["topics"][0] in intents]
    return [case["text"] for case in cases], [intents[case["topics"][0]] for case in cases]


def accuracy(model, texts: List[str], labels: List[str]) -> float:
    words, chars, classifier = model
    normalised = [normalise(text) for text in texts]
    features = scipy.sparse.hstack([words.transform(normalised), chars.transform(normalised)]).tocsr()
    return float(np.mean(classifier.predict(features) == np.array(labels)))


def main() -> None:
    config = {**TextIntentClassifier.get_default_config(),
              **next(step for step in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
                     if step["name"].endswith("TextIntentClassifier"))}
    training = {language: examples(ROOT / "data" / "nlu" / language) for language in LANGUAGES}
    tests = {language: (examples(HELD_OUT[language]), working_examples(WORKING[language])) for language in LANGUAGES}
    rows = []
    ways: Dict[str, Dict[str, Tuple[List[str], List[str]]]] = {
        "one model for both languages": {language: (sum((training[l][0] for l in LANGUAGES), []),
                                                    sum((training[l][1] for l in LANGUAGES), [])) for language in LANGUAGES},
        "one model per language": training,
    }
    for way, data in ways.items():
        for segment in (True, False):
            fitted, seconds = {}, 0.0
            for language in LANGUAGES:
                key = id(data[language][0])
                if key not in fitted:
                    started = time.monotonic()
                    fitted[key] = fit(*data[language], dict(config, segment_chinese=segment))
                    seconds += time.monotonic() - started
            scores = []
            for language in LANGUAGES:
                model = fitted[id(data[language][0])]
                (held_texts, held_labels), (work_texts, work_labels) = tests[language]
                scores.append(f"{accuracy(model, held_texts, held_labels):.1%} / {accuracy(model, work_texts, work_labels):.1%}")
            rows.append(f"| {way} | {'jieba words' if segment else 'no segmentation'} | {seconds:.0f} s | " + " | ".join(scores) + " |")
            print(rows[-1], flush=True)
    header = " | ".join(f"{language}: held-out / working half" for language in LANGUAGES)
    lines = ["# One intent classifier for both languages, or one per language", "",
             "Written by `bench/compare_languages.py`: the project's classifier fitted each way on `data/nlu/<language>/`,",
             "scored on each language's held-out set and on its evaluation's working half (first topic asked; intent",
             "only, without the warning-sign and scope steps). Fit time on this machine (2 cores).", "",
             f"| models | Chinese words | fit | {header} |", "| --- | --- | --- | " + " | ".join("---" for _ in LANGUAGES) + " |",
             *rows]
    (ROOT / "bench" / "language_comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
