"""A hand-off end to end against the real servers: a patient asks for a nurse
over REST, SMS (Twilio's cloud recorded by fake_messaging_apis.py) or the clinic
connector (a local callback receiver); the conversation waits in the console's
queue; a member of staff opens it and replies; the reply is stored as the
staff's and reaches the patient on their channel; staff hand back and the
assistant answers the next question. Also: the queue's order, closing, the
audit log, live updates, and the signed staff API (good, forged, replayed)."""
import html
import json
import re
import time
import uuid
from typing import Any, Dict, List

import requests

from connectors.clinic import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from content_model import load_library
from staff import auth
from tests.channels.test_sms import inbound, new_phone, post, sms_to
from tests.e2e.conftest import free_port, stop
from tests.staff.conftest import API_SECRET, STAFF_NAME, STAFF_USER, Staff, queue_row, start_console, wait_for, waiting_ids

LIBRARY = load_library()
EN, ZH = LIBRARY.content("en"), LIBRARY.content("zh")
ASK_FOR_NURSE = "can I talk to a nurse please"


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [message.get("text") or "" for message in messages]


def staff_events(stack, sender: str) -> List[Dict[str, Any]]:
    return [event for event in stack.events(sender)
            if event["event"] == "bot" and (event.get("metadata") or {}).get("staff")]


def audit(stack, sender: str) -> List[tuple]:
    return [(row.actor, row.action) for row in reversed(auth.audit_rows(stack.database(), 500, sender))]


def ask_for_a_person_over_rest(stack, sender: str, first: str = "could it be cancer?") -> List[Dict[str, Any]]:
    stack.rest(sender, first)
    reply = stack.rest(sender, ASK_FOR_NURSE)
    assert {"handoff": "requested"} in [message.get("custom") for message in reply], reply
    return reply


def test_rest_patient_is_answered_by_staff_then_by_the_assistant_again(stack, staff):
    sender = new_id("rest")
    ask_for_a_person_over_rest(stack, sender)
    # While waiting, the assistant stays quiet; what the patient writes is stored (masked).
    assert stack.rest(sender, "are you there? call me on 07700 900123") == []
    queue = wait_for(lambda: (lambda q: q if sender in waiting_ids(q["html"]) else None)(staff.queue()),
                     what="the conversation in the queue")
    row = queue_row(queue["html"], sender)
    assert "Needs a reply" in row and "[phone]" in row and "07700" not in row and "English" in row

    page = staff.get(staff.url(f"/conversations/{sender}"), timeout=30)
    assert page.status_code == 200
    assert "could it be cancer?" in page.text and ASK_FOR_NURSE in page.text
    assert "[phone]" in page.text and "900123" not in page.text
    assert "Waiting for a person since" in page.text

    reply_text = f"Hello, this is the clinic team ({uuid.uuid4().hex[:6]}). Your scan report looks routine."
    sent = staff.action(f"/conversations/{sender}/reply", text=reply_text)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("?done=sent")
    stored = staff_events(stack, sender)
    assert [event["text"] for event in stored] == [reply_text]
    assert stored[0]["metadata"]["staff"] == STAFF_USER
    assert stored[0]["data"]["custom"] == {"from": "staff", "name": STAFF_NAME}
    assert stack.events(sender)[-1]["event"] == "bot"  # stored, the assistant did not add anything

    # REST cannot push: the reply comes with the patient's next request.
    assert reply_text in texts(stack.rest(sender, "thank you"))

    handed = staff.action(f"/conversations/{sender}/hand-back")
    assert handed.status_code == 303 and handed.headers["Location"].endswith("?done=handed_back")
    events = stack.events(sender)
    assert [event["event"] for event in events].count("resume") == 1
    assert sender not in waiting_ids(staff.queue()["html"])
    assert sender in staff.queue()["html"]  # in the "handed back" list

    answer = texts(stack.rest(sender, "how often should I get scanned?"))
    assert answer[0] == EN.clinic["handed_back"]  # said when staff handed back, delivered now
    assert EN.topics["rescan_interval"].short_answer in answer
    assert audit(stack, sender) == [(STAFF_USER, "open"), (STAFF_USER, "reply"), (STAFF_USER, "hand_back")]


