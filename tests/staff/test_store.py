"""The console's database work on both stores it supports, SQLite (the default)
and PostgreSQL (the clinic profile): conversations written by Rasa's own
(masking) tracker store, then the staff tables, the queue, the handed-back list,
closing, sessions, the sign-in slow-down and the staff API's replay memory,
read and written by the console's code."""
import asyncio
import time
import uuid
from typing import Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import (ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event,
                                     SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.slots import AnySlot, ListSlot, TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.tracker_store import MaskingSQLTrackerStore
from staff import accounts, auth, conversations, store
from staff.app import _close, _remember_signature

POSTGRES = "postgresql://postgres@127.0.0.1:5432/"
SLOTS = [TextSlot("language", mappings=[]), ListSlot("warned", mappings=[]), AnySlot("feedback", mappings=[]),
         AnySlot("check_answers", mappings=[])]


def postgres_up() -> bool:
    try:
        sa.create_engine(POSTGRES + "postgres").connect().close()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store(request, tmp_path) -> Iterator[MaskingSQLTrackerStore]:
    """Rasa's tracker store on an empty database of each kind (PostgreSQL: a database of its own, dropped after)."""
    if request.param == "sqlite":
        yield MaskingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "conversations.db"))
        return
    if not postgres_up():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"staff_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    tracker_store = MaskingSQLTrackerStore(dialect="postgresql", host="127.0.0.1", port=5432, db=name,
                                           username="postgres")
    try:
        yield tracker_store
    finally:
        tracker_store.engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def save(tracker_store: MaskingSQLTrackerStore, sender: str, events: List[Event]) -> None:
    """Appends `events` to the stored conversation, as the Rasa server does."""
    async def append() -> None:
        stored = await tracker_store.retrieve(sender)
        tracker = DialogueStateTracker.from_events(sender, list(stored.events) if stored else [], slots=SLOTS)
        for event in events:
            tracker.update(event)
        await tracker_store.save(tracker)
    asyncio.run(append())


def hand_off(at: float, text: str = "can I talk to a nurse") -> List[Event]:
    return [ActionExecuted("action_listen", timestamp=at), UserUttered(text, {"name": "request_human"}, timestamp=at),
            ActionExecuted("action_hand_off", timestamp=at), BotUttered("Please wait here.", timestamp=at),
            ConversationPaused(timestamp=at)]


def test_queue_lists_and_staff_tables(tracker_store):
    now = time.time()
    save(tracker_store, "calm", [SlotSet("language", "zh", timestamp=now - 900)] + hand_off(now - 900, "找护士"))
    save(tracker_store, "flagged", [UserUttered("my eyes are yellow, email me at ann@example.com", timestamp=now - 60),
                                    BotUttered("You mentioned yellow skin or eyes.",
                                               data={"custom": {"alert": "red_flag", "signs": ["jaundice"]}},
                                               timestamp=now - 60),
                                    SlotSet("warned", ["jaundice"], timestamp=now - 60)] + hand_off(now - 50))
    # Waiting since the first pause, though a new session paused it again (actions/actions.py).
    save(tracker_store, "overnight", hand_off(now - 3000) + [
        SessionStarted(timestamp=now - 100), ConversationPaused(timestamp=now - 100),
        UserUttered("hello again?", timestamp=now - 90)])
    save(tracker_store, "back", hand_off(now - 500) + [
        BotUttered("Hello, the clinic team here.", metadata={"staff": "lee"}, timestamp=now - 400),
        ConversationResumed(timestamp=now - 300), BotUttered("I'm back.", timestamp=now - 300),
        SlotSet("feedback", {"topic": "cancer", "helpful": False}, timestamp=now - 200)])
    # Warned without a sign named (the classifier was sure, the patterns found none): a red flag too.
    save(tracker_store, "unsure", [UserUttered("something is badly wrong", timestamp=now - 30),
                                   BotUttered("If you have any of these signs now...",
                                              data={"custom": {"alert": "red_flag", "signs": []}}, timestamp=now - 30),
                                   SlotSet("warned", [], timestamp=now - 30)] + hand_off(now - 20))
    save(tracker_store, "never", [UserUttered("is it dangerous?", timestamp=now)])
    db = store.engine(str(tracker_store.engine.url))
    assert store.prepare(db) and store.prepare(db)  # idempotent

    queue = conversations.queue(db)
    assert [conversation.id for conversation in queue] == ["flagged", "unsure", "overnight", "calm"]
    flagged, unsure, overnight, calm = queue
    assert flagged.signs == ["jaundice"] and flagged.needs_reply and flagged.last_patient.text == "can I talk to a nurse"
    assert unsure.red_flag and unsure.signs == []
    # The lists read a few events; a conversation's page reads them all, masked when stored.
    assert [(item.kind, item.alert) for item in flagged.items] == [("assistant", True), ("patient", False),
                                                                    ("note", False)]
    full = conversations.load(db, "flagged")
    assert [item.kind for item in full.items] == ["patient", "assistant", "patient", "assistant", "note"]
    assert "[email]" in full.items[0].text and "ann@" not in full.items[0].text
    assert overnight.paused_at == pytest.approx(now - 3000) and overnight.last_patient.text == "hello again?"
    assert calm.language == "zh" and calm.last_patient.text == "找护士"
    back = conversations.handed_back(db)
    assert [conversation.id for conversation in back] == ["back"]
    assert back[0].staff == ["lee"] and not back[0].waiting
    assert conversations.load(db, "back").feedback == [{"topic": "cancer", "helpful": False, "at": now - 200}]
    assert conversations.load(db, "nobody") is None

    # Closing takes a conversation off both lists until it asks for a person again.
    _close(db, "back", "lee")
    _close(db, "back", "lee")  # twice: still one row
    assert conversations.handed_back(db) == []
    save(tracker_store, "back", hand_off(time.time() + 1))  # asked again after the close
    assert "back" in [conversation.id for conversation in conversations.queue(db)]

    # Accounts, sessions, the slow-down, the API's replay memory.
    assert accounts.save_account(db, "lee", "a-long-enough-password", "Nurse Lee") and accounts.count(db) == 1
    session_id = auth.start_session(db, accounts.verify(db, "lee", "a-long-enough-password"))
    session = auth.find_session(db, session_id, touch=True)
    assert (session.username, session.display_name) == ("lee", "Nurse Lee")
    auth.end_session(db, session_id)
    assert auth.find_session(db, session_id, touch=False) is None
    for _ in range(auth.FREE_FAILURES):
        auth.record(db, "lee", "sign_in_failed", None, "10.1.1.1")
    assert auth.wait_before_sign_in(db, "lee", "10.9.9.9") > 0
    assert _remember_signature(db, "ab" * 32) and not _remember_signature(db, "ab" * 32)
