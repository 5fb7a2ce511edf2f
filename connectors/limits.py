"""How fast one client may send: a per-conversation and a per-address limit,
shared by every public endpoint of this process (REST, socket.io, clinic,
Twilio, Telegram).

Each limit is a token bucket: up to N messages at once, refilled at N per
window. The environment sets them (read once, at start):

    RATE_LIMIT_CONVERSATION=20/60   # messages per seconds, per conversation
    RATE_LIMIT_ADDRESS=60/60        # requests per seconds, per client address
    TRUSTED_PROXIES=127.0.0.1,::1   # addresses/networks whose X-Forwarded-For is believed

"0" switches a limit off. The client address is the peer's address, unless
the peer is a trusted proxy: then X-Forwarded-For is read from the right,
skipping trusted proxies, so a client cannot choose its own address by
sending the header itself. A request from a trusted proxy without the header
(the proxy's own health checks, staff tools and scripts on this machine) has
no client address and is limited per conversation only. Behind HAProxy, set
`option forwardfor` so that every patient's address is sent.

Counters live in this process: with several Rasa workers or processes, each
counts on its own, so a client spread over them gets up to that many times
the limit.
"""
import ipaddress
import logging
import os
import time
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Text, Tuple, Union

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
DEFAULTS = {"RATE_LIMIT_CONVERSATION": "20/60", "RATE_LIMIT_ADDRESS": "60/60", "TRUSTED_PROXIES": "127.0.0.1,::1"}
# Buckets idle long enough to be full again are forgotten once there are this many.
PRUNE_ABOVE = 10_000


@dataclass(frozen=True)
class Rate:
    burst: float  # messages at once
    seconds: float  # to refill a whole burst

    @classmethod
    def parse(cls, name: Text, value: Text) -> Optional["Rate"]:
        """None when off ("0"); ValueError naming the variable when unreadable."""
        text = value.strip()
        if text in ("", "0"):
            return None
        try:
            count, _, seconds = text.partition("/")
            rate = cls(float(count), float(seconds or 60))
        except ValueError:
            rate = None
        if rate is None or rate.burst < 1 or rate.seconds <= 0:
            raise ValueError(f"{name} must be N/SECONDS (e.g. 20/60) or 0 for no limit, not {value!r}")
        return rate


class Buckets:
    def __init__(self, rate: Rate, clock=time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self.buckets: Dict[Text, Tuple[float, float]] = {}  # key -> (tokens, when)

    def _tokens(self, key: Text, now: float) -> float:
        tokens, then = self.buckets.get(key, (self.rate.burst, now))
        return min(self.rate.burst, tokens + (now - then) * self.rate.burst / self.rate.seconds)

    def take(self, key: Text) -> float:
        """0 if `key` may go on (and charges it), else the seconds until it may."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1:
            return (1 - tokens) * self.rate.seconds / self.rate.burst
        if len(self.buckets) > PRUNE_ABOVE:
            self.buckets = {k: v for k, v in self.buckets.items() if self._tokens(k, now) < self.rate.burst}
        self.buckets[key] = (tokens - 1, now)
        return 0.0


def parse_networks(value: Text) -> List[Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(f"TRUSTED_PROXIES must list IP addresses or networks: {error}") from None


def _address(text: Text) -> Optional[ipaddress._BaseAddress]:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class Limiter:
    def __init__(self, conversation: Optional[Rate], address: Optional[Rate], trusted: List[Network]) -> None:
        self.conversations = conversation and Buckets(conversation)
        self.addresses = address and Buckets(address)
        self.trusted = trusted

    @classmethod
    def from_env(cls, env: Mapping[Text, Text] = os.environ) -> "Limiter":
        def setting(name: Text) -> Text:
            return env.get(name) or DEFAULTS[name]

        return cls(Rate.parse("RATE_LIMIT_CONVERSATION", setting("RATE_LIMIT_CONVERSATION")),
                   Rate.parse("RATE_LIMIT_ADDRESS", setting("RATE_LIMIT_ADDRESS")),
                   parse_networks(setting("TRUSTED_PROXIES")))

    def is_trusted(self, address: Optional[ipaddress._BaseAddress]) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def client_address(self, peer: Text, forwarded_for: Optional[Text]) -> Optional[Text]:
        """The client's address, or None for a trusted proxy's own request."""
        address = _address(peer or "")
        if not self.is_trusted(address):
            return str(address) if address else (peer or "unknown")
        for hop in reversed((forwarded_for or "").split(",")):
            hop_address = _address(hop)
            if hop_address is None:
                # A hop that is not an address was written by someone we do not trust.
                return hop.strip() or None
            if not self.is_trusted(hop_address):
                return str(hop_address)
        return None

    def address_wait(self, address: Optional[Text]) -> float:
        return self.addresses.take(address) if self.addresses and address else 0.0

    def conversation_wait(self, conversation_id: Text) -> float:
        return self.conversations.take(conversation_id) if self.conversations else 0.0


_limiter: Optional[Limiter] = None


def limiter() -> Limiter:
    """This process's limiter, from the environment on first use."""
    global _limiter
    if _limiter is None:
        _limiter = Limiter.from_env()
        logger.info("Rate limits: per conversation %s, per address %s, trusted proxies %s",
                    _limiter.conversations and _limiter.conversations.rate,
                    _limiter.addresses and _limiter.addresses.rate, [str(n) for n in _limiter.trusted])
    return _limiter


def too_many(wait: float, what: Text) -> HTTPResponse:
    return response.json({"error": f"too many messages from this {what}; please slow down"}, status=429,
                         headers={"Retry-After": str(max(1, round(wait)))})


def refuse_address(request: Request) -> Optional[HTTPResponse]:
    """A 429 when the request's client address is over its limit (and charges it)."""
    limits = limiter()
    wait = limits.address_wait(limits.client_address(request.ip, request.headers.get("X-Forwarded-For")))
    return too_many(wait, "address") if wait else None


def refuse_conversation(conversation_id: Text) -> Optional[HTTPResponse]:
    """A 429 when the conversation is over its limit (and charges it)."""
    wait = limiter().conversation_wait(conversation_id)
    return too_many(wait, "conversation") if wait else None
