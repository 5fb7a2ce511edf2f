"""One flooding client for test_floods.py, run as a process of its own so that
it does not slow the measuring client: posts to URL from one address as fast as
the server answers until the file STOP exists, then prints "sent refused"."""
import os
import sys

import requests


def main(url: str, stop: str) -> None:
    session, sent, refused = requests.Session(), 0, 0
    while not os.path.exists(stop):
        reply = session.post(url, json={"sender": "flooder", "message": "spam"},
                             headers={"X-Forwarded-For": "203.0.113.66"}, timeout=30)
        sent, refused = sent + 1, refused + (reply.status_code == 429)
    print(sent, refused)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
