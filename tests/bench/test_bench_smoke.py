"""A few seconds of the benchmark (bench/run.py --smoke) against the trained
model, so that `make bench` does not rot: the servers start, the simulated
patients get answers, the report writer produces the table and the plot, and
the evaluation step reads back accuracy and the conversation tests' pass rate."""
import re
import subprocess
from pathlib import Path
from typing import Dict, Optional

from bench.profile import REST, STEPS
from bench.run import Figures, read_tests
from tests.e2e.conftest import BIN, MODEL, ROOT


def table(results: Path) -> Dict[str, Optional[float]]:
    """The project column of results.md: figure -> number (None for n/a)."""
    figures = {}
    for line in results.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("figure", "---"):
            number = re.match(r"[\d.]+", cells[1])
            figures[cells[0]] = float(number.group()) if number else None
    return figures


def test_smoke_run_writes_a_sane_table_and_a_plot(tmp_path):
    assert MODEL.is_file(), "no trained model: run `make train` first"
    run = subprocess.run(
        # As `make run` serves it: no PostgreSQL or Redis needed.
        [BIN / "python", ROOT / "bench" / "run.py", "--smoke", "--profile", "run", "--model", MODEL, "--out", tmp_path],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    figures = table(tmp_path / "results.md")
    assert 0 < figures["ready: start to first answer (s)"] < 300
    assert 100 < figures["Rasa server memory, RSS (MB)"] < 8000
    assert 20 < figures["action server memory, RSS (MB)"] < 2000
    for concurrency in (1, 10, 50):
        at = f"at {concurrency} at once"
        p50, p95, p99 = (figures[f"latency p{p} {at} (ms)"] for p in (50, 95, 99))
        assert 0 < p50 <= p95 <= p99 < 60_000
        assert figures[f"messages/s {at}"] > 0
        assert figures[f"errors {at}"] == 0
        assert figures[f"server CPU per answer {at} (ms)"] > 0
    # Smoke runs neither train nor test: those figures say so instead of inventing numbers.
    assert figures["training time (s)"] is None
    assert figures["held-out intent accuracy"] is None

    plot = (tmp_path / "latency.png").read_bytes()
    assert plot.startswith(b"\x89PNG") and len(plot) > 10_000


def test_profile_run_accounts_for_the_time_of_each_step(tmp_path):
    assert MODEL.is_file(), "no trained model: run `make train` first"
    run = subprocess.run(
        [BIN / "python", ROOT / "bench" / "profile.py", "--profile", "run", "--seconds", "3", "--model", MODEL,
         "--out", tmp_path],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    rows = {}
    for line in (tmp_path / "profile.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[1].endswith("%"):
            rows[cells[0]] = (float(cells[1].rstrip("%")), float(cells[2]))
    assert set(rows) == {name for name, _ in STEPS} | {REST}
    assert 97 <= sum(share for share, _ in rows.values()) <= 103  # rounded to whole percent
    # Every answer in these conversations goes through NLU, the policies and the tracker store.
    for step in ("understand the message (NLU pipeline)", "choose the next action (policies)",
                 "store the conversation (tracker store)"):
        assert rows[step][0] > 0 and rows[step][1] > 0, step


def test_evaluation_reads_back_accuracy_and_conversation_tests(tmp_path):
    assert MODEL.is_file(), "no trained model: run `make train` first"
    run = subprocess.run([BIN / "python", ROOT / "bench" / "evaluate.py", MODEL, tmp_path, "project"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    figures = Figures()
    read_tests(tmp_path, "project", figures)
    # The same bars as `make test-nlu` and `make test-stories` hold the project model to.
    assert figures.accuracy >= 0.95
    passed, total = figures.stories
    written = sum(text.count("- story:") for text in (f.read_text() for f in (ROOT / "tests").glob("test_*.yml")))
    assert (passed, total) == (written, written)
