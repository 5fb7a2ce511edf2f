"""The personal-details corpus (pii_corpus.yml) through the real servers:
0 raw identifiers reach PostgreSQL, SQLite, the logs or the hand-off payload,
and the medical words stay readable in what is stored."""
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

import psycopg2
import pytest

from tests.security.conftest import CORPUS, as_typed, leaked, new_id

MESSAGES = CORPUS["messages"]


def send_corpus(server) -> Dict[str, dict]:
    """Each message in a conversation of its own; {conversation id: corpus entry}."""
    conversations = {new_id("pii"): entry for entry in MESSAGES}

    def send(item):
        sender, entry = item
        assert server.say(sender, entry["text"]).status_code == 200

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, conversations.items()))
    return conversations


def leaks(conversations: Dict[str, dict], stored: Dict[str, str]) -> List[str]:
    return [f"{raw!r} of {entry['text']!r}" for sender, entry in conversations.items()
            for raw in entry["pii"] if leaked(as_typed(raw, entry), stored.get(sender, ""))]


def check_keep_words(conversations: Dict[str, dict], stored: Dict[str, str]) -> None:
    for sender, entry in conversations.items():
        assert '"event": "user"' in stored[sender]
        for word in entry.get("keep") or []:
            assert str(word) in stored[sender], f"{word!r} of {entry['text']!r} was masked"


def rows_as_text(rows) -> Dict[str, str]:
    stored: Dict[str, str] = {}
    for sender, data in rows:
        # Stored JSON escapes non-ASCII: read it back so that Chinese identifiers are seen.
        stored[sender] = stored.get(sender, "") + json.dumps(json.loads(data), ensure_ascii=False) + "\n"
    return stored


@pytest.fixture(scope="module")
def postgres_corpus(clinic):
    conversations = send_corpus(clinic)
    with psycopg2.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres") as connection:
        with connection.cursor() as cursor:
            cursor.execute("select sender_id, data from events where sender_id = any(%s)", (list(conversations),))
            return conversations, rows_as_text(cursor.fetchall())


def test_corpus_is_large_and_varied():
    assert len(MESSAGES) >= 150
    assert sum(len(entry["pii"]) for entry in MESSAGES) >= 200


def test_no_raw_identifier_reaches_postgresql(postgres_corpus):
    conversations, stored = postgres_corpus
    assert len(stored) == len(conversations)
    assert leaks(conversations, stored) == []
    check_keep_words(conversations, stored)


def test_no_raw_identifier_reaches_sqlite(local):
    conversations = send_corpus(local)
    with sqlite3.connect(local.store) as connection:
        marks = ",".join("?" * len(conversations))
        rows = connection.execute(f"select sender_id, data from events where sender_id in ({marks})",
                                  list(conversations)).fetchall()
    stored = rows_as_text(rows)
    assert len(stored) == len(conversations)
    assert leaks(conversations, stored) == []
    check_keep_words(conversations, stored)


def test_no_raw_identifier_reaches_the_logs(clinic, postgres_corpus):
    conversations, _ = postgres_corpus
    logs = clinic.log.read_text(encoding="utf-8", errors="replace") + \
        clinic.extra["action_log"].read_text(encoding="utf-8", errors="replace")
    # The debug logs did see the conversations, so the check is not vacuous (an
    # id with six digits in a row is itself masked as a [number] in the logs).
    assert sum(sender in logs for sender in conversations) >= 0.9 * len(conversations)
    found = [f"{raw!r} of {entry['text']!r}" for entry in MESSAGES for raw in entry["pii"]
             if leaked(as_typed(raw, entry), logs)]
    assert found == []


def test_no_raw_identifier_reaches_the_hand_off(clinic, handoffs):
    conversations = {new_id("handoff"): entry for entry in MESSAGES[::4]}
    for sender, entry in conversations.items():
        assert clinic.say(sender, entry["text"]).status_code == 200
        assert clinic.say(sender, "can I talk to a nurse please").status_code == 200
    payloads = {body["conversation_id"]: json.dumps(body, ensure_ascii=False) for body in handoffs.bodies}
    assert set(conversations) <= set(payloads)
    assert leaks(conversations, payloads) == []
