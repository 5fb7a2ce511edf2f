"""What the browser tests share: Chromium (and a `browser` fixture for the test
modules and conftests that import it), the results folder, and a patient's
moves in the widget (ask, open the chat)."""
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from content_model import load_library
from tests.e2e.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Chromium at /usr/bin/chromium: `apt-get install -y chromium` (Debian)",
)
# Without the background-networking flags Chromium keeps calling Google's hosts,
# which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RESULTS = ROOT / "results"
CONTENT = load_library().content("en")
WAIT = 30_000  # ms; the first answer of a fresh server takes a few seconds


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()

AXE = ROOT / "webchat" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def ask(page, text, label="Your question"):
    """Types a question, sees the typing indicator, waits for the answer's source line
    and for the indicator to go when the replies stop."""
    citations = page.locator(".lc-citation").count()
    page.get_by_label(label).fill(text)
    page.get_by_label(label).press("Enter")
    page.locator(".lc-typing").wait_for(state="visible")
    page.locator(".lc-citation").nth(citations).wait_for()
    page.locator(".lc-typing").wait_for(state="hidden")


def say(page, text, label="Your question"):
    """Sends a message that gets no source line (a warning, a check's step) and waits for the replies to stop."""
    replies = page.locator(".lc-bot").count()
    page.get_by_label(label).fill(text)
    page.get_by_label(label).press("Enter")
    page.locator(".lc-bot").nth(replies).wait_for()
    page.locator(".lc-typing").wait_for(state="hidden")


def bot_texts(page):
    return page.locator(".lc-bot .lc-text").all_inner_texts()


def open_chat(page):
    """Opens the chat and waits for the greeting."""
    page.get_by_role("button", name="Questions? Chat with us").click()
    page.locator(".lc-bot").first.wait_for()


def axe_violations(page, state, capsys):
    """axe-core's WCAG 2.1 A/AA rules over the page, the widget's open shadow root
    included. Prints every violation and what axe leaves for a person to review;
    returns the serious and critical violations."""
    assert AXE.is_file(), "axe-core is not installed: run `npm ci` in webchat/"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                           ".then(({violations, incomplete, passes}) => ({violations, incomplete, passes}))", WCAG_21_AA)
    if page.locator(".liver-chat").count():  # a node of the shadow root has a list as its path
        assert any(isinstance(node["target"][0], list) for rule in result["passes"] for node in rule["nodes"])
    lines = {kind: [f"[{state}] {v['impact']}: {v['id']}: {v['help']} ({'; '.join(map(target, v['nodes'][:5]))})"
                    for v in result[kind]] for kind in ("violations", "incomplete")}
    with capsys.disabled():
        for kind, label in (("violations", "violation"), ("incomplete", "to review")):
            for line in lines[kind]:
                print(f"\n  axe {label} {line}")
    return [line for line, v in zip(lines["violations"], result["violations"]) if v["impact"] in ("serious", "critical")]


def target(node):
    """axe's CSS path to a node; inside a shadow root, a list: host, then the node."""
    return " >> ".join(part if isinstance(part, str) else " >> ".join(part) for part in node["target"])
