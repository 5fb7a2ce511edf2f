"""The database the console and the report read: the tracker store's own, as
endpoints.yml (or STAFF_ENDPOINTS, e.g. endpoints.prod.yml) configures it.

Rasa writes the `events` table; here it is only read. The staff's own tables
(accounts, sessions, audit log) live beside it in the same database.
"""
import os
from pathlib import Path
from typing import Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import read_endpoint_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent

metadata = sa.MetaData()

# The columns of Rasa 3.6's SQLTrackerStore.SQLEvent, declared here so that a
# query never creates or changes Rasa's table.
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def database_url(endpoints: Optional[Path] = None) -> Text:
    """The tracker store's database URL; a relative SQLite file is in the project folder
    (as privacy/tracker_store.py places it)."""
    path = Path(endpoints or os.environ.get("STAFF_ENDPOINTS") or PROJECT_ROOT / "endpoints.yml")
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    config = read_endpoint_config(str(path), "tracker_store")
    if config is None:
        raise ValueError(f"{path} has no tracker_store")
    settings = config.kwargs
    dialect = settings.get("dialect", "sqlite")
    db = settings.get("db", "rasa.db")
    if dialect == "sqlite" and not Path(db).is_absolute():
        db = str(PROJECT_ROOT / db)
    return str(
        SQLTrackerStore.get_db_url(
            dialect=dialect,
            host=config.url,
            port=settings.get("port"),
            db=db,
            username=settings.get("username"),
            password=settings.get("password"),
            login_db=settings.get("login_db"),
            query=settings.get("query"),
        )
    )


def engine(url: Optional[Text] = None) -> sa.engine.Engine:
    return sa.create_engine(url or database_url(), future=True)


# The console's own tables. Times are Unix seconds, as in Rasa's events.
accounts = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# A session is found by the SHA-256 of its cookie value: the table alone does not sign anyone in.
sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)

audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),  # a username, or "system:api"
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("conversation_id", sa.String(255), index=True),
    sa.Column("detail", sa.Text),
    sa.Index("ix_staff_audit_action_at", "action", "at"),
)

# Closed conversations leave the console's lists until the patient asks for a person again.
closed = sa.Table(
    "staff_closed",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("closed_at", sa.Float, nullable=False),
    sa.Column("closed_by", sa.String(100), nullable=False),
)

# Signatures of the staff API's accepted requests, kept while their timestamp is fresh: a replay is refused.
api_requests = sa.Table(
    "staff_api_requests",
    metadata,
    sa.Column("signature", sa.String(64), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)

STAFF_TABLES = [accounts, sessions, audit, closed, api_requests]


def prepare(db: sa.engine.Engine) -> bool:
    """Creates the staff tables if missing. True when Rasa's events table exists
    (Rasa has started with this database)."""
    metadata.create_all(db, tables=STAFF_TABLES)
    return sa.inspect(db).has_table(events.name)
