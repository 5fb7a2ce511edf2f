"""How long the staff console's queue takes on a large tracker store.

Seeds the conversations of bench/report_scale.py (fixed seed: questions, warning
signs, hand-offs, some never handed back) into a throwaway SQLite file and a
throwaway PostgreSQL database (`staff_queue_bench` on 127.0.0.1, dropped
afterwards), adds the indexes the console creates at start (staff/insights.py),
then times what one refresh of the console's pages reads: the queue and the
handed-back list (staff/conversations.py) with their HTML fragment, and one
conversation. Prints a Markdown table.

    .venv/bin/python bench/staff_queue.py [--conversations 100000] [--skip-postgres]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402

from bench.report_scale import NOW, POSTGRES, drop_database, postgres_insert, seed, sqlite_insert  # noqa: E402
from staff import conversations, insights, store  # noqa: E402
from staff.app import templates  # noqa: E402

BENCH_DB = "staff_queue_bench"
RUNS = 5


def median_ms(action: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(name: str, engine: sa.engine.Engine, insert: Callable, count: int) -> Dict[str, Any]:
    print(f"{name}: seeding {count:,} conversations", flush=True)
    events = seed(engine, count, insert)
    insights.ensure_indexes(engine)
    store.prepare(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE events")  # what autovacuum does on a live store
    # The seeded hand-offs end by NOW; the handed-back list covers the day before it.
    queue = conversations.queue(engine)
    back = conversations.handed_back(engine, now=NOW)
    fragment = templates().get_template("_queue.html")
    with engine.connect() as connection:
        paused = connection.execute(sa.select(sa.func.count()).select_from(store.events)
                                    .where(store.events.c.type_name == "pause")).scalar_one()
    return {
        "events": events, "pauses": paused, "waiting": len(queue), "back": len(back),
        "queue_ms": median_ms(lambda: fragment.render(waiting=conversations.queue(engine),
                                                      handed_back=conversations.handed_back(engine, now=NOW),
                                                      csrf="x")),
        "load_ms": median_ms(lambda: conversations.load(engine, queue[0].id)) if queue else None,
    }


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    options = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="staff-queue-") as work:
        sqlite_store = SQLTrackerStore(dialect="sqlite", db=str(Path(work) / "conversations.db"))
        results["SQLite"] = measure("SQLite", sqlite_store.engine, sqlite_insert, options.conversations)
        sqlite_store.engine.dispose()
    if not options.skip_postgres:
        postgres_store = SQLTrackerStore(dialect="postgresql", db=BENCH_DB, **POSTGRES)
        try:
            results["PostgreSQL"] = measure("PostgreSQL", postgres_store.engine, postgres_insert,
                                            options.conversations)
        finally:
            postgres_store.engine.dispose()
            drop_database(BENCH_DB)
    print(f"\n{options.conversations:,} conversations; median of {RUNS} runs\n")
    print("| store | events | hand-offs | waiting | handed back (last day) | queue page refresh | one conversation |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, figures in results.items():
        load = f"{figures['load_ms']:.0f} ms" if figures["load_ms"] is not None else "-"
        print(f"| {name} | {figures['events']:,} | {figures['pauses']:,} | {figures['waiting']:,} | {figures['back']:,} "
              f"| {figures['queue_ms']:.0f} ms | {load} |")


if __name__ == "__main__":
    main()
