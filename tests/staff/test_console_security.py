"""The console's locks, tried against the running console: no page or API
without a signed-in session, no change without the session's CSRF token, wrong
passwords refused and slowed down, sign-out ending the session, cookies that
scripts and other sites cannot use, and bad input answered politely."""
import os
import subprocess
import uuid
from typing import Dict, List

import pytest
import requests
import sqlalchemy as sa

from staff import accounts, auth, store
from staff.app import PUBLIC, make_app
from staff.rasa_api import RasaAPI
from tests.e2e.conftest import BIN, ROOT
from tests.staff.conftest import STAFF_PASSWORD, STAFF_USER, Staff, waiting_ids


@pytest.fixture(scope="module")
def waiting(stack) -> str:
    """A REST patient who asked for a nurse: a conversation waiting in the queue."""
    sender = f"locks-{uuid.uuid4().hex[:8]}"
    stack.rest(sender, "is a liver calcification dangerous?")
    stack.rest(sender, "can I talk to a nurse please")
    assert any(event["event"] == "pause" for event in stack.events(sender)), "the hand-off did not pause"
    return sender


def routes(stack) -> List[Dict[str, str]]:
    """Every route of the console's router (so that a new route is covered too), with its
    path filled in; the static files are the one resource without a method route here."""
    app = make_app(stack.database(), RasaAPI("http://127.0.0.1:9", "unused"))
    found = []
    for route in app.router.routes():
        info = route.resource.get_info()
        if "formatter" in info:
            path = info["formatter"]
        elif "path" in info:
            path = info["path"]
        else:
            continue  # static files: public, checked below
        found.append({"name": route.name, "method": route.method, "path": path})
    assert {route["name"] for route in found} >= {"queue", "conversation", "reply", "hand_back", "close", "audit"}
    return found


def state(stack, sender: str) -> Dict[str, object]:
    """What a refused request must leave unchanged: the conversation's events, the audit
    log, the closed list and the sessions."""
    with stack.database().connect() as connection:
        count = lambda table: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        return {"events": len(stack.events(sender)), "audit": count(store.audit), "closed": count(store.closed),
                "sessions": count(store.sessions)}


def test_every_route_refuses_a_request_without_a_signed_in_session(stack, waiting):
    checked = 0
    for route in routes(stack):
        url = stack.console + route["path"].replace("{conversation_id}", waiting)
        for cookies in ({}, {"staff_session": "made-up-" + uuid.uuid4().hex}):
            reply = requests.request(route["method"], url, cookies=cookies, allow_redirects=False, timeout=30)
            body = reply.json() if route["method"] != "HEAD" and reply.status_code == 401 else {"error": ""}
            if route["name"] in ("sign_in", "sign_in_post"):
                assert reply.status_code in (200, 403), (route, reply.status_code)  # the sign-in page itself
            elif route["name"].startswith("api_"):
                assert reply.status_code == 401 and "error" in body, (route, reply.text)  # unsigned
            elif route["path"].startswith("/live/"):
                assert reply.status_code == 401 and body["error"] in ("sign in first", ""), (route, reply.text)
            else:
                assert reply.status_code == 303, (route, reply.status_code)
                assert reply.headers["Location"].startswith("/sign-in?next="), route
            checked += 1
    assert checked >= 2 * 12
    # JSON clients get 401, not a redirect, on any route.
    reply = requests.get(f"{stack.console}/conversations/{waiting}", headers={"Accept": "application/json"}, timeout=30)
    assert reply.status_code == 401
    # An unknown path reveals nothing either.
    assert requests.get(f"{stack.console}/no-such-page", allow_redirects=False, timeout=30).status_code == 303
    # The sign-in page's own files are public; the conversation is nowhere in them.
    for name in ("console.css", "console.js"):
        reply = requests.get(f"{stack.console}/static/{name}", timeout=30)
        assert reply.status_code == 200 and waiting not in reply.text


