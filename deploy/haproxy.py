"""Writes the effective HAProxy configuration of the clinic profile from
deploy/haproxy.cfg: the public address, whether the HTTP API is on, and one
`server` line per Rasa process.

    python -m deploy.haproxy OUT --port 5005 --rasa-ports 5101 5102 [--api]
"""
import argparse
from pathlib import Path
from string import Template
from typing import Iterable

TEMPLATE = Path(__file__).resolve().parent / "haproxy.cfg"
SERVERS_MARK = "# rasa processes"


def render(public_port: int, rasa_ports: Iterable[int], api: bool, bind: str = "*") -> str:
    # Each process twice: checked, and as an unchecked backup that takes traffic only
    # when every checked one is marked down (all of them too busy to answer their
    # checks in time); a dead one among the backups refuses, and the request is retried.
    servers = "\n".join(f"    server rasa{number} 127.0.0.1:{port}\n"
                         f"    server rasa{number}-last-resort 127.0.0.1:{port} backup no-check"
                         for number, port in enumerate(rasa_ports, start=1))
    text = TEMPLATE.read_text(encoding="utf-8").replace(f"    {SERVERS_MARK}", servers)
    return Template(text).substitute(bind=bind, public_port=public_port, api_enabled="yes" if api else "no")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--port", type=int, required=True, help="the public port")
    parser.add_argument("--bind", default="*", help="the public interface (default: all)")
    parser.add_argument("--rasa-ports", type=int, nargs="+", required=True)
    parser.add_argument("--api", action="store_true", help="let the HTTP API through (Rasa checks the token)")
    args = parser.parse_args()
    args.out.write_text(render(args.port, args.rasa_ports, args.api, args.bind), encoding="utf-8")


if __name__ == "__main__":
    main()
