"""Held-out intent accuracy and conversation tests of one model, loaded once.

`rasa test nlu` and `rasa test core` each load the model, and the reference's
takes a minute to load; this runs the same Rasa test functions on one load.
Writes OUT/NAME-nlu/intent_report.json and OUT/NAME-core/story_report.json.

    .venv/bin/python bench/evaluate.py MODEL OUT NAME
"""
import asyncio
import sys
from pathlib import Path

from rasa.core.agent import Agent
from rasa.core.test import test as test_conversations
from rasa.nlu.test import run_evaluation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the model names the project's custom component, as `rasa` finds it


async def evaluate(model: Path, out: Path, name: str) -> None:
    agent = Agent.load(model_path=str(model))
    nlu_out, core_out = out / f"{name}-nlu", out / f"{name}-core"
    for folder in (nlu_out, core_out):
        folder.mkdir(parents=True, exist_ok=True)
    # As `rasa test nlu --no-plot` and `rasa test core --no-plot` (no --e2e) would.
    await run_evaluation(str(ROOT / "tests" / "nlu_heldout.yml"), agent.processor,
                         output_directory=str(nlu_out), errors=True, disable_plotting=True)
    await test_conversations(str(ROOT / "tests"), agent, out_directory=str(core_out),
                             disable_plotting=True)


if __name__ == "__main__":
    asyncio.run(evaluate(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
