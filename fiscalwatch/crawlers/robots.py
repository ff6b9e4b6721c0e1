"""robots.txt rules, cached per origin (scheme://host:port) with a TTL.

How a robots.txt response is interpreted follows Google's crawler:
- 2xx: the rules apply;
- 4xx (except 429): no rules, everything is allowed;
- 5xx and 429: the site is treated as fully disallowed for a short while, then asked again;
- no response at all (network error, timeout): allowed, and asked again soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# Loads one robots.txt URL: (HTTP status, body text), status None when nothing was received.
RobotsLoader = Callable[[str], tuple[int | None, str]]


class RobotsCache:
    def __init__(self, ttl: float = 24 * 3600, retry_ttl: float = 600):
        self.ttl = ttl
        self.retry_ttl = retry_ttl  # for verdicts that are not based on an actual robots.txt
        self._entries: dict[str, tuple[float, RobotFileParser]] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, user_agent: str, load: RobotsLoader) -> bool:
        """Whether ``user_agent`` may fetch ``url``; ``load`` is called when the origin's rules are stale."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            expires, parser = self._entries.get(origin, (0.0, None))
        if parser is None or expires < time.monotonic():
            parser, ttl = self._interpret(*load(origin + "/robots.txt"))
            with self._lock:
                self._entries[origin] = (time.monotonic() + ttl, parser)
        return parser.can_fetch(user_agent, url)

    def _interpret(self, status: int | None, text: str) -> tuple[RobotFileParser, float]:
        parser = RobotFileParser()
        if status is not None and 200 <= status < 300:
            parser.parse(text.splitlines())
            return parser, self.ttl
        if status is not None and (status >= 500 or status == 429):
            parser.disallow_all = True
            return parser, self.retry_ttl
        parser.allow_all = True
        return parser, self.ttl if status is not None else self.retry_ttl