def test_sms_patient_gets_the_staff_reply_and_the_hand_back_by_sms(stack, staff):
    phone = new_phone()
    assert post(stack.assistant, inbound(phone, ASK_FOR_NURSE)).status_code == 204
    wait_for(lambda: phone in waiting_ids(staff.queue()["html"]), what="the SMS patient in the queue")
    before = len(sms_to(stack.assistant, phone))
    reply_text = "This is Nurse Lee. Please bring your scan report to your next visit."
    assert staff.action(f"/conversations/{requests.utils.quote(phone, safe='')}/reply", text=reply_text).status_code == 303
    body = wait_for(lambda: sms_to(stack.assistant, phone)[before:], what="the staff SMS")[0]
    assert body.endswith(reply_text) and STAFF_NAME in body
    assert staff_events(stack, phone)[0]["metadata"]["staff"] == STAFF_USER
    assert staff.action(f"/conversations/{requests.utils.quote(phone, safe='')}/hand-back").status_code == 303
    assert wait_for(lambda: sms_to(stack.assistant, phone)[before + 1:], what="the hand-back SMS") == \
        [EN.clinic["handed_back"]]


def test_clinic_connector_patient_gets_the_staff_reply_at_the_callback(stack, staff):
    sender = new_id("clinic")
    waiting = stack.assistant.say(sender, ASK_FOR_NURSE)
    assert {"handoff": "requested"} in [message.get("custom") for message in waiting["messages"]]
    wait_for(lambda: sender in waiting_ids(staff.queue()["html"]), what="the clinic patient in the queue")
    reply_text = "The clinic team here: we will call you this afternoon."
    assert staff.action(f"/conversations/{sender}/reply", text=reply_text).status_code == 303
    delivered = stack.assistant.callbacks.wait_for(sender)
    assert delivered["in_reply_to"] is None and delivered["language"] == "en"
    assert reply_text in texts(delivered["messages"])
    assert {"from": "staff", "name": STAFF_NAME} in [message.get("custom") for message in delivered["messages"]]


def test_red_flags_come_first_then_the_longest_waiting(stack, staff):
    calm, earlier, flagged = new_id("calm"), new_id("earlier"), new_id("flag")
    ask_for_a_person_over_rest(stack, earlier)
    ask_for_a_person_over_rest(stack, calm)
    ask_for_a_person_over_rest(stack, flagged, first="my eyes have gone yellow")
    order = [sender for sender in waiting_ids(staff.queue()["html"]) if sender in (calm, earlier, flagged)]
    assert order == [flagged, earlier, calm]
    row = queue_row(staff.queue()["html"], flagged)
    assert "Warning: yellow skin or eyes" in row
    # A warning sign given while waiting is answered at once and moves the conversation up,
    # before the other one with a warning sign, which has waited less.
    warned = texts(stack.rest(calm, "now I am vomiting blood"))
    assert any("vomiting blood" in text for text in warned)
    order = [sender for sender in waiting_ids(staff.queue()["html"]) if sender in (calm, earlier, flagged)]
    assert order == [calm, flagged, earlier]


def test_close_hands_back_and_leaves_every_list(stack, staff):
    sender = new_id("close")
    ask_for_a_person_over_rest(stack, sender)
    wait_for(lambda: sender in waiting_ids(staff.queue()["html"]), what="the conversation in the queue")
    closed = staff.action(f"/conversations/{sender}/close")
    assert closed.status_code == 303 and closed.headers["Location"] == "/?done=closed"
    assert sender not in staff.queue()["html"]
    events = [event["event"] for event in stack.events(sender)]
    assert events.index("resume") > events.index("pause")
    assert texts(stack.rest(sender, "is it dangerous?"))[0] == EN.clinic["handed_back"]
    assert audit(stack, sender)[-1] == (STAFF_USER, "close")
    # Asking for a person again puts it back in the queue.
    stack.rest(sender, ASK_FOR_NURSE)
    assert sender in waiting_ids(staff.queue()["html"])


