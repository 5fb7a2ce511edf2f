"""The widget for every patient, measured in headless Chromium against the real
servers: axe-core's WCAG 2.1 A/AA audit in each state of a conversation; a
whole conversation with the keyboard alone; what a screen reader announces;
200% text and a 320 px screen with nothing cut off or covered; reduced motion;
a clinic's colours checked for contrast. Screenshots go to results/."""
import shutil

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.chat import CONTENT, RESULTS, ROOT, ask, axe_violations, needs_chromium, open_chat, say

pytestmark = needs_chromium
RED_FLAG = "my eyes have turned yellow"
FEEDBACK_HELPED = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]["utter_answer"][0]["buttons"][0]["title"]


def test_axe_finds_no_serious_violation_closed_open_mid_conversation_warning_and_check(open_page, chat_servers, capsys):
    page = open_page(f"{chat_servers.demo_url}/")
    page.locator(".lc-launcher").wait_for()
    serious = axe_violations(page, "closed", capsys)

    open_chat(page)
    serious += axe_violations(page, "open", capsys)

    ask(page, "is it dangerous?")
    assert page.locator(".lc-citation .lc-reply").count() and page.get_by_role("button", name=FEEDBACK_HELPED).count()
    serious += axe_violations(page, "answer with buttons", capsys)

    say(page, RED_FLAG)
    page.locator(".lc-alert").wait_for()
    serious += axe_violations(page, "warning", capsys)

    say(page, "check my result")
    page.get_by_role("button", name="Ultrasound").wait_for()
    serious += axe_violations(page, "guided check", capsys)
    assert serious == []


def focused(page, selector):
    """Whether the widget's focused element matches the CSS selector."""
    return page.locator(".liver-chat").evaluate(
        "(host, selector) => !!host.shadowRoot.activeElement && host.shadowRoot.activeElement.matches(selector)", selector)


def tab_to(page, selector, key="Tab", presses=40):
    for _ in range(presses):
        page.keyboard.press(key)
        if focused(page, selector):
            return
    pytest.fail(f"{key} never reached {selector}")


