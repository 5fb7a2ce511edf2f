"""Chooses the NLU: trains each candidate pipeline (bench/nlu/*.yml, and the
project's config.yml) on the same data and scores each on the locked half of
the independent evaluation, end to end. Writes bench/nlu_comparison.md.

    .venv/bin/python bench/compare_nlu.py [candidate ...]
"""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
OUT = ROOT / "models" / "compare"
CANDIDATES = {"project (config.yml)": ROOT / "config.yml", **{path.stem: path for path in sorted((ROOT / "bench" / "nlu").glob("*.yml"))}}


def train(name: str, config: Path) -> float:
    started = time.monotonic()
    subprocess.run([BIN / "rasa", "train", "--config", config, "--fixed-model-name", name, "--out", OUT],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def score(name: str) -> dict:
    out = ROOT / "results" / "compare" / f"{name}.md"
    subprocess.run([BIN / "python", ROOT / "tests" / "eval" / "evaluate.py", "--sets", "locked", "--model",
                    OUT / f"{name}.tar.gz", "--out", out], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.with_suffix(".json").read_text())["summary"]["locked"]


def main() -> None:
    chosen = sys.argv[1:] or list(CANDIDATES)
    report = ROOT / "bench" / "nlu_comparison.md"
    # Rows of candidates not run this time are kept, so each can be measured on its own.
    kept = [line for line in (report.read_text().splitlines() if report.exists() else [])
            if line.startswith("| ") and not line.startswith(("| pipeline", "| ---"))
            and line.split(" | ")[0][2:] not in chosen]
    rows = []
    for label in chosen:
        name = label.split(" ")[0]  # "project (config.yml)" -> "project"
        seconds = train(name, CANDIDATES[label])
        locked = score(name)
        rows.append(f"| {label} | {seconds:.0f} s | {locked['share']:.1%} | {locked['in_scope_fallback_share']:.1%} |")
        print(rows[-1], flush=True)
    lines = ["# NLU candidates on the locked half of the independent evaluation", "",
             "Written by `bench/compare_nlu.py`: each pipeline trained on the same data, then scored end to end",
             "(right replies, fallbacks on in-scope messages). Training time on this machine (2 cores).", "",
             "| pipeline | training | right | fallbacks |", "| --- | --- | --- | --- |", *kept, *rows]
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