def test_chinese_patient_is_handed_back_in_chinese(stack, staff):
    sender = new_id("zh")
    stack.rest(sender, "肝上有个钙化点，要紧吗")
    stack.rest(sender, "我想和护士说话")
    row = queue_row(staff.queue()["html"], sender)
    assert "中文" in row
    assert staff.action(f"/conversations/{sender}/hand-back").status_code == 303
    assert texts(stack.rest(sender, "多久复查一次？"))[0] == ZH.clinic["handed_back"]


def test_new_messages_and_new_patients_appear_while_the_pages_are_open(stack, staff):
    sender = new_id("live")
    ask_for_a_person_over_rest(stack, sender)
    page = staff.get(staff.url(f"/conversations/{sender}"), timeout=30).text
    last = int(re.search(r'data-last="(\d+)"', page).group(1))
    nothing = staff.get(staff.url(f"/live/conversations/{sender}?after={last}"), timeout=30).json()
    assert nothing["waiting"] and "<li" not in nothing["html"] and nothing["last"] == last
    stack.rest(sender, "I have one more question about my scan")
    update = staff.get(staff.url(f"/live/conversations/{sender}?after={last}"), timeout=30).json()
    assert "I have one more question about my scan" in update["html"] and update["last"] > last
    assert "Waiting for a person since" in update["status"]
    # A new patient shows up in the queue's live JSON.
    newcomer = new_id("new")
    count = staff.queue()["waiting"]
    ask_for_a_person_over_rest(stack, newcomer)
    queue = staff.queue()
    assert newcomer in waiting_ids(queue["html"]) and queue["waiting"] == count + 1


def test_the_audit_page_lists_who_did_what(stack, staff):
    sender = new_id("audit")
    ask_for_a_person_over_rest(stack, sender)
    staff.get(staff.url(f"/conversations/{sender}"), timeout=30)
    staff.action(f"/conversations/{sender}/reply", text="We are looking at your question now.")
    page = staff.get(staff.url(f"/audit?conversation={sender}"), timeout=30).text
    rows = re.findall(r"<tr>\s*<td>[^<]+</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", page)
    assert rows == [(STAFF_USER, "reply"), (STAFF_USER, "open")]
    assert "sign in" in staff.get(staff.url("/audit"), timeout=30).text


# ---- the signed staff API ----------------------------------------------------

