"""Staff accounts: create or update one, check a password.

    python -m staff.accounts [--username NAME] [--display-name "Nurse Lee"]
    (make staff-user USER_NAME=lee)

asks for the password twice (or reads STAFF_PASSWORD, for scripts and tests)
and stores its Argon2id hash in the tracker store's database (STAFF_ENDPOINTS
picks the endpoints file, endpoints.yml by default).
"""
import argparse
import getpass
import os
import re
import sys
import time
from typing import List, Optional, Text

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from staff import store

MIN_PASSWORD_LENGTH = 12
# Argon2 hashes any length; a cap keeps a sign-in request from costing more than it should.
MAX_PASSWORD_LENGTH = 256
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# argon2-cffi's defaults: RFC 9106's second recommended profile (Argon2id, 64 MiB, 3 passes).
HASHER = PasswordHasher()
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_NOBODY = HASHER.hash("no such account")


class AccountError(ValueError):
    """A username or password that cannot be used; the message says why."""


def check_username(username: Text) -> Text:
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError("A username is 1 to 64 characters: letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit.")
    return username


def check_password(password: Text) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")


def save_account(db: sa.engine.Engine, username: Text, password: Text, display_name: Optional[Text] = None) -> bool:
    """Creates the account, or sets a new password (and display name, if given).
    True if it was created."""
    username = check_username(username)
    check_password(password)
    if display_name is not None and not display_name.strip():
        raise AccountError("The display name must not be blank.")
    store.prepare(db)
    now, hashed = time.time(), HASHER.hash(password)
    with db.begin() as connection:
        exists = connection.execute(
            sa.select(store.accounts.c.username).where(store.accounts.c.username == username)
        ).first()
        if exists:
            changes = {"password_hash": hashed, "updated_at": now}
            if display_name:
                changes["display_name"] = display_name.strip()[:100]
            connection.execute(store.accounts.update().where(store.accounts.c.username == username).values(**changes))
        else:
            connection.execute(store.accounts.insert().values(
                username=username, display_name=(display_name or username).strip()[:100], password_hash=hashed,
                created_at=now, updated_at=now))
    return not exists


def verify(db: sa.engine.Engine, username: Text, password: Text) -> Optional[Text]:
    """The username if the password is right, else None. Upgrades an old hash in passing."""
    username = username.strip().lower()
    with db.connect() as connection:
        row = connection.execute(
            sa.select(store.accounts.c.password_hash).where(store.accounts.c.username == username)
        ).first()
    try:
        HASHER.verify(row.password_hash if row else _NOBODY, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if HASHER.check_needs_rehash(row.password_hash):
        with db.begin() as connection:
            connection.execute(store.accounts.update().where(store.accounts.c.username == username)
                               .values(password_hash=HASHER.hash(password)))
    return username


def count(db: sa.engine.Engine) -> int:
    store.prepare(db)
    with db.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(store.accounts)).scalar_one()


def _ask_password() -> Text:
    password = os.environ.get("STAFF_PASSWORD")
    if password is not None:
        return password
    password = getpass.getpass("Password (at least %d characters): " % MIN_PASSWORD_LENGTH)
    if getpass.getpass("The same password again: ") != password:
        raise AccountError("The two passwords differ; nothing was changed.")
    return password


def main(argv: Optional[List[Text]] = None) -> int:
    parser = argparse.ArgumentParser(description="Create a staff account for the console, or set a new password.")
    parser.add_argument("--username", help="the account's name (asked for when not given)")
    parser.add_argument("--display-name", help="the name patients see beside a staff reply (default: the username)")
    args = parser.parse_args(argv)
    try:
        username = check_username(args.username if args.username is not None else input("Username: "))
        password = _ask_password()
        check_password(password)
    except AccountError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\nStopped; nothing was changed.", file=sys.stderr)
        return 1
    try:
        created = save_account(store.engine(), username, password, args.display_name)
    except AccountError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    except (ValueError, sa.exc.SQLAlchemyError) as error:  # no tracker store configured, or no database
        print(f"ERROR: the database could not be reached or written ({type(error).__name__}: "
              f"{str(error).splitlines()[0]}). Check STAFF_ENDPOINTS.", file=sys.stderr)
        return 1
    print(f"Staff account '{username}' {'created' if created else 'updated'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
