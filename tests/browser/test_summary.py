"""The summary to take to the doctor: a real conversation in the widget on the
demo page (questions, a warning, the guided check), then "Save or print this
chat": the printable page and its PDF. Saves results/webchat-summary.png and
results/webchat-summary.pdf."""
import datetime
import json

from playwright.sync_api import expect

from tests.browser.chat import CONTENT, RESULTS, ask, axe_violations, needs_chromium, open_chat, say

pytestmark = needs_chromium
CHECK_CLICKS = ["Ultrasound", "One spot", "No", "No", "No", "No", "No", "No"]
CHECK_ANSWERS = {"scan": "ultrasound", "spots": "single", "symptoms": "no", "wide_ducts": "no", "mass": "no",
                 "liver_disease": "no", "cancer_history": "no", "parasite_area": "no"}


def test_the_summary_holds_the_questions_answers_sources_warning_and_check(open_page, chat_servers, capsys):
    page = open_page(f"{chat_servers.demo_url}/")
    open_chat(page)
    greeting = page.locator(".lc-bot .lc-text").first.inner_text()
    ask(page, "is it dangerous?")
    ask(page, "what causes it?")
    warning = CONTENT.red_flags.warning(CONTENT.red_flags.find("my eyes have turned yellow"))
    say(page, "my eyes have turned yellow")
    page.locator(".lc-alert").wait_for()
    say(page, "check my result")
    for title in CHECK_CLICKS:
        replies = page.locator(".lc-bot").count()
        page.locator(".lc-bot").last.get_by_role("button", name=title, exact=True).click()
        page.locator(".lc-bot").nth(replies).wait_for()
        page.locator(".lc-typing").wait_for(state="hidden")
    guidance = CONTENT.guidance
    expect(page.locator(".lc-bot .lc-text").last).to_have_text(guidance.closing)

    with page.expect_popup() as popup:
        page.get_by_role("button", name="Save or print this chat").click()
    summary = popup.value
    summary.locator(".lc-summary").wait_for()
    summary.wait_for_load_state()  # the stylesheet

    expect(summary.locator("h1")).to_have_text("Your chat about a liver spot")
    today = datetime.date.today()
    expect(summary.locator(".lc-summary-date")).to_have_text(f"Date: {today:%B} {today.day}, {today.year}")
    assert summary.locator(".lc-summary-item q").all_inner_texts() == ["is it dangerous?", "what causes it?", "my eyes have turned yellow"]
    text = summary.locator("main").inner_text()
    for topic in (CONTENT.topics["dangerous"], CONTENT.topics["causes"]):
        assert topic.short_answer in summary.locator(".lc-summary-answer").all_inner_texts()
        assert f"Source: {CONTENT.source_line(topic)}" in summary.locator(".lc-summary-source").all_inner_texts()
    expect(summary.locator(".lc-summary-alert p")).to_have_text(warning)
    check = summary.locator(".lc-summary-item", has=summary.get_by_role("heading", name="About your own result"))
    check_texts = check.locator("p").all_inner_texts()
    assert check_texts == [guidance.intro] + [rule.message for rule in guidance.advise(CHECK_ANSWERS)] + [guidance.closing]
    # Not in it: the greeting, the check's questions, the buttons.
    assert greeting not in text and "How was the spot found?" not in text and "This helped" not in text

    # Nothing that the chat did not say or the patient did not type: every line is
    # one of the widget's own texts, the date, or a message of the conversation.
    state = json.loads(page.evaluate("Object.entries(localStorage).find(([key]) => key.startsWith('liver-chat:'))[1]"))
    said = {message["text"] for message in state["messages"]}
    own = {"Your chat about a liver spot", "Print or save as PDF", "About your own result", "Warning",
           "Your questions and the assistant's answers, to take to your doctor. The answers are general facts, not a diagnosis."}
    leaves = summary.locator("main").evaluate(
        "main => [...main.querySelectorAll('*')].filter(node => !node.children.length).map(node => node.textContent)")
    assert [leaf for leaf in leaves if leaf not in said | own and not leaf.startswith(("Date: ", "You asked: "))] == []

    assert axe_violations(summary, "summary page", capsys) == []
    RESULTS.mkdir(exist_ok=True)
    summary.screenshot(path=RESULTS / "webchat-summary.png", full_page=True)

    # Printed: the print button goes, the warning stays; the browser's PDF has it all.
    summary.emulate_media(media="print")
    expect(summary.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(summary.locator(".lc-summary-alert")).to_be_visible()
    pdf = summary.pdf(path=RESULTS / "webchat-summary.pdf", format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_the_summary_before_any_question_says_so(open_page, chat_servers):
    page = open_page(f"{chat_servers.demo_url}/?lang=zh")
    page.get_by_role("button", name="有问题？和我们聊聊").click()
    with page.expect_popup() as popup:
        page.get_by_role("button", name="保存或打印这段对话").click()
    summary = popup.value
    expect(summary.locator("h1")).to_have_text("关于肝里钙化点的对话记录")
    expect(summary.locator(".lc-summary p").last).to_have_text("你还没有提问。")
    assert summary.locator("html").get_attribute("lang") == "zh"
    assert summary.locator(".lc-summary-item").count() == 0
