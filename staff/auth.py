"""Server-side sessions, CSRF tokens, the sign-in slow-down and the audit log,
all in the staff tables of the tracker store's database (staff/store.py).

The cookie holds a random session id; the database holds its SHA-256, the
user and the session's CSRF token. A session ends at sign-out, after
IDLE_SECONDS without a page or action, or after MAX_AGE_SECONDS in any case.
"""
import hashlib
import secrets
import time
from typing import List, NamedTuple, Optional, Text

import sqlalchemy as sa

from staff import store

MAX_AGE_SECONDS = 12 * 3600  # a working day
IDLE_SECONDS = 2 * 3600
# Failed sign-ins allowed per username, and per client address (higher: a clinic's
# staff may share one address), within the window; then each further try must
# wait, twice as long each time.
FREE_FAILURES = 5
FREE_ADDRESS_FAILURES = 20
FAILURE_WINDOW_SECONDS = 15 * 60
FIRST_WAIT_SECONDS = 30
SYSTEM_ACTOR = "system:api"
OPEN_WINDOW_SECONDS = 10 * 60  # "open" is logged once per this time, per person and conversation


class Session(NamedTuple):
    username: Text
    display_name: Text
    csrf_token: Text


def new_token() -> Text:
    return secrets.token_urlsafe(32)


def _hash(session_id: Text) -> Text:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(db: sa.engine.Engine, username: Text) -> Text:
    """A new session for `username`; returns the id for the cookie."""
    session_id, now = new_token(), time.time()
    with db.begin() as connection:
        # Sessions of anyone that have run out are cleared while we are here.
        connection.execute(store.sessions.delete().where(
            (store.sessions.c.created_at < now - MAX_AGE_SECONDS) | (store.sessions.c.last_seen < now - IDLE_SECONDS)))
        connection.execute(store.sessions.insert().values(
            id_hash=_hash(session_id), username=username, csrf_token=new_token(),
            created_at=now, last_seen=now))
    return session_id


def find_session(db: sa.engine.Engine, session_id: Optional[Text], touch: bool) -> Optional[Session]:
    """The signed-in session with this id, if it has not run out. `touch` counts
    the request as activity (a page or an action; live updates do not)."""
    if not session_id or len(session_id) > 100:
        return None
    now = time.time()
    query = (sa.select(store.sessions.c.username, store.accounts.c.display_name, store.sessions.c.csrf_token)
             .join(store.accounts, store.accounts.c.username == store.sessions.c.username)
             .where(store.sessions.c.id_hash == _hash(session_id),
                    store.sessions.c.created_at >= now - MAX_AGE_SECONDS,
                    store.sessions.c.last_seen >= now - IDLE_SECONDS))
    with db.begin() as connection:
        row = connection.execute(query).first()
        if row and touch:
            connection.execute(store.sessions.update().where(store.sessions.c.id_hash == _hash(session_id))
                               .values(last_seen=now))
    return Session(*row) if row else None


def end_session(db: sa.engine.Engine, session_id: Text) -> None:
    with db.begin() as connection:
        connection.execute(store.sessions.delete().where(store.sessions.c.id_hash == _hash(session_id)))


def tokens_match(expected: Text, given: Optional[Text]) -> bool:
    return given is not None and secrets.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def record(db: sa.engine.Engine, actor: Text, action: Text, conversation_id: Optional[Text] = None,
           detail: Optional[Text] = None) -> None:
    """One line of the audit log."""
    with db.begin() as connection:
        connection.execute(store.audit.insert().values(
            at=time.time(), actor=actor[:100], action=action, conversation_id=conversation_id, detail=detail))


def record_open(db: sa.engine.Engine, username: Text, conversation_id: Text) -> None:
    """Logs that `username` opened the conversation, once per OPEN_WINDOW_SECONDS: the
    page reloads after each reply, which is not another opening."""
    with db.begin() as connection:
        recent = connection.execute(sa.select(store.audit.c.id).where(
            store.audit.c.actor == username, store.audit.c.action == "open",
            store.audit.c.conversation_id == conversation_id,
            store.audit.c.at >= time.time() - OPEN_WINDOW_SECONDS).limit(1)).first()
        if recent is None:
            connection.execute(store.audit.insert().values(at=time.time(), actor=username, action="open",
                                                           conversation_id=conversation_id))


def wait_before_sign_in(db: sa.engine.Engine, username: Text, address: Text) -> int:
    """Seconds this username or address must still wait before trying again (0: may try)."""
    now = time.time()
    waits = []
    limits = ((store.audit.c.actor, username[:100], FREE_FAILURES), (store.audit.c.detail, address, FREE_ADDRESS_FAILURES))
    for column, value, free in limits:
        with db.connect() as connection:
            failures, last = connection.execute(
                sa.select(sa.func.count(), sa.func.max(store.audit.c.at)).where(
                    store.audit.c.action == "sign_in_failed", column == value,
                    store.audit.c.at >= now - FAILURE_WINDOW_SECONDS)).one()
        if failures >= free:
            wait = FIRST_WAIT_SECONDS * 2 ** min(failures - free, 10)
            waits.append(min(wait, FAILURE_WINDOW_SECONDS) - (now - last))
    return max([0] + [int(wait) + 1 for wait in waits if wait > 0])


def audit_rows(db: sa.engine.Engine, limit: int = 500, conversation_id: Optional[Text] = None) -> List[sa.engine.Row]:
    query = sa.select(store.audit).order_by(store.audit.c.id.desc()).limit(limit)
    if conversation_id:
        query = query.where(store.audit.c.conversation_id == conversation_id)
    with db.connect() as connection:
        return list(connection.execute(query))