def test_state_changes_without_the_csrf_token_are_refused_and_change_nothing(stack, staff, waiting):
    before = state(stack, waiting)
    changes = [route for route in routes(stack) if route["method"] == "POST" and route["name"] not in PUBLIC]
    assert {route["name"] for route in changes} == {"sign_out", "reply", "hand_back", "close"}
    for route in changes:
        path = route["path"].replace("{conversation_id}", waiting)
        for token in (None, "wrong-" + staff.csrf[6:]):
            reply = staff.action(path, csrf=token, text="A reply that must not be sent")
            assert reply.status_code == 403, (route, token, reply.status_code)
            assert "did not come from the console" in reply.text
        # JSON (the page's script) without the X-CSRF-Token header.
        reply = staff.post(staff.url(path), json={"text": "A reply that must not be sent"},
                           headers={"Accept": "application/json"}, timeout=30)
        assert reply.status_code == 403 and "error" in reply.json()
    assert state(stack, waiting) == before
    assert staff.get(staff.url("/"), allow_redirects=False, timeout=30).status_code == 200  # still signed in
    assert waiting in waiting_ids(staff.queue()["html"])


def test_a_wrong_password_is_refused_and_logged(stack):
    client = Staff(stack.console)
    reply = client.sign_in(password=STAFF_PASSWORD + "x")
    assert reply.status_code == 401 and "Wrong username or password." in reply.text
    assert "staff_session" not in client.cookies
    assert client.get(client.url("/"), allow_redirects=False, timeout=30).status_code == 303
    rows = auth.audit_rows(stack.database(), 5)
    assert (rows[0].actor, rows[0].action) == (STAFF_USER, "sign_in_failed")
    # An unknown user gets the same answer.
    assert "Wrong username or password." in Staff(stack.console).sign_in("nobody-here").text


def test_repeated_failures_slow_the_account_down(stack):
    username = f"slow{uuid.uuid4().hex[:6]}"
    assert accounts.save_account(stack.database(), username, "a-good-long-password")
    client = Staff(stack.console)
    for _ in range(auth.FREE_FAILURES):
        assert client.sign_in(username, "not-the-password").status_code == 401
    # Now even the right password must wait.
    reply = client.sign_in(username, "a-good-long-password")
    assert reply.status_code == 429 and "Too many failed sign-ins" in reply.text
    assert 0 < int(reply.headers["Retry-After"]) <= auth.FIRST_WAIT_SECONDS + 1
    assert "staff_session" not in client.cookies


def test_the_address_limit_and_the_wait_growing(tmp_path):
    db = sa.create_engine(f"sqlite:///{tmp_path / 'staff.db'}", future=True)
    store.prepare(db)
    assert auth.wait_before_sign_in(db, "anyone", "10.0.0.1") == 0
    for number in range(auth.FREE_ADDRESS_FAILURES):
        auth.record(db, f"guess{number}", "sign_in_failed", None, "10.0.0.1")
    # Different usernames from one address: the address waits, another address does not.
    assert 0 < auth.wait_before_sign_in(db, "someone-else", "10.0.0.1") <= auth.FIRST_WAIT_SECONDS + 1
    assert auth.wait_before_sign_in(db, "someone-else", "10.0.0.2") == 0
    for _ in range(auth.FREE_FAILURES + 2):
        auth.record(db, "target", "sign_in_failed", None, "10.0.0.3")
    assert auth.wait_before_sign_in(db, "target", "10.0.0.4") > 2 * auth.FIRST_WAIT_SECONDS


def test_sign_out_ends_the_session(stack):
    client = Staff(stack.console)
    assert client.sign_in().status_code == 303
    cookie = client.cookies["staff_session"]
    reply = client.action("/sign-out")
    assert reply.status_code == 303 and reply.headers["Location"] == "/sign-in?done=signed_out"
    # The old cookie no longer opens anything, even when sent again by hand.
    for path in ("/", "/audit"):
        again = requests.get(stack.console + path, cookies={"staff_session": cookie}, allow_redirects=False, timeout=30)
        assert again.status_code == 303
    rows = auth.audit_rows(stack.database(), 3)
    assert (rows[0].actor, rows[0].action) == (STAFF_USER, "sign_out")


