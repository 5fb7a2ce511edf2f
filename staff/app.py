"""The staff console: a web app where clinic staff answer the patients who asked
for a person, hand them back to the assistant, and read the audit log.

    python -m staff.app      (make run starts it; STAFF_HOST, STAFF_PORT, RASA_URL,
                              RASA_AUTH_TOKEN, STAFF_API_SECRET, STAFF_ENDPOINTS)

Every page and JSON endpoint needs a signed-in session, except the sign-in
page, the static files and the signed staff API (POST /api/conversations/{id}/reply
and /hand-back, HMAC-signed as the clinic connector's webhooks are; off unless
STAFF_API_SECRET is set). Every state-changing request carries the session's
CSRF token: a form field, or the X-CSRF-Token header for JSON.
"""
import asyncio
import datetime
import functools
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
import sqlalchemy as sa
from aiohttp import web
from markupsafe import Markup

from connectors.clinic import MAX_AGE_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, fresh, signature_ok
from connectors.limits import limiter
from content_model import load_library
from privacy.masking import mask
from staff import accounts, auth, conversations, insights, report, store
from staff.rasa_api import RasaAPI, RasaError

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "staff_session"
SIGN_IN_COOKIE = "staff_sign_in"  # the sign-in form's CSRF token (double submit: no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_REPLY_CHARS = 2000
MAX_BODY_BYTES = 64 * 1024
# Routes reachable without a session; everything else needs one (checked in `guard`).
PUBLIC = {"sign_in", "sign_in_post", "static", "api_reply", "api_hand_back"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
NOTICES = {
    "sent": "Your reply was sent.",
    "handed_back": "The conversation is back with the assistant. It told the patient.",
    "closed": "The conversation was closed and handed back to the assistant.",
    "not_waiting": "This conversation is not waiting for a person.",
    "signed_out": "You are signed out.",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DB = web.AppKey("db", sa.engine.Engine)
RASA = web.AppKey("rasa", RasaAPI)
API_SECRET = web.AppKey("api_secret", str)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# {"stored": True} once Rasa's events table exists (it is created with the first conversation).
STATE = web.AppKey("state", dict)


# ---- rendering -------------------------------------------------------------

def _clock(zone: datetime.tzinfo, at: Optional[float]) -> Text:
    """A time as staff read it: the clinic's time, with the date unless it is today."""
    if not at:
        return ""
    when = datetime.datetime.fromtimestamp(at, zone)
    return when.strftime("%H:%M" if when.date() == datetime.datetime.now(zone).date() else "%Y-%m-%d %H:%M")


def _duration(seconds: float) -> Text:
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    # Every conversation text a page shows is masked once more (privacy/masking.py): staff
    # replies too, and anything stored before the masking covered it.
    environment.filters["masked"] = mask
    library = load_library()
    zone = library.hours.timezone  # times in the clinic's zone (content/clinic.yml), wherever the server runs
    # Staff read the default language's names for signs, whatever the patient's language.
    signs = {sign.id: sign for sign in library.content(None).red_flags.signs}
    environment.globals.update(
        clock=functools.partial(_clock, zone), duration=_duration, now=time.time,
        stamp=lambda at: datetime.datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M:%S"),
        sign_name=lambda sign_id: signs[sign_id].name if sign_id in signs else sign_id,
        sign_level=lambda sign_id: signs[sign_id].level if sign_id in signs else "",
        language_name=lambda code: library.languages.languages[code].name
        if code in library.languages.languages else (code or "not known yet"),
        quote=lambda text: quote(text, safe=""),
    )
    return environment


def render(request: web.Request, name: Text, status: int = 200, **values: Any) -> web.Response:
    session = request.get("session")
    html = request.app[TEMPLATES].get_template(name).render(
        session=session, csrf=session.csrf_token if session else "", path=request.path, **values)
    return web.Response(text=html, status=status, content_type="text/html")


def fragment(request: web.Request, name: Text, **values: Any) -> Text:
    return request.app[TEMPLATES].get_template(name).render(csrf=request["session"].csrf_token, **values)


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/live/") or "application/json" in request.headers.get("Accept", "")


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Database calls and password hashing run off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


def secure(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(request: web.Request, response: web.StreamResponse, name: Text, value: Text, max_age: int,
               path: Text = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict",
                        secure=secure(request))


def client_address(request: web.Request) -> Text:
    """The client's address; behind a proxy in TRUSTED_PROXIES, the one it forwards (as the channels read it)."""
    peer = request.remote or "unknown"
    return limiter().client_address(peer, request.headers.get("X-Forwarded-For")) or peer


# ---- middlewares -----------------------------------------------------------

@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; a polite page, never a traceback, on a failure."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:  # a redirect
            error.headers.update(SECURITY_HEADERS)
            raise
        if wants_json(request):
            response = web.json_response({"error": error.reason}, status=error.status)
        else:
            response = render(request, "error.html", status=error.status, message=error.reason)
    except Exception:
        logger.exception("The staff console failed on %s %s", request.method, request.path)
        message = "Something went wrong on our side. Nothing was sent. Please try again."
        response = (web.json_response({"error": message}, status=500) if wants_json(request)
                    else render(request, "error.html", status=500, message=message))
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"  # patients' conversations stay out of caches
    return response


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A signed-in session for every route not in PUBLIC, and its CSRF token on every change."""
    route = request.match_info.route
    if route.name in PUBLIC:
        return await handler(request)
    touch = not request.path.startswith("/live/")  # live updates are not activity
    session = await in_thread(auth.find_session, request.app[DB], request.cookies.get(SESSION_COOKIE), touch)
    if session is None:
        if wants_json(request):
            return web.json_response({"error": "sign in first"}, status=401)
        target = request.path_qs if request.method in SAFE_METHODS else "/"
        raise web.HTTPSeeOther("/sign-in?" + urlencode({"next": target}))
    request["session"] = session
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.post()).get(CSRF_FIELD)
        if not auth.tokens_match(session.csrf_token, given if isinstance(given, str) else None):
            message = "This form has expired or did not come from the console. Reload the page and try again."
            if wants_json(request):
                return web.json_response({"error": message}, status=403)
            return render(request, "error.html", status=403, message=message)
    return await handler(request)


# ---- signing in and out ----------------------------------------------------

def _next(target: Optional[Text]) -> Text:
    """Only a path of this site (no "//host", no "\\host"): no open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


async def sign_in(request: web.Request) -> web.StreamResponse:
    if await in_thread(auth.find_session, request.app[DB], request.cookies.get(SESSION_COOKIE), False):
        raise web.HTTPSeeOther("/")
    return sign_in_form(request, "", notice=NOTICES.get(request.query.get("done", "")))


def sign_in_form(request: web.Request, username: Text, status: int = 200, error: Optional[Text] = None,
                 notice: Optional[Text] = None) -> web.Response:
    # Kept while the browser has one: another tab's (or the favicon's) trip through here must
    # not invalidate a form already shown.
    token = request.cookies.get(SIGN_IN_COOKIE) or auth.new_token()
    response = render(request, "sign_in.html", status=status, sign_in_csrf=token, username=username,
                      next=_next(request.query.get("next")), error=error, notice=notice)
    set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600, path="/sign-in")
    return response


async def sign_in_post(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = str(form.get("username", ""))[:100].strip(), str(form.get("password", ""))
    expected, given = request.cookies.get(SIGN_IN_COOKIE), form.get(CSRF_FIELD)
    if not expected or not auth.tokens_match(expected, given if isinstance(given, str) else None):
        return sign_in_form(request, username, 403, "The sign-in form had expired. Please try again.")
    db, address = request.app[DB], client_address(request)
    wait = await in_thread(auth.wait_before_sign_in, db, username.lower(), address)
    if wait:
        response = sign_in_form(request, username, 429, f"Too many failed sign-ins. Please wait {_duration(wait)} "
                                                        f"({wait} seconds), then try again.")
        response.headers["Retry-After"] = str(wait)
        return response
    signed_in = await in_thread(accounts.verify, db, username, password) if username and password else None
    if signed_in is None:
        await in_thread(auth.record, db, username.lower() or "(blank)", "sign_in_failed", None, address)
        return sign_in_form(request, username, 401, "Wrong username or password.")
    session_id = await in_thread(auth.start_session, db, signed_in)
    await in_thread(auth.record, db, signed_in, "sign_in", None, address)
    redirect = web.HTTPSeeOther(_next(str(form.get("next", ""))))
    set_cookie(request, redirect, SESSION_COOKIE, session_id, max_age=auth.MAX_AGE_SECONDS)
    redirect.del_cookie(SIGN_IN_COOKIE, path="/sign-in")
    raise redirect


async def sign_out(request: web.Request) -> web.StreamResponse:
    db = request.app[DB]
    await in_thread(auth.end_session, db, request.cookies[SESSION_COOKIE])
    await in_thread(auth.record, db, request["session"].username, "sign_out", None, client_address(request))
    redirect = web.HTTPSeeOther("/sign-in?done=signed_out")
    redirect.del_cookie(SESSION_COOKIE, path="/")
    raise redirect


# ---- the queue -------------------------------------------------------------

def prepare(db: sa.engine.Engine) -> bool:
    """The staff tables, and the indexes the queue's and the insights' queries use
    (staff/insights.py) once Rasa's table exists; True then."""
    if not store.prepare(db):
        return False
    insights.ensure_indexes(db)
    return True


async def _stored(request: web.Request) -> bool:
    """True once Rasa has stored a conversation (its events table exists)."""
    state = request.app[STATE]
    if not state["stored"]:
        state["stored"] = await in_thread(prepare, request.app[DB])
    return state["stored"]


async def _lists(request: web.Request) -> Dict[Text, List[conversations.Conversation]]:
    db = request.app[DB]
    if not await _stored(request):
        return {"waiting": [], "handed_back": []}  # nothing stored yet
    return {"waiting": await in_thread(conversations.queue, db),
            "handed_back": await in_thread(conversations.handed_back, db)}


async def queue_page(request: web.Request) -> web.StreamResponse:
    lists = await _lists(request)
    # Rendered (and masked) off the event loop too: a long queue takes a moment.
    return await in_thread(functools.partial(render, request, "queue.html",
                                             notice=NOTICES.get(request.query.get("done", "")), **lists))


async def queue_live(request: web.Request) -> web.StreamResponse:
    lists = await _lists(request)
    html = await in_thread(functools.partial(fragment, request, "_queue.html", **lists))
    return web.json_response({"waiting": len(lists["waiting"]), "html": html})


# ---- a conversation --------------------------------------------------------

async def _conversation(request: web.Request) -> conversations.Conversation:
    conversation_id = request.match_info["conversation_id"]
    db = request.app[DB]
    found = await in_thread(conversations.load, db, conversation_id) if await _stored(request) else None
    if found is None:
        raise web.HTTPNotFound(reason="There is no conversation with this id.")
    return found


def _done(request: web.Request, conversation: conversations.Conversation, done: Text) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"status": done, "notice": NOTICES[done]})
    raise web.HTTPSeeOther(f"/conversations/{quote(conversation.id, safe='')}?done={done}")


def _failed(request: web.Request, conversation: conversations.Conversation, what: Text, error: RasaError,
            text: Text = "") -> web.StreamResponse:
    message = f"{what}: {error}. Please try again in a moment."
    if wants_json(request):
        return web.json_response({"error": message}, status=502)
    return render(request, "conversation.html", status=502, conversation=conversation, error=message, notice=None,
                  draft=text)


async def conversation_page(request: web.Request) -> web.StreamResponse:
    conversation = await _conversation(request)
    await in_thread(auth.record_open, request.app[DB], request["session"].username, conversation.id)
    return render(request, "conversation.html", conversation=conversation,
                  notice=NOTICES.get(request.query.get("done", "")), error=None, draft="")


async def conversation_live(request: web.Request) -> web.StreamResponse:
    conversation = await _conversation(request)
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise web.HTTPBadRequest(reason="'after' must be an event number.")
    items = [item for item in conversation.items if item.event_id > after]
    return web.json_response({
        "last": conversation.last_event_id, "waiting": conversation.waiting,
        "html": fragment(request, "_items.html", items=items),
        "details": fragment(request, "_details.html", conversation=conversation),
        "status": fragment(request, "_status.html", conversation=conversation),
    })


async def _text(request: web.Request) -> Text:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(reason="The body must be JSON.")
        text = body.get("text") if isinstance(body, dict) else None
    else:
        text = (await request.post()).get("text")
    if not isinstance(text, str) or not text.strip():
        raise web.HTTPBadRequest(reason="Write a reply first.")
    if len(text) > MAX_REPLY_CHARS:
        raise web.HTTPBadRequest(reason=f"A reply can have at most {MAX_REPLY_CHARS} characters.")
    return text.strip()


async def reply(request: web.Request) -> web.StreamResponse:
    conversation = await _conversation(request)
    text, session = await _text(request), request["session"]
    try:
        await request.app[RASA].reply(conversation.id, text, session.username, session.display_name)
    except RasaError as error:
        return _failed(request, conversation, "Your reply was not sent", error, text)
    await in_thread(auth.record, request.app[DB], session.username, "reply", conversation.id)
    return _done(request, conversation, "sent")


async def hand_back(request: web.Request) -> web.StreamResponse:
    conversation = await _conversation(request)
    if not conversation.waiting:
        return _done(request, conversation, "not_waiting")
    try:
        await request.app[RASA].hand_back(conversation.id)
    except RasaError as error:
        return _failed(request, conversation, "Handing back did not finish", error)
    await in_thread(auth.record, request.app[DB], request["session"].username, "hand_back", conversation.id)
    return _done(request, conversation, "handed_back")


def _close(db: sa.engine.Engine, conversation_id: Text, username: Text) -> None:
    with db.begin() as connection:
        connection.execute(store.closed.delete().where(store.closed.c.conversation_id == conversation_id))
        connection.execute(store.closed.insert().values(conversation_id=conversation_id, closed_at=time.time(),
                                                        closed_by=username))


async def close(request: web.Request) -> web.StreamResponse:
    """Hands back first (a returning patient never meets a silent chat), then leaves every list."""
    conversation, username = await _conversation(request), request["session"].username
    if conversation.waiting:
        try:
            await request.app[RASA].hand_back(conversation.id)
        except RasaError as error:
            return _failed(request, conversation, "Closing did not finish", error)
    db = request.app[DB]
    await in_thread(_close, db, conversation.id, username)
    await in_thread(auth.record, db, username, "close", conversation.id)
    if wants_json(request):
        return web.json_response({"status": "closed", "notice": NOTICES["closed"]})
    raise web.HTTPSeeOther("/?done=closed")


# ---- audit log and insights ------------------------------------------------

async def audit_page(request: web.Request) -> web.StreamResponse:
    conversation_id = request.query.get("conversation") or None
    rows = await in_thread(auth.audit_rows, request.app[DB], 500, conversation_id)
    return render(request, "audit.html", rows=rows, conversation_id=conversation_id)


async def insights_page(request: web.Request) -> web.StreamResponse:
    """The insights report (staff/report.py) for the last `days` days (default 30; 0: all)."""
    days_text = request.query.get("days", "30")
    if not days_text.isdigit() or int(days_text) > 3660:
        raise web.HTTPBadRequest(reason="'days' must be a number of days, 0 for all.")
    days = int(days_text)
    timezone = report.clinic_timezone()
    since, until = report.period(None, days or None, datetime.datetime.now(ZoneInfo(timezone)).date())
    await _stored(request)
    found = await in_thread(insights.build, request.app[DB], since, until, timezone)
    html = await in_thread(report.render_html, found)
    return render(request, "insights.html", days=days, report=Markup(html))


# ---- the signed staff API --------------------------------------------------

class APIRefusal(Exception):
    def __init__(self, status: int, error: Text) -> None:
        super().__init__(error)
        self.status, self.error = status, error


def _remember_signature(db: sa.engine.Engine, signature: Text) -> bool:
    """False if this signed request was accepted before (a replay)."""
    now = time.time()
    try:
        with db.begin() as connection:
            # Older ones are refused as stale anyway.
            connection.execute(store.api_requests.delete().where(store.api_requests.c.at < now - 2 * MAX_AGE_SECONDS))
            connection.execute(store.api_requests.insert().values(signature=signature, at=now))
    except sa.exc.IntegrityError:
        return False
    return True


async def _signed_body(request: web.Request) -> Dict[Text, Any]:
    """The checked JSON body of a signed API request, or an APIRefusal."""
    secret = request.app[API_SECRET]
    if not secret:
        raise APIRefusal(404, "the staff API is off: set STAFF_API_SECRET to turn it on")
    body = await request.read()
    signature, timestamp = request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
    if not signature_ok([secret], timestamp, body, signature):
        raise APIRefusal(401, f"missing or wrong {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    if not fresh(timestamp, time.time()):
        raise APIRefusal(401, f"{TIMESTAMP_HEADER} is more than {MAX_AGE_SECONDS} seconds from the server's time")
    if not await in_thread(_remember_signature, request.app[DB], signature.strip().lower()):
        raise APIRefusal(409, "this request was already received")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise APIRefusal(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise APIRefusal(400, "the body must be a JSON object")
    return data


async def _api_conversation(request: web.Request) -> conversations.Conversation:
    try:
        return await _conversation(request)
    except web.HTTPNotFound:
        raise APIRefusal(404, "there is no conversation with this id") from None


def api_handler(action: Callable[[web.Request, Dict[Text, Any]], Awaitable[Dict[Text, Any]]]) -> Handler:
    @functools.wraps(action)
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            return web.json_response(await action(request, await _signed_body(request)))
        except APIRefusal as refusal:
            return web.json_response({"error": refusal.error}, status=refusal.status)
        except RasaError as error:
            return web.json_response({"error": str(error)}, status=502)
    return handler


@api_handler
async def api_reply(request: web.Request, data: Dict[Text, Any]) -> Dict[Text, Any]:
    text, staff = data.get("text"), data.get("staff")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
        raise APIRefusal(400, f"'text' must be a non-empty string of at most {MAX_REPLY_CHARS} characters")
    if not isinstance(staff, str) or not staff.strip() or len(staff) > 100:
        raise APIRefusal(400, "'staff' must be the name of who answers: a non-empty string of at most 100 characters")
    conversation = await _api_conversation(request)
    await request.app[RASA].reply(conversation.id, text.strip(), staff.strip(), staff.strip())
    await in_thread(auth.record, request.app[DB], auth.SYSTEM_ACTOR, "reply", conversation.id, f"staff: {staff.strip()}")
    return {"status": "sent"}


@api_handler
async def api_hand_back(request: web.Request, data: Dict[Text, Any]) -> Dict[Text, Any]:
    conversation = await _api_conversation(request)
    if not conversation.waiting:
        raise APIRefusal(409, "this conversation is not waiting for a person")
    await request.app[RASA].hand_back(conversation.id)
    await in_thread(auth.record, request.app[DB], auth.SYSTEM_ACTOR, "hand_back", conversation.id)
    return {"status": "handed back"}


# ---- the app ---------------------------------------------------------------

def make_app(db: sa.engine.Engine, rasa: RasaAPI, api_secret: Optional[Text] = None) -> web.Application:
    app = web.Application(middlewares=[errors, guard], client_max_size=MAX_BODY_BYTES)
    app[DB], app[RASA], app[API_SECRET], app[TEMPLATES] = db, rasa, api_secret or "", templates()
    app[STATE] = {"stored": prepare(db)}
    conversation = "/conversations/{conversation_id}"
    app.add_routes([
        web.get("/sign-in", sign_in, name="sign_in"),
        web.post("/sign-in", sign_in_post, name="sign_in_post"),
        web.post("/sign-out", sign_out, name="sign_out"),
        web.get("/", queue_page, name="queue"),
        web.get("/live/queue", queue_live, name="queue_live"),
        web.get(conversation, conversation_page, name="conversation"),
        web.get("/live" + conversation, conversation_live, name="conversation_live"),
        web.post(conversation + "/reply", reply, name="reply"),
        web.post(conversation + "/hand-back", hand_back, name="hand_back"),
        web.post(conversation + "/close", close, name="close"),
        web.get("/audit", audit_page, name="audit"),
        web.get("/insights", insights_page, name="insights"),
        web.post("/api" + conversation + "/reply", api_reply, name="api_reply"),
        web.post("/api" + conversation + "/hand-back", api_hand_back, name="api_hand_back"),
        web.static("/static", HERE / "static", name="static"),
    ])
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = os.environ.get("RASA_AUTH_TOKEN")
    if not token:
        sys.exit("The staff console needs RASA_AUTH_TOKEN (the Rasa server's --auth-token) to send replies and "
                 "hand conversations back. `make run` sets one.")
    host, port = os.environ.get("STAFF_HOST", "127.0.0.1"), int(os.environ.get("STAFF_PORT", "8090"))
    rasa_url = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
    try:
        db = store.engine()
        app = make_app(db, RasaAPI(rasa_url, token), os.environ.get("STAFF_API_SECRET"))
        people = accounts.count(db)
    except (ValueError, OSError, sa.exc.SQLAlchemyError) as error:
        sys.exit(f"The staff console cannot use its database ({type(error).__name__}: {str(error).splitlines()[0]}). "
                 "Check STAFF_ENDPOINTS.")
    print(f"Staff console: http://{host}:{port}/ (talks to the assistant at {rasa_url}; "
          f"staff API {'on' if app[API_SECRET] else 'off'})", flush=True)
    if not people:
        print("  No staff account yet: create one with `make staff-user` "
              "(add STAFF_ENDPOINTS=endpoints.prod.yml for the clinic profile).", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
