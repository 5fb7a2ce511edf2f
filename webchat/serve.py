"""Serves the demo clinic page with the chat widget, on loopback only.

    python webchat/serve.py [--port 8080] [--rasa-url http://localhost:5005]

Only the page and the built widget are served (webchat/dist/, from `make widget`:
widget.js with socket.io-client bundled, and widget.css), as a clinic would host them.
`/?lang=zh` shows the widget in another language: its title and texts come
from content/<lang>/widget.yml, as a clinic's page would pass them.
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_RASA_URL = "http://localhost:5005"  # the server address written in index.html
DIST = HERE / "dist"
FILES = {
    "/widget.js": DIST / "widget.js",
    "/widget.css": DIST / "widget.css",
}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
CONTENT = HERE.parent / "content"
DEFAULT_CONFIG = '''"language": "en"'''  # as written in index.html


def page(rasa_url: str, language: str) -> bytes:
    """The demo page, with the widget configured for the language (English if unknown)."""
    html = (HERE / "index.html").read_text(encoding="utf-8").replace(DEFAULT_RASA_URL, rasa_url)
    widget = CONTENT / language / "widget.yml"
    if language != "en" and language.isalpha() and widget.is_file():
        strings = yaml.safe_load(widget.read_text(encoding="utf-8"))["strings"]
        title = strings.pop("title")
        config = f'"language": "{language}", "title": {json.dumps(title, ensure_ascii=False)}, "strings": {json.dumps(strings, ensure_ascii=False)}'
        html = html.replace(DEFAULT_CONFIG, config).replace('"title": "Questions about a liver spot",', "")
    return html.encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    rasa_url = DEFAULT_RASA_URL

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", "/index.html"):
            language = parse_qs(url.query).get("lang", ["en"])[0]
            self.send(".html", page(self.rasa_url, language))
        elif path in FILES:
            self.send(FILES[path].suffix, FILES[path].read_bytes())
        else:
            self.send_error(404)

    def send(self, suffix, body):
        self.send_response(200)
        self.send_header("Content-Type", TYPES[suffix] + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")  # edits show on reload
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # one line per file would drown the Rasa server's log in `make run`


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default=DEFAULT_RASA_URL, help="the Rasa server the demo page talks to")
    args = parser.parse_args()
    Handler.rasa_url = args.rasa_url
    if not all(path.is_file() for path in FILES.values()):
        sys.exit(f"the widget is not built: run `make widget` (it writes {DIST})")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"Demo clinic page with the chat widget: http://localhost:{args.port}/ (talks to {args.rasa_url})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
