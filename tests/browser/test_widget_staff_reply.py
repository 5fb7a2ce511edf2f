"""A staff reply and the hand back reach the widget in headless Chromium,
through Rasa's HTTP API (what the staff console does): the reply is labelled as
the clinic team's (content/<language>/widget.yml), the label is read before its
text, and axe-core finds no serious problem with it. Screenshots go to results/."""
import pytest
import requests
import yaml

from content_model import load_library
from tests.browser.chat import RESULTS, axe_violations, needs_chromium
from tests.e2e.conftest import ROOT, TOKEN

pytestmark = needs_chromium
LIBRARY = load_library()
REPLY = {"en": "Hello, this is Ana, a nurse at the clinic. I have read your questions.",
         "zh": "你好，我是诊所的护士小安。我看过你的问题了。"}


def strings(language: str) -> dict:
    return yaml.safe_load((ROOT / "content" / language / "widget.yml").read_text(encoding="utf-8"))["strings"]


def session_id(page) -> str:
    """The conversation the widget holds (kept in the page's localStorage)."""
    return page.evaluate("""() => {
        const key = Object.keys(localStorage).find((name) => name.startsWith("liver-chat:"));
        return JSON.parse(localStorage.getItem(key)).sessionId;
    }""")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_staff_reply_is_labelled_and_the_hand_back_follows(open_page, chat_servers, language, capsys):
    texts = strings(language)
    page = open_page(f"{chat_servers.demo_url}/?lang={language}")
    page.get_by_role("button", name=texts["open"]).click()
    page.locator(".lc-bot").first.wait_for()
    conversation = f"{chat_servers.rasa_url}/conversations/{session_id(page)}"

    reply = {"event": "bot", "text": REPLY[language], "data": {"custom": {"from": "staff", "name": "Ana"}},
             "metadata": {"staff": "ana"}}
    sent = requests.post(f"{conversation}/tracker/events", json=[reply], timeout=30,
                         params={"token": TOKEN, "output_channel": "latest", "execute_side_effects": "true"})
    assert sent.status_code == 200, sent.text
    staff = page.locator(".lc-staff")
    staff.wait_for()
    assert staff.locator(".lc-staff-label").inner_text() == f"{texts['staff']} · Ana"
    assert staff.locator(".lc-text").inner_text() == REPLY[language]
    # Read as "Clinic team · Ana" then the text: the label comes first in the message.
    assert staff.inner_text().startswith(texts["staff"])
    assert axe_violations(page, f"staff reply ({language})", capsys) == []
    page.screenshot(path=RESULTS / f"webchat-staff-reply-{language}.png")

    assert requests.post(f"{conversation}/tracker/events", json=[{"event": "resume"}], params={"token": TOKEN},
                         timeout=30).ok
    back = requests.post(f"{conversation}/execute", json={"name": "action_hand_back"},
                         params={"token": TOKEN, "output_channel": "latest"}, timeout=30)
    assert back.status_code == 200, back.text
    handed_back = LIBRARY.content(language).clinic["handed_back"]
    page.locator(".lc-bot .lc-text", has_text=handed_back).wait_for()
    assert page.locator(".lc-staff").count() == 1  # the assistant's own message is not labelled

    # Kept across a reload, label included.
    page.reload()
    page.locator(".lc-staff .lc-staff-label").wait_for()
    assert page.locator(".lc-staff .lc-text").inner_text() == REPLY[language]
