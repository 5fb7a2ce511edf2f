"""A clinic embeds the widget with the README's snippet and the files of `make
widget` alone: a "clinic site" on an origin of its own serves only webchat/dist/
(as /chat/) and a plain page, and a patient has a conversation through it with
the Rasa server on another origin. The snippet's integrity hash is enforced, for
the script and, through the hash compiled into it, for the stylesheet."""
import base64
import hashlib
import re
import shutil

from playwright.sync_api import expect

from tests.browser.chat import CONTENT, ROOT, ask, needs_chromium, open_chat

pytestmark = needs_chromium
DIST = ROOT / "webchat" / "dist"


def readme_snippet():
    """The embed snippet of README.md's widget section: the html block with an integrity hash."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## The web chat widget", 1)[1].split("\n## ", 1)[0]
    snippet = next(block for block in re.findall(r"```html\n(.*?)```", section, re.DOTALL) if "integrity=" in block)
    assert "https://YOUR-SITE/chat/widget.js" in snippet and "https://chat.your-clinic.example" in snippet
    return snippet


def sri(path):
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def clinic_site(chat_servers, folder, integrity):
    """folder/index.html with the README's snippet (the clinic's own addresses and this hash), folder/chat/ = dist."""
    site = chat_servers.clinic_dir / folder
    shutil.copytree(DIST, site / "chat")
    snippet = (readme_snippet().replace("https://YOUR-SITE/chat/", f"{chat_servers.clinic_url}/{folder}/chat/")
               .replace("https://chat.your-clinic.example", chat_servers.rasa_url))
    snippet = re.sub(r'integrity="[^"]*"', f'integrity="{integrity}"', snippet)
    (site / "index.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A clinic's page</title></head>
<body><h1>Your liver scan</h1><p>Questions? Use the chat.</p>
{snippet}</body></html>""", encoding="utf-8")
    return site


def test_a_clinic_page_on_another_origin_embeds_the_dist_files_and_a_patient_chats(open_page, chat_servers):
    assert sorted(path.name for path in DIST.iterdir()) == ["widget.css", "widget.js"]
    site = clinic_site(chat_servers, "site", sri(DIST / "widget.js"))
    requested, sockets = [], []
    page = open_page("about:blank")
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(f"{chat_servers.clinic_url}/site/index.html")
    open_chat(page)
    ask(page, "is it dangerous?")
    assert CONTENT.topics["dangerous"].short_answer in page.locator(".lc-bot .lc-text").all_inner_texts()
    # The page and the two built files from the clinic site, the Rasa server by WebSocket: nothing else.
    assert sorted(requested) == [f"{chat_servers.clinic_url}/site/{name}" for name in ("chat/widget.css", "chat/widget.js", "index.html")]
    assert sockets and all(url.startswith(chat_servers.rasa_url.replace("http://", "ws://") + "/socket.io/") for url in sockets)
    assert sorted(path.name for path in (site / "chat").iterdir()) == ["widget.css", "widget.js"]


def test_a_changed_file_is_refused_by_its_integrity_hash(browser, chat_servers):
    wrong_script = clinic_site(chat_servers, "wrong-hash", "sha384-" + base64.b64encode(b"0" * 48).decode())
    changed_css = clinic_site(chat_servers, "changed-css", sri(DIST / "widget.js"))
    (changed_css / "chat" / "widget.css").write_text((DIST / "widget.css").read_text() + ".lc-root{color:red}")
    for site in (wrong_script, changed_css):
        page = browser.new_page()
        with page.expect_console_message(lambda message: "integrity" in message.text):
            page.goto(f"{chat_servers.clinic_url}/{site.name}/index.html")
        expect(page.locator(".lc-launcher")).to_have_count(0 if site is wrong_script else 1)
        expect(page.locator(".lc-launcher")).to_be_hidden()
        page.close()
