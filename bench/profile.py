"""`make profile`: where a message's time goes in the Rasa server.

Serves the trained project model as `make run-prod` does (the same set-up as
`make bench`), puts 10 simulated patients on the REST channel and samples the
Rasa server's processes with py-spy meanwhile. Writes bench/profile.md: each
step of a message's path, its share of the server's busy time and the CPU
milliseconds per answer that share stands for.

    .venv/bin/python bench/profile.py                  # writes bench/profile.md
    .venv/bin/python bench/profile.py --seconds 3 --out DIR
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.run import BENCH, BIN, PROFILES, Figures, cpu_s, load, process_tree, progress, serve  # noqa: E402

# The steps of one message in Rasa 3.6 (rasa/core/processor.py), each found by a
# function on the sampled call stack. A sample counts for the first step whose
# function it contains; samples in none of them are HTTP, Sanic and the event loop.
STEPS = [
    ("lock the conversation (lock store)", "lock (rasa/core/lock_store.py"),
    ("load the conversation (tracker store)", "fetch_tracker_and_update_session (rasa/core/processor.py"),
    ("understand the message (NLU pipeline)", "parse_message (rasa/core/processor.py"),
    ("check the action server's reply (jsonschema)", "_validate_action_result (rasa/core/actions/action.py"),
    ("call the action server (HTTP, JSON)", "_run_action (rasa/core/processor.py"),
    ("choose the next action (policies)", "_predict_next_with_tracker (rasa/core/processor.py"),
    ("store the conversation (tracker store)", "save_tracker (rasa/core/processor.py"),
]
REST = "receive the message, send the answer (HTTP, Sanic, event loop)"


def shares(raw_files: list[Path]) -> tuple[dict[str, float], int]:
    """Share of the sampled busy time per step, from py-spy's raw (collapsed) output."""
    counts: collections.Counter = collections.Counter()
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            frames = ";" + stack
            step = next((name for name, frame in STEPS if ";" + frame in frames), REST)
            counts[step] += int(samples)
    total = sum(counts.values())
    return {name: counts[name] / total for name, _ in [*STEPS, (REST, "")]} if total else {}, total


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--profile", choices=PROFILES, default="run-prod")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=BENCH, help="where profile.md goes (default bench/)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="profile-") as tmp:
        work = Path(tmp)
        with serve(PROFILES[args.profile], args.model.resolve(), work, "project", Figures()) as (url, pids, rasa_processes):
            asyncio.run(load(url, 1, 100, 30.0))  # warm-up, not sampled
            progress(f"sampling {len(rasa_processes)} Rasa server process(es) for {args.seconds:.0f} s "
                     f"with {args.concurrency} patients at once")
            samplers = [
                subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                                  "--rate", "200", "--format", "raw", "--nonblocking", "--output", str(work / f"{pid}.txt")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                for pid in rasa_processes]
            cpu_before = cpu_s([pids[0]])
            phase = asyncio.run(load(url, args.concurrency, 10**6, args.seconds))
            rasa_cpu = cpu_s([pids[0]]) - cpu_before
            for sampler in samplers:
                if sampler.wait():
                    raise RuntimeError(f"py-spy failed: {sampler.stderr.read().decode()[-500:]}")
        found = [path for path in work.glob("*.txt") if path.stat().st_size]
        step_shares, samples = shares(found)

    answers = len(phase.latencies)
    cpu_ms = 1000 * rasa_cpu / answers
    lines = [
        "# Where a message's time goes in the Rasa server",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}, {os.cpu_count()} cores; "
        f"`make profile` (bench/profile.py) with py-spy",
        f"- project model served as `make {args.profile}` serves it; {args.concurrency} simulated patients at once "
        f"for {args.seconds:.0f} s: {answers} answers, {phase.rate:.1f} msg/s",
        f"- Rasa server CPU per answer: {cpu_ms:.1f} ms; {samples} stack samples of its processes",
        "",
        "| step of one message | share of busy time | CPU ms per answer |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {share:.0%} | {share * cpu_ms:.1f} |" for name, share in step_shares.items()),
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.md").write_text("\n".join(lines))
    print("\n".join(lines))
    progress(f"wrote {args.out / 'profile.md'}")


if __name__ == "__main__":
    main()