def test_session_cookie_is_http_only_strict_and_secure_behind_https(stack):
    page = requests.get(f"{stack.console}/sign-in", timeout=30)
    token = page.cookies["staff_sign_in"]
    for headers, secure in (({}, False), ({"X-Forwarded-Proto": "https"}, True)):
        reply = requests.post(f"{stack.console}/sign-in", cookies={"staff_sign_in": token}, headers=headers,
                              data={"csrf_token": token, "username": STAFF_USER, "password": STAFF_PASSWORD,
                                    "next": "//evil.example/steal"}, allow_redirects=False, timeout=30)
        assert reply.status_code == 303
        assert reply.headers["Location"] == "/"  # no redirect to another site
        cookie = next(value for value in reply.raw.headers.getlist("Set-Cookie") if value.startswith("staff_session="))
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=" in cookie
        assert ("Secure" in cookie) == secure
    # The sign-in form's own token must come back with its cookie.
    reply = requests.post(f"{stack.console}/sign-in", data={"csrf_token": token, "username": STAFF_USER,
                                                            "password": STAFF_PASSWORD}, allow_redirects=False,
                          timeout=30)
    assert reply.status_code == 403 and "staff_session" not in reply.cookies


def test_pages_forbid_framing_and_caching(stack, staff, waiting):
    reply = staff.get(staff.url(f"/conversations/{waiting}"), timeout=30)
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_bad_input_gets_a_clear_answer(stack, staff, waiting):
    before = len(stack.events(waiting))
    for text, message in (("   ", "Write a reply first."), ("x" * 2001, "at most 2000 characters")):
        reply = staff.action(f"/conversations/{waiting}/reply", text=text)
        assert reply.status_code == 400 and message in reply.text and "Traceback" not in reply.text
    reply = staff.get(staff.url("/conversations/no-such-patient"), timeout=30)
    assert reply.status_code == 404 and "There is no conversation with this id." in reply.text
    reply = staff.get(staff.url(f"/live/conversations/{waiting}?after=abc"), timeout=30)
    assert reply.status_code == 400 and "'after' must be an event number." in reply.json()["error"]
    assert len(stack.events(waiting)) == before


def test_the_accounts_command(stack, tmp_path):
    db = stack.database()
    username = f"acct{uuid.uuid4().hex[:6]}"
    with pytest.raises(accounts.AccountError, match="at least 12 characters"):
        accounts.save_account(db, username, "short")
    with pytest.raises(accounts.AccountError, match="username"):
        accounts.save_account(db, "no spaces allowed", "a-good-long-password")
    assert accounts.save_account(db, username, "first-long-password", "Dr Example")
    assert not accounts.save_account(db, username, "second-long-password")  # updated, not created
    assert accounts.verify(db, username, "first-long-password") is None
    assert accounts.verify(db, username.upper(), "second-long-password") == username
    with db.connect() as connection:
        row = connection.execute(sa.select(store.accounts).where(store.accounts.c.username == username)).one()
    assert row.display_name == "Dr Example"  # kept when not given again
    assert row.password_hash.startswith("$argon2id$") and "second-long-password" not in row.password_hash


def test_the_accounts_command_line(stack):
    """`make staff-user` as a script runs it: a clear message and exit status 1 on a bad password or database."""
    def run(password: str, endpoints: str) -> subprocess.CompletedProcess:
        return subprocess.run([BIN / "python", "-m", "staff.accounts", "--username", "cli-user"], cwd=ROOT,
                              env=dict(os.environ, STAFF_PASSWORD=password, STAFF_ENDPOINTS=endpoints),
                              capture_output=True, text=True, timeout=120)
    short = run("short", str(stack.endpoints))
    assert short.returncode == 1 and "ERROR: The password must have at least 12 characters." in short.stderr
    nowhere = run("a-good-long-password", str(stack.workdir / "missing.yml"))
    assert nowhere.returncode == 1 and "Check STAFF_ENDPOINTS." in nowhere.stderr and "Traceback" not in nowhere.stderr
    made = run("a-good-long-password", str(stack.endpoints))
    assert made.returncode == 0 and made.stdout.strip() == "Staff account 'cli-user' created."
    assert accounts.verify(stack.database(), "cli-user", "a-good-long-password") == "cli-user"