def signed_post(console: str, path: str, payload: Any, secret: str = API_SECRET, timestamp: str = "") -> requests.Response:
    """POSTs `payload` (JSON, or bytes as they are) signed as a clinic's system signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = timestamp or str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: sign(secret, timestamp, body)}
    return requests.post(console + path, data=body, headers=headers, timeout=60)


def test_signed_api_replies_and_hands_back(stack):
    sender = new_id("api")
    ask_for_a_person_over_rest(stack, sender)
    path = f"/api/conversations/{sender}"
    reply = {"text": "Your own system's reply: the doctor will see you on Monday.", "staff": "Dr Rivera"}
    body = json.dumps(reply).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: sign(API_SECRET, timestamp, body)}
    good = requests.post(f"{stack.console}{path}/reply", data=body, headers=headers, timeout=60)
    assert good.status_code == 200 and good.json() == {"status": "sent"}
    assert [(event["text"], event["metadata"]["staff"]) for event in staff_events(stack, sender)] == \
        [(reply["text"], "Dr Rivera")]
    # The same request again (a replay) is refused and stores nothing.
    again = requests.post(f"{stack.console}{path}/reply", data=body, headers=headers, timeout=60)
    assert again.status_code == 409 and "already received" in again.json()["error"]
    # Forged (another secret), tampered, stale or unsigned: refused, nothing stored.
    assert signed_post(stack.console, f"{path}/reply", reply, secret="not-the-secret").status_code == 401
    tampered = requests.post(f"{stack.console}{path}/reply", data=body.replace(b"Monday", b"Friday"),
                             headers=headers, timeout=60)
    assert tampered.status_code == 401
    stale = signed_post(stack.console, f"{path}/reply", reply, timestamp=str(int(time.time()) - 3600))
    assert stale.status_code == 401 and "seconds from the server's time" in stale.json()["error"]
    assert requests.post(f"{stack.console}{path}/reply", json=reply, timeout=60).status_code == 401
    assert len(staff_events(stack, sender)) == 1
    # Bad bodies and unknown conversations get a clear answer.
    assert signed_post(stack.console, f"{path}/reply", b"not json").json()["error"] == "the body is not valid JSON"
    assert "'staff'" in signed_post(stack.console, f"{path}/reply", {"text": "hi"}).json()["error"]
    missing = signed_post(stack.console, "/api/conversations/nobody-at-all/reply", dict(reply, text="Hello?"))
    assert missing.status_code == 404 and "no conversation" in missing.json()["error"]

    assert reply["text"] in texts(stack.rest(sender, "ok thanks"))
    handed = signed_post(stack.console, f"{path}/hand-back", {})
    assert handed.status_code == 200 and handed.json() == {"status": "handed back"}
    assert signed_post(stack.console, f"{path}/hand-back", {}).status_code == 409  # not waiting any more
    assert texts(stack.rest(sender, "is it dangerous?"))[0] == EN.clinic["handed_back"]
    assert audit(stack, sender) == [(auth.SYSTEM_ACTOR, "reply"), (auth.SYSTEM_ACTOR, "hand_back")]
    assert "staff: Dr Rivera" in [row.detail for row in auth.audit_rows(stack.database(), 50, sender)]


def test_without_the_assistant_or_an_api_secret(stack, staff):
    """A console whose Rasa server does not answer says so and keeps the draft; without
    STAFF_API_SECRET the signed API is off."""
    sender = new_id("down")
    ask_for_a_person_over_rest(stack, sender)
    port = free_port()
    console = start_console(stack.workdir, stack.endpoints, f"http://127.0.0.1:{free_port()}", port, None,
                            name="no-rasa")
    try:
        other = Staff(f"http://127.0.0.1:{port}")
        assert other.sign_in().status_code == 303
        draft = "A reply that cannot be sent right now."
        reply = other.action(f"/conversations/{sender}/reply", text=draft)
        assert reply.status_code == 502
        page = html.unescape(reply.text)
        assert "Your reply was not sent: the assistant's server did not answer" in page and draft in page
        assert other.action(f"/conversations/{sender}/hand-back").status_code == 502
        assert staff_events(stack, sender) == [] and sender in waiting_ids(other.queue()["html"])
        off = signed_post(other.console, f"/api/conversations/{sender}/reply", {"text": "hi", "staff": "x"})
        assert off.status_code == 404 and "STAFF_API_SECRET" in off.json()["error"]
    finally:
        stop(console)


def test_the_insights_page_shows_the_report_of_the_store(stack, staff):
    sender = new_id("insights")
    ask_for_a_person_over_rest(stack, sender, first="my eyes went yellow")
    page = staff.get(staff.url("/insights?days=7"), timeout=120)
    assert page.status_code == 200
    report = page.text.split('<section class="insights">')[1]
    assert "Yellow skin or eyes" in report and 'src="data:image/png;base64,' in report
    assert '<option value="7" selected>' in page.text
    bad = staff.get(staff.url("/insights?days=soon"), timeout=30)
    assert bad.status_code == 400 and "'days' must be a number of days" in html.unescape(bad.text)
