"""Rasa's SQL tracker store, with patients' personal details masked before storage.

Works with SQLite (the default, a file in the project folder) and PostgreSQL
(the clinic profile). Configured in endpoints.yml.
"""
import contextlib
import copy
from pathlib import Path
from typing import Any, Iterator, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered

from privacy.masking import install_log_masking, mask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def masked(event: Event) -> Event:
    if not isinstance(event, UserUttered) or not event.text:
        return event
    safe = copy.copy(event)
    safe.text = mask(event.text)
    safe.parse_data = dict(event.parse_data, text=safe.text)
    return safe


class StoreRefusedError(RuntimeError):
    """The database refused a value of this conversation."""


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, dialect: Text = "sqlite", db: Text = "conversations.db", **kwargs: Any) -> None:
        # A relative SQLite file lives in the project folder, wherever the server was started.
        if dialect == "sqlite" and not Path(db).is_absolute():
            db = str(PROJECT_ROOT / db)
        super().__init__(dialect=dialect, db=db, **kwargs)
        # What is kept out of the database is kept out of the logs too.
        install_log_masking()

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        with super().session_scope() as session:
            try:
                yield session
            except ValueError as error:
                # Rasa's session_scope reads any ValueError as a missing PostgreSQL
                # schema and exits the server; psycopg2 raises one for a NUL character
                # in a value (a sender id, an intent name). Such a message fails alone.
                raise StoreRefusedError(str(error)) from error

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        return (masked(event) for event in super()._additional_events(session, tracker))
