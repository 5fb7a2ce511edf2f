"""`make bench`: this project's configuration against Rasa's default one.

For each configuration, on the same training data, domain, actions and tests:
train it, serve it with the project's action server, time start-up, measure
memory, put simulated patients on the REST channel at 1, 10 and 50 at once,
and run the held-out NLU set and the conversation tests. Writes
bench/results.md and bench/latency.png.

    .venv/bin/python bench/run.py                       # full run, project as `make run-prod` serves it
    .venv/bin/python bench/run.py --profile run         # project as `make run` serves it (no PostgreSQL/Redis)
    .venv/bin/python bench/run.py --smoke --out DIR     # serve models/current.tar.gz, a few messages, seconds
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Optional

import aiohttp
import matplotlib
import requests
import yaml

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullLocator, ScalarFormatter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from deploy.haproxy import render  # noqa: E402
from tests.e2e.conftest import ACTION_SERVER_ENV, BIN, free_port, stop, wait_until  # noqa: E402

BENCH = ROOT / "bench"


@dataclass(frozen=True)
class Setup:
    """What is compared: a model configuration and how it is served."""

    config: Path
    credentials: Path
    endpoints: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: int = 1  # Rasa server processes; more than one are served behind HAProxy


# The project served as the Makefile's targets serve it (keep in step with them and scripts/serve.sh).
PROFILES = {
    "run": Setup(ROOT / "config.yml", ROOT / "credentials.yml", ROOT / "endpoints.yml"),
    "run-prod": Setup(ROOT / "config.yml", ROOT / "credentials.yml", ROOT / "endpoints.prod.yml",
                      {"SANIC_WORKERS": "1", "ACTION_SERVER_SANIC_WORKERS": "1", "SANIC_KEEP_ALIVE_TIMEOUT": "75",
                       "TICKET_LOCK_LIFETIME": "20"}, processes=2),
}
# What the clinic profile was before HAProxy: two Sanic workers behind one port,
# measured beside it with the same model.
WORKERS = Setup(ROOT / "config.yml", ROOT / "credentials.yml", ROOT / "endpoints.prod.yml",
                {"SANIC_WORKERS": "2", "ACTION_SERVER_SANIC_WORKERS": "1"})
# Rasa's default pipeline and policies, served like a fresh `rasa init` bot.
REFERENCE = BENCH / "reference"
REFERENCE_SETUP = Setup(REFERENCE / "config.yml", REFERENCE / "credentials.yml", REFERENCE / "endpoints.yml")
CONVERSATIONS: list[list[str]] = yaml.safe_load((BENCH / "conversations.yml").read_text())
CONCURRENCY = (1, 10, 50)
# Each load phase stops at whichever comes first, so a slow configuration
# cannot stretch the run: (messages, seconds).
FULL_LOAD = (3000, 10.0)
SMOKE_LOAD = (10, 5.0)
# The same for every process: no training cache (so `rasa train` really trains,
# and never touches the project's .rasa/cache), no telemetry calls to the network.
QUIET_ENV = dict(os.environ, RASA_MAX_CACHE_SIZE="0", RASA_TELEMETRY_ENABLED="false")

START = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - START:6.1f}s] {message}", flush=True)


@dataclass
class Phase:
    """One load phase: every answered message's latency in seconds."""

    concurrency: int
    latencies: list[float]
    errors: int
    seconds: float
    server_cpu_s: float = 0.0  # Rasa server and action server together
    rasa_cpu_s: list[float] = field(default_factory=list)  # each Rasa process (or Sanic worker) on its own

    def percentile(self, p: int) -> Optional[float]:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else None
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_answer(self) -> Optional[float]:
        return 1000 * self.server_cpu_s / len(self.latencies) if self.latencies else None

    @property
    def idlest_share(self) -> Optional[float]:
        """The least busy Rasa process's share of the phase's wall time (about 0 when a core idles)."""
        return min(self.rasa_cpu_s) / self.seconds if len(self.rasa_cpu_s) > 1 and self.seconds else None


