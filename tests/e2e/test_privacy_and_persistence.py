"""What is stored: personal details masked, conversations kept across a restart."""
import os
import sqlite3
import uuid

import requests

from tests.e2e.conftest import TOKEN, running_servers
from tests.e2e.test_rest import say, topic_of

PERSONAL = {
    "phone": "07700 900123",
    "email": "jo.bloggs@example.com",
    "date of birth": "12/03/1980",
    "record number": "MRN 4471902",
}


def stored_events(database, conversation_id):
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("select data from events where sender_id = ?", (conversation_id,))]


def test_personal_details_never_reach_the_database(servers):
    patient = f"patient-{uuid.uuid4().hex[:8]}"
    message = (f"my number is {PERSONAL['phone']}, email {PERSONAL['email']}, born {PERSONAL['date of birth']}, "
               f"{PERSONAL['record number']}. is it dangerous?")
    assert say(servers, patient, message)
    stored = "\n".join(stored_events(servers.database, patient))
    assert '"event": "user"' in stored
    for kind, value in PERSONAL.items():
        assert value not in stored, f"raw {kind} reached the database"
    for token in ("[phone]", "[email]", "[date]", "[record number]"):
        assert token in stored


def test_conversation_survives_a_restart(tmp_path):
    database = tmp_path / "conversations.db"
    patient = f"patient-{uuid.uuid4().hex[:8]}"
    with running_servers(tmp_path, database, dict(os.environ)) as servers:
        assert topic_of(say(servers, patient, "how often should I get scanned?")) == "rescan_interval"
    with running_servers(tmp_path, database, dict(os.environ)) as servers:
        tracker = requests.get(f"{servers.base_url}/conversations/{patient}/tracker", params={"token": TOKEN}, timeout=30).json()
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["how often should I get scanned?"]
        assert topic_of(say(servers, patient, "and for how long?")) == "rescan_duration"
