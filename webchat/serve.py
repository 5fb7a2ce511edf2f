"""Serves the demo clinic page with the chat widget, on loopback only.

    python webchat/serve.py [--port 8080]

Only the page's own files are served (not package.json, node_modules or this
script); socket.io-client comes from node_modules, installed by `npm ci`.
"""
import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOCKET_IO = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
FILES = {
    "/": HERE / "index.html",
    "/index.html": HERE / "index.html",
    "/widget.js": HERE / "widget.js",
    "/widget.css": HERE / "widget.css",
    "/vendor/socket.io.min.js": SOCKET_IO,
}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = FILES.get(self.path.split("?")[0])
        if path is None:
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", TYPES[path.suffix] + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")  # edits show on reload
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # one line per file would drown the Rasa server's log in `make run`


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    port = parser.parse_args().port
    if not SOCKET_IO.is_file():
        sys.exit(f"socket.io-client is not installed: run `npm ci` in {HERE}")
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"Demo clinic page with the chat widget: http://localhost:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
