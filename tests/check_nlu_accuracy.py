"""Fails `make test` when held-out intent accuracy is below the bar.

Reads the intent report that `rasa test nlu` wrote for tests/nlu_heldout.yml.
"""
import argparse
import json
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("report", type=Path)
parser.add_argument("--min", type=float, required=True)
args = parser.parse_args()

report = json.loads(args.report.read_text())
accuracy = report["accuracy"]
support = report["weighted avg"]["support"]
errors_file = args.report.parent / "intent_errors.json"
errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
for error in errors:
    print(f"  {error['intent']:>22} -> {error['intent_prediction']['name']:<22} {error['text']}")
print(f"held-out intent accuracy: {accuracy:.1%} on {support} messages ({len(errors)} wrong), minimum {args.min:.0%}")
raise SystemExit(0 if accuracy >= args.min else 1)
