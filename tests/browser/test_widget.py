"""A patient uses the chat widget on the demo clinic page, in headless Chromium
driven by Playwright, against the real servers. Screenshots go to results/."""
import subprocess

import yaml
from playwright.sync_api import expect

from content_model import load_library
from tests.browser.chat import CONTENT, RESULTS, ask, bot_texts, needs_chromium, open_chat
from tests.e2e.conftest import ROOT

pytestmark = needs_chromium
RASA_WEBCHAT = ROOT / "webchat" / "node_modules" / "rasa-webchat" / "lib" / "index.js"


def test_patient_asks_clicks_a_suggestion_and_keeps_the_history(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/")
    open_chat(page)

    dangerous = CONTENT.topics["dangerous"]
    ask(page, "is it dangerous?")
    assert dangerous.short_answer in bot_texts(page)
    assert page.locator(".lc-citation .lc-text").last.inner_text() == f"Source: {CONTENT.source_line(dangerous)}"

    # A related question under the source line, clicked.
    suggestion = page.locator(".lc-citation .lc-reply").first
    title = suggestion.inner_text()
    clicked = next(topic for topic in CONTENT.topics.values() if topic.question == title)
    citations = page.locator(".lc-citation").count()
    suggestion.click()
    page.locator(".lc-citation").nth(citations).wait_for()
    assert page.locator(".lc-user .lc-text").last.inner_text() == title
    assert clicked.short_answer in bot_texts(page)

    # A warning sign: the warning text in the alert style.
    warning = CONTENT.red_flags.warning(CONTENT.red_flags.find("my eyes are yellow"))
    page.get_by_label("Your question").fill("my eyes are yellow")
    page.get_by_label("Your question").press("Enter")
    alert = page.locator(".lc-alert")
    alert.wait_for()
    assert alert.locator(".lc-text").inner_text() == warning
    assert alert.locator(".lc-alert-label").inner_text().lower() == "warning"
    assert alert.evaluate("node => getComputedStyle(node).borderLeftWidth") == "8px"
    page.locator(".lc-typing").wait_for(state="hidden")
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / "webchat.png")

    # Reload: the same messages, the warning still styled, and the server still
    # knows the conversation ("tell me more" is about the clicked topic).
    history = page.locator(".lc-msg .lc-text").all_inner_texts()
    page.reload()
    page.locator(".lc-msg").first.wait_for()
    assert page.locator(".lc-msg .lc-text").all_inner_texts() == history
    assert page.locator(".lc-alert .lc-text").inner_text() == warning
    ask(page, "tell me more")
    assert clicked.explanation in bot_texts(page)

    # Keyboard only: from the text field, Shift+Tab reaches the last suggestion,
    # which shows its focus ring, and Enter takes it.
    button = page.locator(".lc-reply").last
    title = button.inner_text()
    users = page.locator(".lc-user").count()
    page.get_by_label("Your question").focus()
    page.keyboard.press("Shift+Tab")
    expect(button).to_be_focused()
    assert button.evaluate("node => getComputedStyle(node).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.locator(".lc-user").nth(users).wait_for()
    assert page.locator(".lc-user .lc-text").last.inner_text() == title


def test_phone_width(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/", 375, 740)
    open_chat(page)
    ask(page, "could it be cancer?")
    panel = page.locator(".lc-panel").bounding_box()
    assert (panel["x"], panel["width"]) == (0, 375)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for box in (page.locator(".lc-msg").nth(i).bounding_box() for i in range(page.locator(".lc-msg").count())):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / "webchat-375.png")


def test_widget_reconnects_after_the_server_restarts(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/")
    open_chat(page)
    ask(page, "what causes it?")
    chat_servers.stop_rasa()
    expect(page.locator(".lc-status")).to_have_text("Connection lost. Reconnecting…")
    chat_servers.start_rasa()
    # socket.io-client retries at least every 5 s; the conversation (kept in
    # SQLite, as in endpoints.yml) goes on where it was.
    ask(page, "tell me more")
    assert CONTENT.topics["causes"].explanation in bot_texts(page)
    expect(page.locator(".lc-status")).to_have_text("")


def test_rasa_webchat_talks_to_the_server(open_page, chat_servers):
    """botfront's rasa-webchat 1.0.1 (npm devDependency), its own bundle, on a test page."""
    assert RASA_WEBCHAT.is_file(), "rasa-webchat is not installed: run `npm ci` in webchat/"
    (chat_servers.pages_dir / "rasa-webchat.js").write_bytes(RASA_WEBCHAT.read_bytes())
    (chat_servers.pages_dir / "rasa-webchat.html").write_text(f"""<!doctype html><html lang="en"><body>
        <script src="rasa-webchat.js"></script>
        <script>WebChat.default({{socketUrl: "{chat_servers.rasa_url}", socketPath: "/socket.io/",
                                   initPayload: "/greet", title: "rasa-webchat", params: {{storage: "session"}}}}, null);
        </script></body></html>""")
    page = open_page(f"{chat_servers.pages_url}/rasa-webchat.html")
    page.locator(".rw-launcher").click()
    page.locator(".rw-response").first.wait_for()
    page.locator(".rw-new-message").fill("is it dangerous?")
    page.locator(".rw-new-message").press("Enter")
    page.get_by_text(CONTENT.topics["dangerous"].short_answer).wait_for()


def test_a_patient_asks_in_chinese_on_a_chinese_page_and_gets_the_chinese_answer_with_its_source(open_page, chat_servers):
    chinese = load_library().content("zh")
    strings = yaml.safe_load((ROOT / "content" / "zh" / "widget.yml").read_text(encoding="utf-8"))["strings"]
    page = open_page(f"{chat_servers.demo_url}/?lang=zh", width=375, height=740)
    page.get_by_role("button", name=strings["open"]).click()
    greeting = page.locator(".lc-bot").first
    greeting.wait_for()
    assert greeting.locator(".lc-text").inner_text().startswith("你好")
    assert page.locator(".lc-root").get_attribute("lang") == "zh"

    ask(page, "肝上有个钙化点，会不会是癌？", label=strings["label"])
    cancer = chinese.topics["cancer"]
    assert cancer.short_answer in bot_texts(page)
    assert page.locator(".lc-citation .lc-text").last.inner_text() == f"来源：{chinese.source_line(cancer)}"
    assert page.locator(".lc-citation .lc-reply").first.inner_text() in [t.question for t in chinese.topics.values()]
    page.screenshot(path=RESULTS / "webchat-zh.png")


def test_the_machine_has_a_chinese_font_for_the_browser():
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no Chinese font: `apt-get install -y fonts-noto-cjk` (.ci/run does)"
