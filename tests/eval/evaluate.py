"""The independent evaluation: patient messages written by people who saw
neither the training data nor the content, sent to the real action server and
Rasa server over REST, and scored on the reply.

    python tests/eval/evaluate.py [--sets locked working scope red_flags context zh/locked ...]

A reply is right when it has the facts of every topic asked (facts.yml beside the
set: tests/eval/ for English, tests/eval/zh/ for Chinese; lenient patterns), in
the order asked, and nothing forbidden. Writes results/eval.md and
results/eval.json; prints the summary.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import running_servers  # noqa: E402  (the e2e tests' server start)

NAMES = ("locked", "working", "scope", "mixed", "red_flags", "context")
# The default language's sets are in tests/eval/, each other language's in tests/eval/<code>/.
LANGUAGE_DIRS = [""] + sorted(f"{path.parent.name}/" for path in HERE.glob("*/facts.yml"))
SETS = tuple(prefix + name for prefix in LANGUAGE_DIRS for name in NAMES)
FLAGS = re.IGNORECASE
DISCLAIMERS = {variation["text"] for variation in
               yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]["utter_disclaimer"]}


@dataclass
class Facts:
    """What a right reply holds, per topic, and what no reply may hold (facts.yml of one language)."""
    must: Dict[str, List[str]]
    must_not: List[re.Pattern]
    decline: re.Pattern
    warning: re.Pattern

    @classmethod
    def load(cls, directory: Path) -> "Facts":
        data = yaml.safe_load((directory / "facts.yml").read_text(encoding="utf-8"))
        return cls({topic: entry["must"] for topic, entry in data["topics"].items()},
                   [re.compile(pattern, FLAGS) for pattern in data["must_not"]],
                   re.compile(data["decline"], FLAGS), re.compile(data["warning"], FLAGS))


def set_path(name: str) -> Path:
    return HERE / f"{name}.yml"


def facts_for(name: str) -> Facts:
    return Facts.load(set_path(name).parent)


@dataclass
class Reply:
    texts: List[str]
    topics: List[str]  # topics whose answer was sent, in order
    alert: Optional[List[str]]  # signs named by a warning, if the reply opened with one
    scope: Optional[str]

    @property
    def text(self) -> str:
        return " ".join(text for text in self.texts if text not in DISCLAIMERS)


def send(url: str, sender: str, text: str) -> Reply:
    messages = requests.post(url, json={"sender": sender, "message": text}, timeout=30).json()
    texts, topics, alert, scope = [], [], None, None
    for message in messages:
        if message.get("text"):
            texts.append(message["text"])
        custom = message.get("custom") or {}
        if custom.get("topic") and custom.get("topic") not in topics:
            topics.append(custom["topic"])
        if custom.get("alert") == "red_flag" and not topics:
            alert = custom.get("signs") or []
        if "scope" in custom:
            scope = custom["scope"]
    return Reply(texts, topics, alert, scope)


def forbidden(facts: Facts, reply: Reply) -> List[str]:
    return [pattern.pattern for pattern in facts.must_not if pattern.search(reply.text)]


def missing_facts(facts: Facts, reply: Reply, topic: str) -> List[str]:
    return [fact for fact in facts.must[topic] if not re.search(fact, reply.text, FLAGS)]


@dataclass
class Result:
    set: str
    text: str
    expected: List[str]
    outcome: str  # right | fallback | wrong_topic | missing_facts | forbidden | not_declined | no_warning | false_alarm
    detail: str = ""
    answered: List[str] = field(default_factory=list)
    style: str = ""

    @property
    def right(self) -> bool:
        return self.outcome == "right"


def judge_topics(facts: Facts, reply: Reply, expected: List[str]) -> Tuple[str, str]:
    bad = forbidden(facts, reply)
    if bad:
        return "forbidden", ", ".join(bad)
    if not reply.topics and reply.alert is None:
        return "fallback", reply.text[:120]
    if [topic for topic in reply.topics if topic in expected] != expected:
        return "wrong_topic", f"answered {reply.topics}"
    for topic in expected:
        missing = missing_facts(facts, reply, topic)
        if missing:
            return "missing_facts", f"{topic}: {missing}"
    return "right", ""


def judge_message(url: str, set_name: str, facts: Facts, case: Dict[str, Any]) -> Result:
    reply = send(url, f"eval-{uuid.uuid4().hex[:12]}", case["text"])
    result = judge_reply(set_name, facts, case["text"], list(case["topics"]), case.get("sign"), reply)
    result.style = case.get("style", "")
    return result


def judge_reply(set_name: str, facts: Facts, text: str, expected: List[str], sign: Optional[str], reply: Reply) -> Result:
    if expected == ["scope"]:
        declined = reply.scope is not None and not reply.topics and facts.decline.search(reply.text)
        outcome = "right" if declined else "not_declined"
        return Result(set_name, text, expected, outcome, reply.text[:120], reply.topics)
    if expected == ["red_flag"]:
        return judge_warning(set_name, facts, text, sign, reply)
    if expected == ["any"]:
        bad = forbidden(facts, reply)
        return Result(set_name, text, expected, "forbidden" if bad else "right", ", ".join(bad), reply.topics)
    outcome, detail = judge_topics(facts, reply, expected)
    return Result(set_name, text, expected, outcome, detail, reply.topics)


def judge_warning(set_name: str, facts: Facts, text: str, sign: Optional[str], reply: Reply) -> Result:
    if reply.alert is None or not facts.warning.search(reply.texts[0] if reply.texts else ""):
        return Result(set_name, text, ["red_flag"], "no_warning", reply.text[:120], reply.topics)
    if sign and sign not in reply.alert:
        return Result(set_name, text, ["red_flag"], "other_sign", f"named {reply.alert}, expected {sign}")
    return Result(set_name, text, ["red_flag"], "right", "", reply.topics)


def run_set(url: str, name: str) -> List[Result]:
    data = yaml.safe_load(set_path(name).read_text(encoding="utf-8"))
    facts = facts_for(name)
    kind = name.rsplit("/", 1)[-1]
    if kind == "scope":
        return [judge_message(url, name, facts, dict(case, topics=["scope"])) for case in data["messages"]]
    if kind == "red_flags":
        results = [judge_warning(name, facts, case["text"], case["sign"], send(url, f"eval-{uuid.uuid4().hex[:12]}", case["text"]))
                   for case in data["positive"]]
        for case in data["negative"]:
            reply = send(url, f"eval-{uuid.uuid4().hex[:12]}", case["text"])
            outcome = "false_alarm" if reply.alert is not None else "right"
            results.append(Result(f"{name}_negative", case["text"], ["no_red_flag"], outcome,
                                  f"alert {reply.alert}" if reply.alert is not None else "", reply.topics))
        return results
    if kind == "context":
        return run_conversations(url, name, facts, data["conversations"])
    return [judge_message(url, name, facts, case) for case in data["messages"]]


def run_conversations(url: str, name: str, facts: Facts, conversations: List[Dict[str, Any]]) -> List[Result]:
    results = []
    for conversation in conversations:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        turns = []
        for number, turn in enumerate(conversation["turns"], start=1):
            reply = send(url, sender, turn["user"])
            verdict = judge_reply(name, facts, turn["user"], list(turn["topics"]), turn.get("sign"), reply)
            turns.append((number, turn["user"], verdict.outcome, verdict.detail))
        failed = [turn for turn in turns if turn[2] != "right"]
        detail = "; ".join(f"turn {n} \"{text}\": {outcome} {d}" for n, text, outcome, d in failed)
        results.append(Result(name, conversation["name"], ["conversation"], "right" if not failed else "failed_turn", detail))
    return results


def summarise(results: List[Result]) -> Dict[str, Any]:
    by_set: Dict[str, List[Result]] = defaultdict(list)
    for result in results:
        by_set[result.set].append(result)
    summary: Dict[str, Any] = {}
    for name, items in by_set.items():
        outcomes = Counter(result.outcome for result in items)
        summary[name] = {"total": len(items), "right": outcomes["right"], "share": outcomes["right"] / len(items),
                         "outcomes": dict(outcomes)}
        in_scope = [result for result in items if result.expected not in (["scope"], ["red_flag"])]
        if in_scope and name.rsplit("/", 1)[-1] in ("locked", "working"):
            summary[name]["in_scope_fallback_share"] = sum(r.outcome == "fallback" for r in in_scope) / len(in_scope)
            for kind in ("scope", "red_flag"):
                part = [r for r in items if r.expected == [kind]]
                if part:
                    summary[name][f"{kind}_share"] = sum(r.right for r in part) / len(part)
    return summary


def per_topic(results: List[Result]) -> Dict[str, Counter]:
    table: Dict[str, Counter] = defaultdict(Counter)
    for result in results:
        prefix, _, kind = result.set.rpartition("/")
        if kind in ("locked", "working"):
            for topic in result.expected:
                table[f"{prefix}/{topic}" if prefix else topic][result.outcome] += 1
    return table


def write_report(results: List[Result], summary: Dict[str, Any], path: Path) -> None:
    lines = ["# Independent evaluation", "",
             "Written by `tests/eval/evaluate.py` (`make eval`): every message sent to the real servers over REST, the reply scored.",
             "", "| set | messages | right | share | outcomes |", "| --- | --- | --- | --- | --- |"]
    for name, item in summary.items():
        outcomes = ", ".join(f"{key} {value}" for key, value in sorted(item["outcomes"].items()))
        lines.append(f"| {name} | {item['total']} | {item['right']} | {item['share']:.1%} | {outcomes} |")
    for name in [name for name in SETS if name.rsplit("/", 1)[-1] in ("locked", "working")]:
        if name in summary and "in_scope_fallback_share" in summary[name]:
            item = summary[name]
            lines += ["", f"{name}: fallbacks on {item['in_scope_fallback_share']:.1%} of in-scope messages; "
                      f"scope declined {item.get('scope_share', 0):.0%}; warning signs warned first {item.get('red_flag_share', 0):.0%}."]
    lines += ["", "## Per topic (locked and working halves)", "", "| topic | messages | right | fallback | wrong topic | missing facts | other |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for topic, counts in sorted(per_topic(results).items()):
        total = sum(counts.values())
        other = total - sum(counts[key] for key in ("right", "fallback", "wrong_topic", "missing_facts"))
        lines.append(f"| {topic} | {total} | {counts['right']} | {counts['fallback']} | {counts['wrong_topic']} | {counts['missing_facts']} | {other} |")
    lines += ["", "## Per style", "", "| set | style | messages | right |", "| --- | --- | --- | --- |"]
    styles: Dict[tuple, Counter] = defaultdict(Counter)
    for result in results:
        if result.style:
            styles[(result.set, result.style)][result.right] += 1
    for (name, style), counts in sorted(styles.items()):
        lines.append(f"| {name} | {style} | {sum(counts.values())} | {counts[True]} |")
    lines += ["", "## Failures", ""]
    for result in results:
        if not result.right:
            lines.append(f"- [{result.set}] {result.outcome}: \"{result.text}\" (expected {', '.join(result.expected)}) {result.detail}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluate(url: str, sets: List[str]) -> List[Result]:
    return [result for name in sets for result in run_set(url, name)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "eval.md")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        with running_servers(Path(workdir), Path(workdir) / "eval.db", dict(os.environ), args.model) as servers:
            results = evaluate(servers.rest_url, args.sets)
    summary = summarise(results)
    write_report(results, summary, args.out)
    args.out.with_suffix(".json").write_text(json.dumps({"summary": summary, "failures": [
        vars(result) for result in results if not result.right]}, indent=1), encoding="utf-8")
    for name, item in summary.items():
        extra = "".join(f", {key} {value:.1%}" for key, value in item.items() if key.endswith("_share") and key != "share")
        print(f"{name:>20}: {item['right']}/{item['total']} right ({item['share']:.1%}){extra}")
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
