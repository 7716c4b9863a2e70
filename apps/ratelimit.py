"""A login rate limit: after a few failures, each further attempt waits a growing delay.

Failures are counted per key; the annotation app counts each attempt under two keys, the user name
(``user:alice``, against guessing one account's password from many places) and the client address
(``client:10.0.0.7``, against one place trying many accounts). After ``free`` failures on a key,
the next attempt must wait ``base * 2 ** (failures - free)`` seconds after the last failure (at most
``cap``); an attempt made sooner is refused without checking the password. A success clears the
user's count. Counts live in the server process (one Streamlit server), and are forgotten ``cap``
seconds after a key's last failure.

>>> now = [0.0]
>>> limiter = LoginLimiter(free=2, base=1.0, cap=60.0, clock=lambda: now[0])
>>> for _ in range(3):
...     limiter.failed("user:alice")
>>> limiter.wait("user:alice", "client:a")  # 3 failures, 2 free: wait 1 * 2**1 seconds
2.0
>>> now[0] = 2.0; limiter.wait("user:alice")
0.0
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class _Failures:
    count: int
    last: float


class LoginLimiter:
    """Failure counts and the delay they impose, per key; thread-safe (Streamlit serves each session
    from its own thread)."""

    def __init__(self, free: int = 5, base: float = 30.0, cap: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def delay(self, count: int) -> float:
        """Seconds to wait after the ``count``-th failure.

        >>> [LoginLimiter(free=5, base=1.0, cap=300.0).delay(n) for n in (4, 5, 6, 7, 20)]
        [0.0, 1.0, 2.0, 4.0, 300.0]
        """
        return 0.0 if count < self.free else min(self.cap, self.base * 2 ** (count - self.free))

    def wait(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0.0: now)."""
        now = self.clock()
        with self._lock:
            self._forget_old(now)
            entries = [self._failures[k] for k in keys if k in self._failures]
            return max([max(0.0, e.last + self.delay(e.count) - now) for e in entries], default=0.0)

    def failed(self, *keys: str) -> None:
        """Count one failed attempt under each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                entry = self._failures.setdefault(key, _Failures(0, now))
                entry.count, entry.last = entry.count + 1, now

    def succeeded(self, *keys: str) -> None:
        """Clear the counts of ``keys`` (the user who just logged in)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, e in self._failures.items() if now - e.last > self.cap]:
            del self._failures[key]