def test_a_whole_conversation_with_the_keyboard_alone(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/")
    launcher = page.locator(".lc-launcher")
    launcher.wait_for()
    tab_to(page, ".lc-launcher")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your question")).to_be_focused()
    page.locator(".lc-bot").first.wait_for()

    page.keyboard.type("is it dangerous?")
    citations = page.locator(".lc-citation").count()
    page.keyboard.press("Enter")
    page.locator(".lc-citation").nth(citations).wait_for()
    page.locator(".lc-typing").wait_for(state="hidden")
    assert CONTENT.topics["dangerous"].short_answer in page.locator(".lc-bot .lc-text").all_inner_texts()

    # Back from the text field to the answer's suggested questions; Enter asks one.
    tab_to(page, ".lc-citation .lc-reply", key="Shift+Tab")
    title = page.locator(".liver-chat").evaluate("host => host.shadowRoot.activeElement.textContent")
    asked = next(topic for topic in CONTENT.topics.values() if topic.question == title)
    page.keyboard.press("Enter")
    page.locator(".lc-citation").nth(citations + 1).wait_for()
    page.locator(".lc-typing").wait_for(state="hidden")
    assert page.locator(".lc-user .lc-text").last.inner_text() == title
    assert asked.short_answer in page.locator(".lc-bot .lc-text").all_inner_texts()
    expect(page.get_by_label("Your question")).to_be_focused()

    # The feedback button under that latest answer.
    page.locator(".liver-chat").evaluate(
        "(host, title) => [...host.shadowRoot.querySelectorAll('.lc-reply')].filter(b => b.textContent === title).pop().classList.add('lc-test-target')",
        FEEDBACK_HELPED)
    tab_to(page, ".lc-test-target", key="Shift+Tab")
    replies = page.locator(".lc-bot").count()
    page.keyboard.press("Enter")
    page.locator(".lc-bot").nth(replies).wait_for()
    assert page.locator(".lc-user .lc-text").last.inner_text() == FEEDBACK_HELPED

    page.keyboard.press("Escape")
    expect(page.locator(".lc-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_what_a_screen_reader_announces(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/")
    open_chat(page)
    page.locator(".lc-typing").wait_for(state="hidden")
    # What the polite live region adds (aria-relevant="additions") and what the alert region says.
    page.locator(".liver-chat").evaluate("""host => {
        const root = host.shadowRoot;
        window.announced = [];
        window.alerts = [];
        new MutationObserver(records => records.forEach(record => record.addedNodes.forEach(node => announced.push(node.textContent))))
            .observe(root.querySelector("[aria-live=polite]"), {childList: true, subtree: true});
        const alert = root.querySelector("[role=alert]");
        new MutationObserver(() => alerts.push(alert.textContent)).observe(alert, {childList: true, subtree: true, characterData: true});
    }""")

    dangerous = CONTENT.topics["dangerous"]
    ask(page, "is it dangerous?")
    announced = page.evaluate("announced.splice(0)")
    assert announced[0] == "You:is it dangerous?"
    assert announced[1].startswith(f"Assistant:{dangerous.short_answer}")
    assert announced[-1].startswith(f"Assistant:Source: {CONTENT.source_line(dangerous)}")

    ask(page, "what causes it?")
    assert any(text.startswith(f"Assistant:{CONTENT.topics['causes'].short_answer}") for text in page.evaluate("announced.splice(0)"))
    assert page.evaluate("alerts") == []

    signs = CONTENT.red_flags.find(RED_FLAG)
    assert signs, f"{RED_FLAG!r} is not a warning sign in the content"
    warning = CONTENT.red_flags.warning(signs)
    say(page, RED_FLAG)
    expect(page.get_by_role("alert")).to_have_text(f"Warning: {warning}")
    assert page.evaluate("alerts") == [f"Warning: {warning}"]
    assert f"Assistant:{warning}" in page.evaluate("announced")

    # Every control has a name; the ones whose text is not their name say what they do.
    snapshot = page.locator(".lc-root").aria_snapshot()
    unnamed = [line for line in snapshot.splitlines() if line.strip() in ("- button", "- textbox", "- group", "- log")]
    assert unnamed == [], snapshot
    expect(page.locator(".lc-close")).to_have_accessible_name("Close chat")
    expect(page.locator(".lc-form input")).to_have_accessible_name("Your question")
    expect(page.locator(".lc-log")).to_have_accessible_name("Conversation")
    expect(page.locator(".lc-replies").last).to_have_accessible_name("Suggested replies")
    for name in ("Send", "Save or print this chat", FEEDBACK_HELPED, "Questions? Chat with us"):
        assert page.get_by_role("button", name=name, exact=True).count(), f"no button named {name!r}"


# Each text or control of the widget: inside the screen, its text not cut off,
# and not under another element (at a point of its first line; a message once
# scrolled to in the log). The panel itself never scrolls.
LAYOUT_PROBLEMS = """host => {
    const root = host.shadowRoot;
    const width = document.documentElement.clientWidth;
    const name = node => `${node.className} "${(node.textContent || node.placeholder || "").trim().slice(0, 40)}"`;
    const problems = [];
    const panel = root.querySelector(".lc-panel"), log = root.querySelector(".lc-log"), form = root.querySelector(".lc-form");
    for (const box of [panel, log]) {
        if (box.scrollWidth > box.clientWidth) problems.push(`scrolls sideways: ${box.className}`);
    }
    if (panel.scrollHeight > panel.clientHeight) problems.push("the panel's content overflows it (only the log may scroll)");
    if (log.getBoundingClientRect().bottom > form.getBoundingClientRect().top) problems.push("messages run under the text field");
    const launcher = root.querySelector(".lc-launcher");
    if (launcher.getClientRects().length) {
        const [a, b] = [launcher.getBoundingClientRect(), panel.getBoundingClientRect()];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) problems.push("the launcher covers the panel");
    }
    for (const node of root.querySelectorAll(".lc-header h2, .lc-close, .lc-msg, .lc-reply, .lc-form input, .lc-send, .lc-summary-open")) {
        if (log.contains(node)) node.scrollIntoView({block: "start"});
        const box = node.getBoundingClientRect();
        if (box.left < 0 || box.right > width + 0.5) problems.push(`outside the screen: ${name(node)}`);
        if (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1) problems.push(`text cut off: ${name(node)}`);
        const hit = root.elementFromPoint(box.left + box.width / 2, box.top + Math.min(box.height / 2, 12));
        if (!hit || !(hit === node || node.contains(hit))) problems.push(`covered by ${hit ? name(hit) : "nothing"}: ${name(node)}`);
    }
    log.scrollTop = log.scrollHeight;
    return problems;
}"""


def test_twice_the_text_size_nothing_cut_off_or_covered(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/")
    # The browser's own text-size setting (Chrome: Settings > Appearance > Font size), at 200%.
    page.context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    page.reload()
    open_chat(page)
    assert page.locator(".lc-root").evaluate("node => getComputedStyle(node).fontSize") == "32px"
    ask(page, "is it dangerous?")
    assert page.locator(".liver-chat").evaluate(LAYOUT_PROBLEMS) == []
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / "webchat-200pct.png")


def test_a_320_px_screen_nothing_cut_off_or_covered(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/", 320, 640)
    open_chat(page)
    ask(page, "could it be cancer?")
    assert page.locator(".lc-panel").bounding_box()["width"] == 320
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator(".liver-chat").evaluate(LAYOUT_PROBLEMS) == []
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=RESULTS / "webchat-320px.png")


MOTION = """host => [...host.shadowRoot.querySelectorAll("*")].flatMap(node => [null, "::before", "::after"].map(pseudo => {
    const style = getComputedStyle(node, pseudo);
    return [style.animationName, style.animationDuration, style.transitionDuration];
}))"""


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_reduced_motion_stops_every_animation(open_page, chat_servers, motion):
    page = open_page(f"{chat_servers.demo_url}/", reduced_motion=motion)
    page.locator(".lc-launcher").wait_for()
    moving = [style for style in page.locator(".liver-chat").evaluate(MOTION)
              if style[0] != "none" or any(duration.strip("0s,. ") for duration in style[1:])]
    if motion == "reduce":
        assert moving == []
    else:  # the typing indicator's dots bounce: the check above can see an animation
        assert ["lc-bounce", "1.2s", "0s"] in moving


def clinic_page(chat_servers, name, config):
    """A page of the test pages' server with the built widget and this data-config."""
    for file in ("widget.js", "widget.css"):
        shutil.copy(ROOT / "webchat" / "dist" / file, chat_servers.pages_dir / file)
    (chat_servers.pages_dir / name).write_text(f"""<!doctype html><html lang="en"><head><title>Clinic</title></head>
        <body><p>Clinic page</p><script src="widget.js" defer data-config='{config}'></script></body></html>""")
    return f"{chat_servers.pages_url}/{name}"


@pytest.mark.parametrize("config, warned", [
    ('{"colors": {"primary": "#1d4d3a"}}', []),
    ('{"colors": {"primary": "#7fb2e5"}}', ["#ffffff on #7fb2e5", "#7fb2e5 on #ffffff"]),
    ('{"colors": {"alert": "#ff6b6b", "alertBackground": "#fff0f0"}}', ["#ff6b6b on #fff0f0", "#ff6b6b on #ffffff"]),
    ('{"colors": {"primary": "nonsense", "onPrimary": 7}}', ["colors.primary is not a CSS colour", "colors.onPrimary is not a CSS colour"]),
    ('{"colors": ', ["data-config is not JSON"]),
], ids=["clinic-green", "light-blue", "pale-alert", "not-colours", "broken-json"])
def test_a_clinics_colours_are_checked_for_contrast_at_start(browser, chat_servers, config, warned):
    page = browser.new_page()
    warnings = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))
    page.goto(clinic_page(chat_servers, "colours.html", config))
    page.locator(".lc-launcher").wait_for()  # the colours are checked before the widget shows
    page.close()
    assert len(warnings) == len(warned), warnings
    for expected, warning in zip(warned, warnings):
        assert expected in warning
        if " on " in expected:  # a pair of colours: with its measured contrast and the bar
            assert "4.5:1 of WCAG AA" in warning
