"""This project's masking (privacy/masking.py) against presidio-analyzer's
pattern recognizers on the same corpus (pii_corpus.yml): identifiers caught
and medical words wrongly masked. Presidio runs without a language model (its
name and address finder needs a downloaded spaCy model), so only its
recognizers that work from patterns and checksums take part.

    .venv/bin/python -m tests.security.masking_comparison    # prints the table
"""
import inspect
from typing import Callable, Dict, List, Tuple

import tldextract

# Presidio's e-mail and URL checks call tldextract, which downloads the public
# suffix list on first use; its bundled copy is used instead (nothing is fetched).
tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())

import presidio_analyzer.predefined_recognizers as predefined  # noqa: E402 (after the patch above)
from presidio_analyzer import EntityRecognizer  # noqa: E402

from privacy.masking import mask
from tests.security.conftest import CORPUS, as_typed, leaked

# Need a model, a service or a language other than English.
NOT_PATTERN_BASED = ("Spacy", "Stanza", "Transformers", "GLiNER", "Azure")


def presidio_recognizers() -> List[EntityRecognizer]:
    recognizers = []
    for name, cls in inspect.getmembers(predefined, inspect.isclass):
        if not name.endswith("Recognizer") or name.startswith(NOT_PATTERN_BASED):
            continue
        try:
            recognizers.append(cls())
        except Exception:  # recognizers that need arguments or packages of their own are left out
            continue
    return recognizers


def presidio_masker(threshold: float) -> Callable[[str], str]:
    recognizers = presidio_recognizers()

    def masked(text: str) -> str:
        spans: List[Tuple[int, int]] = []
        for recognizer in recognizers:
            for result in recognizer.analyze(text, recognizer.supported_entities, None) or []:
                if result.score >= threshold:
                    spans.append((result.start, result.end))
        merged: List[List[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in reversed(merged):
            text = text[:start] + "<PII>" + text[end:]
        return text

    return masked


def score(masker: Callable[[str], str]) -> Dict[str, int]:
    identifiers = caught = false_masks = 0
    for entry in CORPUS["messages"]:
        masked = masker(entry["text"])
        for raw in entry["pii"]:
            identifiers += 1
            caught += not leaked(as_typed(raw, entry), masked)
        false_masks += sum(str(word) not in masked for word in entry.get("keep") or [])
    for entry in CORPUS["clean"]:
        masked = masker(entry["text"])
        false_masks += sum(str(word) not in masked for word in entry.get("keep") or [])
    keep_words = sum(len(entry.get("keep") or []) for entry in CORPUS["messages"] + CORPUS["clean"])
    return {"identifiers": identifiers, "caught": caught, "false_masks": false_masks, "keep_words": keep_words}


def maskers() -> Dict[str, Callable[[str], str]]:
    any_score, confident = presidio_masker(0.0), presidio_masker(0.5)
    return {
        "regular expressions (privacy/masking.py)": mask,
        "presidio-analyzer, every pattern match (score >= 0)": any_score,
        "presidio-analyzer, score >= 0.5": confident,
        "both: presidio (score >= 0.5), then the regular expressions": lambda text: mask(confident(text)),
    }


def main() -> None:
    print(f"| masking | identifiers caught (of {score(mask)['identifiers']}) | medical words masked |")
    print("| --- | ---: | ---: |")
    for name, masker in maskers().items():
        result = score(masker)
        print(f"| {name} | {result['caught']} | {result['false_masks']} of {result['keep_words']} |")


if __name__ == "__main__":
    main()
