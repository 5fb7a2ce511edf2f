"""Two pages in headless Chromium against the real servers: a patient in the
chat widget asks for a nurse; a member of staff signs in to the console, sees
the conversation in the queue, opens it and replies; the patient sees the
reply; staff hand back and the assistant answers the patient's next question.
Screenshots: results/staff-queue.png, results/staff-console.png,
results/staff-patient.png."""
import pytest
from playwright.sync_api import expect

from content_model import load_library
from tests.browser.chat import RESULTS, WAIT, ask, axe_violations, bot_texts, browser, needs_chromium, \
    open_chat, say
from tests.staff.conftest import STAFF_NAME, STAFF_PASSWORD, STAFF_USER

pytestmark = needs_chromium
EN = load_library().content("en")


def new_page(browser, url: str):
    # bypass_csp: the audit injects axe-core as an inline script, which the console's CSP refuses.
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.set_default_timeout(WAIT)
    page.goto(url)
    return page


def test_staff_answer_a_widget_patient_then_hand_back(stack, browser, capsys):
    RESULTS.mkdir(exist_ok=True)
    # Staff sign in first (by keyboard) and keep the queue open.
    staff = new_page(browser, f"{stack.console}/")
    expect(staff).to_have_url(f"{stack.console}/sign-in?next=/")
    staff.get_by_label("Username").fill(STAFF_USER)
    staff.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.get_by_label("Password").press("Enter")
    expect(staff.get_by_role("heading", name="Patients waiting for a person")).to_be_visible()
    staff.evaluate("window.notReloaded = true")

    patient = new_page(browser, f"{stack.demo}/")
    open_chat(patient)
    ask(patient, "is it dangerous?")
    say(patient, "can I talk to a nurse please")
    waiting_text = patient.locator(".lc-bot .lc-text").last.inner_text()
    conversation_id = patient.evaluate(
        "() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('liver-chat:')))).sessionId")
    assert conversation_id

    # The request shows up in the open queue without a reload.
    link = staff.get_by_role("link", name=conversation_id)
    link.wait_for()
    assert staff.evaluate("window.notReloaded === true")
    expect(staff.locator("tr", has=link)).to_contain_text("can I talk to a nurse please")
    staff.screenshot(path=RESULTS / "staff-queue.png", full_page=True)
    assert axe_violations(staff, "staff queue", capsys) == []

    link.click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(conversation_id)
    history = staff.locator("#history")
    expect(history).to_contain_text("is it dangerous?")
    expect(history).to_contain_text("(sent by the chat window: greet)")  # the widget's opening, not raw JSON
    expect(history).to_contain_text(waiting_text)
    # The patient writes while the page is open: it appears without a reload.
    staff.evaluate("window.notReloaded = true")
    box = patient.get_by_label("Your question")
    box.fill("I am still here")
    box.press("Enter")
    expect(history.locator(".item.patient").last).to_contain_text("I am still here")
    assert staff.evaluate("window.notReloaded === true")

    reply = "Hello, this is Nurse Lee from the clinic. Your spot sounds like an old, healed scar."
    staff.get_by_label("Your reply to the patient (English)").fill(reply)
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.locator("#reply-feedback")).to_have_text("Your reply was sent.")
    expect(history.locator(".item.staff").last).to_contain_text(reply)
    expect(history.locator(".item.staff").last).to_contain_text(f"Staff: {STAFF_USER}")
    staff.screenshot(path=RESULTS / "staff-console.png", full_page=True)
    assert axe_violations(staff, "staff conversation", capsys) == []

    # The patient's widget shows the reply, labelled as the clinic team's.
    staff_message = patient.locator(".lc-staff").last
    expect(staff_message).to_contain_text(reply)
    expect(staff_message).to_contain_text(STAFF_NAME)

    staff.get_by_role("button", name="Hand back to the assistant").click()
    expect(staff.get_by_role("status").first).to_contain_text("The conversation is back with the assistant.")
    expect(patient.locator(".lc-bot .lc-text").last).to_have_text(EN.clinic["handed_back"])
    patient.locator(".lc-typing").wait_for(state="hidden")
    patient.screenshot(path=RESULTS / "staff-patient.png")

    ask(patient, "how often should I get scanned?")
    assert EN.topics["rescan_interval"].short_answer in bot_texts(patient)
