"""What the REST channel's look-up of staff messages costs each message.

    .venv/bin/python -m tests.load.rest_staff_query_cost

REST cannot push, so after each patient message connectors/rest.py reads what
staff sent since the previous one (`staff_messages`). It reads only the events
from the previous user message on, straight from the SQL table; this compares
that with reading the whole tracker (what Rasa's own `retrieve` does) for a
stored 20-turn conversation, in SQLite and in PostgreSQL (127.0.0.1:5432,
database test), 300 times each.
"""
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.rest import staff_messages
from privacy.tracker_store import MaskingSQLTrackerStore
from tests.e2e.conftest import ROOT

TURNS, RUNS = 20, 300


def conversation(domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker(f"cost-{uuid.uuid4().hex[:10]}", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    for turn in range(TURNS):
        for event in (UserUttered(f"question {turn}", {"name": "ask_dangerous", "confidence": 0.9}, message_id=f"m{turn}"),
                      SlotSet("language", "en"), ActionExecuted("action_answer_topic"),
                      BotUttered("A liver calcification is usually harmless. " * 4,
                                 {"buttons": [{"title": "This helped", "payload": "/feedback_helpful"}]}),
                      BotUttered("Source: a health article", {"custom": {"topic": "dangerous"}}),
                      SlotSet("topic", "dangerous"), ActionExecuted("action_listen")):
            tracker.update(event)
    return tracker


def milliseconds(samples: list) -> str:
    samples.sort()
    return f"median {statistics.median(samples) * 1000:.2f} ms, p95 {samples[int(len(samples) * 0.95)] * 1000:.2f} ms"


async def main() -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    databases = {"sqlite": dict(dialect="sqlite", db=str(Path(tempfile.mkdtemp()) / "cost.db")),
                 "postgresql": dict(dialect="postgresql", host="127.0.0.1", port=5432, db="test", username="postgres")}
    for name, settings in databases.items():
        store = MaskingSQLTrackerStore(domain=domain, **settings)
        tracker = conversation(domain)
        await store.save(tracker)
        lookups, retrieves = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            await staff_messages(store, tracker.sender_id, f"m{TURNS - 1}")
            lookups.append(time.perf_counter() - started)
            started = time.perf_counter()
            await store.retrieve(tracker.sender_id)
            retrieves.append(time.perf_counter() - started)
        print(f"{name}, {TURNS}-turn conversation: staff look-up {milliseconds(lookups)}; "
              f"whole tracker {milliseconds(retrieves)}")


if __name__ == "__main__":
    asyncio.run(main())
