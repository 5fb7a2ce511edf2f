"""Deletes stored conversations: those older than N days, or one by its id.

    .venv/bin/python -m privacy.retention --older-than-days 90
    .venv/bin/python -m privacy.retention --conversation <conversation id>

Uses the tracker store configured in the endpoints file (default endpoints.yml).
A conversation is "older than N days" when its latest event is.
"""
import argparse
import time
from pathlib import Path
from typing import List, Text

from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.core.utils import read_endpoints_from_path
from sqlalchemy import func

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def sql_store(endpoints: Path) -> SQLTrackerStore:
    store = create_tracker_store(read_endpoints_from_path(endpoints).tracker_store)
    store = getattr(store, "_tracker_store", store)  # unwrap Rasa's async wrapper, if any
    if not isinstance(store, SQLTrackerStore):
        raise SystemExit(f"{endpoints}: the tracker store is not an SQL store; nothing to delete.")
    return store


def delete_conversation(store: SQLTrackerStore, conversation_id: Text) -> int:
    with store.session_scope() as session:
        deleted = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == conversation_id).delete()
        session.commit()
    return deleted


def delete_older_than(store: SQLTrackerStore, days: float) -> List[Text]:
    cutoff = time.time() - days * 86400
    with store.session_scope() as session:
        last_seen = func.max(store.SQLEvent.timestamp)
        stale = [row[0] for row in session.query(store.SQLEvent.sender_id).group_by(store.SQLEvent.sender_id).having(last_seen < cutoff)]
        if stale:
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id.in_(stale)).delete(synchronize_session=False)
        session.commit()
    return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=Path, default=PROJECT_ROOT / "endpoints.yml")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--older-than-days", type=float)
    what.add_argument("--conversation")
    args = parser.parse_args()
    store = sql_store(args.endpoints)
    if args.conversation:
        print(f"deleted {delete_conversation(store, args.conversation)} events of conversation {args.conversation}")
    else:
        stale = delete_older_than(store, args.older_than_days)
        print(f"deleted {len(stale)} conversations older than {args.older_than_days:g} days")


if __name__ == "__main__":
    main()