@dataclass
class Figures:
    """What one configuration measured; None where a step did not run (smoke)."""

    train_s: Optional[float] = None
    train_cpu_s: Optional[float] = None
    ready_s: Optional[float] = None
    rasa_rss_mb: Optional[float] = None
    action_rss_mb: Optional[float] = None
    accuracy: Optional[float] = None
    stories: Optional[tuple[int, int]] = None  # (passed, total)
    phases: dict[int, Phase] = field(default_factory=dict)


def run_logged(args: list, log: Path) -> None:
    with log.open("w") as out:
        result = subprocess.run([str(a) for a in args], cwd=ROOT, env=QUIET_ENV, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode:
        raise RuntimeError(f"{' '.join(map(str, args[:3]))} failed:\n{log.read_text()[-3000:]}")


def train(config: Path, out: Path, name: str) -> tuple[Path, float, float]:
    """(model, wall seconds, CPU seconds). CPU time says how much work training
    is even when other jobs share the machine and stretch the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run_logged([BIN / "rasa", "train", "--config", config, "--domain", "domain.yml", "--data", "data",
                "--out", out, "--fixed-model-name", name], out / f"{name}-train.log")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out / f"{name}.tar.gz", wall, cpu


def start_tests(model: Path, out: Path, name: str) -> tuple[subprocess.Popen, Path]:
    """Starts the held-out NLU test and the conversation tests of one model, in
    one process (bench/evaluate.py) so that the model loads once. No
    --fail-on-prediction-errors: we want the pass rate, not the first failure."""
    log = out / f"{name}-tests.log"
    process = subprocess.Popen([str(BIN / "python"), str(BENCH / "evaluate.py"), str(model), str(out), name],
                               cwd=ROOT, env=QUIET_ENV, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return process, log


def read_tests(out: Path, name: str, figures: Figures) -> None:
    figures.accuracy = json.loads((out / f"{name}-nlu" / "intent_report.json").read_text())["accuracy"]
    stories = json.loads((out / f"{name}-core" / "story_report.json").read_text())["conversation_accuracy"]
    figures.stories = (stories["correct"], stories["total"])


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (Sanic workers), from /proc."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue  # exited meanwhile
        tree.append(current)
    return tree


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of a process tree."""
    total_kb = 0
    for member in process_tree(pid):
        status = Path(f"/proc/{member}/status").read_text()
        total_kb += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    return total_kb / 1024


def cpu_s(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these process trees. Unlike
    latency, CPU per answer barely changes when other jobs share the machine."""
    ticks = 0
    for member in (m for pid in pids for m in process_tree(pid)):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def endpoints_for(setup: Setup, action_port: int, out: Path, name: str) -> Path:
    """The setup's endpoints, pointed at our action server. The benchmark never
    writes to real conversations: an SQLite tracker store goes to a scratch
    file, a PostgreSQL one to a database of its own (`<db>_bench`, which
    Rasa creates next to the configured one)."""
    endpoints = yaml.safe_load(setup.endpoints.read_text()) or {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{action_port}/webhook"}
    store = endpoints.get("tracker_store") or {}
    if store.get("dialect") == "sqlite":
        store["db"] = str(out / f"{name}-conversations.db")
    elif store.get("dialect") == "postgresql":
        store["login_db"], store["db"] = store["db"], f"{store['db']}_bench"
    path = out / f"{name}-endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints))
    return path


@contextmanager
def serve(setup: Setup, model: Path, out: Path, name: str, figures: Figures) -> Iterator[tuple[str, list[int], list[int]]]:
    """Runs the action server, then the Rasa server process(es) on free ports,
    behind HAProxy when there are several (deploy/haproxy.cfg, as `make
    run-prod`); records start-up time (Rasa process start to first answered
    message) and memory. Yields the REST webhook URL, the servers' process ids,
    and the processes that answer messages (the Rasa processes, or one Rasa
    process's Sanic workers), whose CPU is reported one by one."""
    action_port = free_port()
    rasa_ports = [free_port() for _ in range(setup.processes)]
    endpoints = endpoints_for(setup, action_port, out, name)

    action_log = out / f"{name}-actions.log"
    env = dict(QUIET_ENV, **setup.env)
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT, env=dict(env, **ACTION_SERVER_ENV), stdout=action_log.open("w"), stderr=subprocess.STDOUT)
    rasa: list[subprocess.Popen] = []
    proxy = None
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{action_port}/health", timeout=5).ok, 120, actions, action_log)
        started = time.perf_counter()
        for port in rasa_ports:
            rasa_log = out / f"{name}-rasa-{port}.log"
            rasa.append(subprocess.Popen(
                [str(BIN / "rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
                 "--credentials", str(setup.credentials), "--interface", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT))
        for port, process in zip(rasa_ports, rasa):
            url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            # A patient's first message, through NLU, policies and the action server.
            wait_until(lambda: bool(requests.post(url, json={"sender": "bench-ready", "message": "hello"}, timeout=30).json()),
                       600, process, out / f"{name}-rasa-{port}.log")  # the reference's models take minutes to load on a busy machine
        if setup.processes > 1:
            public_port = free_port()
            config = out / f"{name}-haproxy.cfg"
            config.write_text(render(public_port, rasa_ports, api=False, bind="127.0.0.1"))
            proxy = subprocess.Popen(["haproxy", "-W", "-f", str(config)], stdout=(out / f"{name}-haproxy.log").open("w"),
                                     stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{public_port}/webhooks/rest/webhook"
            wait_until(lambda: requests.get(f"http://127.0.0.1:{public_port}/", timeout=5).ok, 30, proxy, config)
        figures.ready_s = time.perf_counter() - started
        figures.rasa_rss_mb = sum(rss_mb(process.pid) for process in rasa)
        figures.action_rss_mb = rss_mb(actions.pid)
        answering = [process.pid for process in rasa] if len(rasa) > 1 else process_tree(rasa[0].pid)[1:] or [rasa[0].pid]
        yield url, [process.pid for process in rasa] + [actions.pid] + ([proxy.pid] if proxy else []), answering
    finally:
        if proxy and proxy.poll() is None:
            proxy.send_signal(signal.SIGUSR1)
            proxy.wait(timeout=30)
        for process in (*rasa, actions):
            stop(process)


async def patient(session: aiohttp.ClientSession, url: str, first: int, deadline: float,
                  budget: list[int], phase: Phase) -> None:
    """One simulated patient: runs the scripted conversations in turn, each
    under a new conversation id, with no pause between messages."""
    number = first
    while True:
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        for text in CONVERSATIONS[number % len(CONVERSATIONS)]:
            if budget[0] <= 0 or time.perf_counter() >= deadline:
                return
            budget[0] -= 1
            sent = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as response:
                    await response.read()
                    if response.status != 200:
                        phase.errors += 1
                        continue
            except (aiohttp.ClientError, asyncio.TimeoutError):
                phase.errors += 1
                continue
            phase.latencies.append(time.perf_counter() - sent)
        number += 1


async def load(url: str, concurrency: int, messages: int, seconds: float) -> Phase:
    """`concurrency` patients at once, until `messages` were sent or `seconds` passed."""
    phase = Phase(concurrency, [], 0, 0.0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.perf_counter()
        budget = [messages]  # shared by all patients; a list so each can count it down
        await asyncio.gather(*(patient(session, url, i, started + seconds, budget, phase) for i in range(concurrency)))
        phase.seconds = time.perf_counter() - started
    return phase


def measure_load(url: str, pids: list[int], answering: list[int], figures: Figures, name: str, messages: int,
                 seconds: float) -> None:
    # Warm-up, not measured: every conversation once, so that first-call costs
    # (graph tracing, connection set-up) do not count as latency.
    asyncio.run(load(url, 1, sum(map(len, CONVERSATIONS)), 60.0))
    for concurrency in CONCURRENCY:
        cpu_before = cpu_s(pids)
        each_before = [cpu_s([pid]) for pid in answering]
        phase = asyncio.run(load(url, concurrency, messages, seconds))
        phase.server_cpu_s = cpu_s(pids) - cpu_before
        phase.rasa_cpu_s = [cpu_s([pid]) - before for pid, before in zip(answering, each_before)]
        figures.phases[concurrency] = phase
        progress(f"{name}: {concurrency:>2} at once: {len(phase.latencies)} answers, {phase.rate:.1f} msg/s, "
                 f"p95 {1000 * (phase.percentile(95) or 0):.0f} ms, {phase.cpu_ms_per_answer or 0:.1f} ms server CPU per answer, "
                 f"CPU per Rasa process {' / '.join(f'{cpu:.1f}' for cpu in phase.rasa_cpu_s)} s, {phase.errors} errors")


def rows(figures: Figures) -> list[tuple[str, Optional[float], str]]:
    """The report's rows for one configuration: (label, value, format)."""
    out: list[tuple[str, Optional[float], str]] = [
        ("training time (s)", figures.train_s, "{:.0f}"),
        ("training CPU time (s)", figures.train_cpu_s, "{:.0f}"),
        ("ready: start to first answer (s)", figures.ready_s, "{:.1f}"),
        ("Rasa server memory, RSS (MB)", figures.rasa_rss_mb, "{:.0f}"),
        ("action server memory, RSS (MB)", figures.action_rss_mb, "{:.0f}"),
        ("held-out intent accuracy", figures.accuracy, "{:.1%}"),
        ("conversation tests passed", figures.stories and figures.stories[0] / figures.stories[1], "{:.0%}"),
    ]
    for concurrency in CONCURRENCY:
        phase = figures.phases.get(concurrency)
        for p in (50, 95, 99):
            value = phase and phase.percentile(p)
            out.append((f"latency p{p} at {concurrency} at once (ms)", value and 1000 * value, "{:.0f}"))
        out.append((f"messages/s at {concurrency} at once", phase and phase.rate, "{:.1f}"))
        out.append((f"server CPU per answer at {concurrency} at once (ms)", phase and phase.cpu_ms_per_answer, "{:.1f}"))
        out.append((f"least busy Rasa process's CPU, share of the phase, at {concurrency} at once",
                    phase and phase.idlest_share, "{:.0%}"))
        out.append((f"errors at {concurrency} at once", phase and phase.errors, "{:.0f}"))
    return out


def cell(value: Optional[float], form: str) -> str:
    return "n/a" if value is None else form.format(value)


def ratio(mine: Optional[float], theirs: Optional[float]) -> str:
    return f"{mine / theirs:.2f}" if mine is not None and theirs else "n/a"


def targets(project: Figures, reference: Figures) -> list[str]:
    """Issue 6's bar, met or not, from the figures above."""
    def check(met: Optional[bool]) -> str:
        return "n/a" if met is None else ("met" if met else "NOT met")

    def both(a: Optional[float], b: Optional[float]) -> bool:
        return a is not None and b is not None

    rate, ref_rate = (f.phases.get(50) and f.phases[50].rate for f in (project, reference))
    p95 = project.phases.get(10) and project.phases[10].percentile(95)
    return [
        f"- throughput at 50 at once >= 4x the reference: {check(rate >= 4 * ref_rate if both(rate, ref_rate) else None)}",
        f"- p95 at 10 at once < 150 ms: {check(p95 < 0.150 if p95 is not None else None)}",
        f"- training < 60 s: {check(project.train_s < 60 if project.train_s is not None else None)}",
        f"- ready < 20 s: {check(project.ready_s < 20 if project.ready_s is not None else None)}",
        f"- held-out accuracy >= the reference's: "
        f"{check(project.accuracy >= reference.accuracy if both(project.accuracy, reference.accuracy) else None)}",
        f"- every conversation test passes: "
        f"{check(project.stories[0] == project.stories[1] if project.stories else None)}",
    ]


WORKERS_NAME = "project, 2 Sanic workers"
IDLE_SHARE = 0.1  # a Rasa process busy less than this share of a phase left its core idle


def proxy_targets(proxy: Figures, workers: Figures) -> list[str]:
    """Issue 15's bar for `make bench`, met or not."""
    def check(met: Optional[bool]) -> str:
        return "n/a" if met is None else ("met" if met else "NOT met")

    p95s = [f.phases.get(10) and f.phases[10].percentile(95) for f in (proxy, workers)]
    rates = [f.phases.get(50) and f.phases[50].rate for f in (proxy, workers)]
    shares = [phase.idlest_share for phase in proxy.phases.values() if phase.concurrency > 1]
    return [
        f"- p95 at 10 at once through HAProxy lower than with 2 Sanic workers: "
        f"{check(p95s[0] < p95s[1] if None not in p95s else None)}",
        f"- no phase (10, 50 at once) with an idle core through HAProxy: "
        f"{check(all(share >= IDLE_SHARE for share in shares) if shares and None not in shares else None)}",
        f"- throughput at 50 at once through HAProxy no lower than with 2 Sanic workers: "
        f"{check(rates[0] >= rates[1] if None not in rates else None)}",
    ]


def write_report(results: dict[str, Figures], out_dir: Path, load_limits: tuple[int, float], load_average: str,
                 profile: str) -> None:
    project, reference = results["project"], results["reference"]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = [
        "# Benchmark: this project against Rasa's default configuration",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- machine: {os.cpu_count()} cores ({cpu}), load average at start {load_average}",
        f"- run time: {(time.perf_counter() - START) / 60:.1f} min",
        f"- project: its config.yml, served as `make {profile}` serves it "
        f"({PROFILES[profile].endpoints.name}, {PROFILES[profile].processes} Rasa process(es)"
        f"{' behind HAProxy' if PROFILES[profile].processes > 1 else ''}, "
        f"{', '.join(f'{k}={v}' for k, v in PROFILES[profile].env.items()) or 'defaults'}); "
        "reference: bench/reference/config.yml (Rasa's default pipeline and policies), served like a fresh "
        "`rasa init` bot (conversations in memory, one process)",
        f"- load phases: each simulated patient runs scripted conversations (bench/conversations.yml) "
        f"with no pause; a phase stops after {load_limits[0]} messages or {load_limits[1]:.0f} s; "
        f"load generator on the same machine",
        "- ratio: project / reference (below 1 is better for times and memory, above 1 for accuracy, "
        "tests and messages/s)",
        "",
        "| figure | project | reference | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for (label, mine, form), (_, theirs, _) in zip(rows(project), rows(reference)):
        lines.append(f"| {label} | {cell(mine, form)} | {cell(theirs, form)} | {ratio(mine, theirs)} |")
    lines += ["", "Issue 6 targets:", "", *targets(project, reference), ""]
    workers = results.get(WORKERS_NAME)
    if workers:
        lines += [
            f"The clinic profile through HAProxy ({PROFILES[profile].processes} Rasa processes) against two Sanic "
            "workers behind one port, the same model, measured in this run:",
            "",
            "| figure | through HAProxy | 2 Sanic workers | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for (label, mine, form), (_, theirs, _) in zip(rows(project), rows(workers)):
            if " at once" in label:
                lines.append(f"| {label} | {cell(mine, form)} | {cell(theirs, form)} | {ratio(mine, theirs)} |")
        lines += ["", "Issue 15 targets:", "", *proxy_targets(project, workers), ""]
    (out_dir / "results.md").write_text("\n".join(lines))
    plot(results, out_dir / "latency.png")


def plot(results: dict[str, Figures], path: Path) -> None:
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.5))
    for (name, figures), color in zip(results.items(), ("tab:blue", "tab:orange", "tab:green")):
        levels = [c for c in CONCURRENCY if c in figures.phases and figures.phases[c].latencies]
        if not levels:
            continue
        for p, style in ((50, "-"), (95, "--"), (99, ":")):
            latency.plot(levels, [1000 * figures.phases[c].percentile(p) for c in levels], style, color=color,
                         marker="o", label=f"{name} p{p}")
        throughput.plot(levels, [figures.phases[c].rate for c in levels], "-", color=color, marker="o", label=name)
    latency.set(xscale="log", yscale="log", xlabel="conversations at once", ylabel="answer latency (ms, log scale)",
                title="REST answer latency")
    latency.yaxis.set_major_formatter(ScalarFormatter())
    throughput.set(xscale="log", xlabel="conversations at once", ylabel="messages / s", title="Throughput")
    throughput.set_ylim(bottom=0)
    for axes in (latency, throughput):
        axes.set_xticks(CONCURRENCY, [str(c) for c in CONCURRENCY])
        axes.xaxis.set_minor_locator(NullLocator())
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILES, default="run-prod",
                        help="serve the project as `make run` (SQLite, one process) or `make run-prod` "
                             "(PostgreSQL + Redis, 2 Rasa processes behind HAProxy) does; default: %(default)s")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml",
                        help="the project's model configuration; another file tries a candidate before adopting it")
    parser.add_argument("--smoke", action="store_true",
                        help="serve an already trained project model under a few messages of load; "
                             "no training, no tests, no reference")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz",
                        help="the trained project model for --smoke (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="where results.md and latency.png go (default bench/; "
                                                   "required with --smoke, so that it never overwrites the real results)")
    args = parser.parse_args(argv)
    if args.smoke and args.out is None:
        parser.error("--smoke needs --out")
    out = args.out or BENCH
    setups = {"project": replace(PROFILES[args.profile], config=args.config.resolve()), "reference": REFERENCE_SETUP}
    load_limits = SMOKE_LOAD if args.smoke else FULL_LOAD
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    progress(f"{os.cpu_count()} cores, load average {load_average}; project served as `make {args.profile}`")
    results = {name: Figures() for name in setups}

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        if args.smoke:
            with serve(setups["project"], args.model.resolve(), work, "project", results["project"]) as (url, pids, answering):
                progress(f"project: ready in {results['project'].ready_s:.1f} s")
                measure_load(url, pids, answering, results["project"], "project", *load_limits)
        else:
            tests = []
            for name, setup in setups.items():
                figures = results[name]
                progress(f"{name}: training with {setup.config}")
                model, figures.train_s, figures.train_cpu_s = train(setup.config, work, name)
                progress(f"{name}: trained in {figures.train_s:.0f} s ({figures.train_cpu_s:.0f} s CPU); serving")
                with serve(setup, model, work, name, figures) as (url, pids, answering):
                    progress(f"{name}: ready in {figures.ready_s:.1f} s, Rasa {figures.rasa_rss_mb:.0f} MB, "
                             f"actions {figures.action_rss_mb:.0f} MB; load phases")
                    measure_load(url, pids, answering, figures, name, *load_limits)
                if name == "project" and setup.processes > 1:
                    workers = results[WORKERS_NAME] = Figures()
                    with serve(replace(WORKERS, config=setup.config), model, work, "workers", workers) as (url, pids, answering):
                        progress(f"{WORKERS_NAME}: ready in {workers.ready_s:.1f} s; load phases")
                        measure_load(url, pids, answering, workers, WORKERS_NAME, *load_limits)
                tests.append((name, model))
            # Accuracy and pass rate are not timed, so both models' tests share the machine at the end.
            progress("both: held-out NLU test and conversation tests")
            running = [start_tests(model, work, name) for name, model in tests]
            for process, log in running:
                if process.wait():
                    raise RuntimeError(f"{log.name}: the tests failed:\n{log.read_text()[-3000:]}")
            for name, figures in results.items():
                if name == WORKERS_NAME:
                    continue  # the project's model, tested above
                read_tests(work, name, figures)
                progress(f"{name}: accuracy {figures.accuracy:.1%}, conversation tests "
                         f"{figures.stories[0]}/{figures.stories[1]}")
        out.mkdir(parents=True, exist_ok=True)
        write_report(results, out, load_limits, load_average, args.profile)
    progress(f"wrote {out / 'results.md'} and {out / 'latency.png'}")


if __name__ == "__main__":
    main()
