"""Repeated authentication failures are slowed down (issue 7).

Each client IP and each presented key prefix has a token bucket of
``limit`` failures that refills evenly over ``window_seconds``. A failure takes
a token; a client whose bucket is empty is refused (429 with Retry-After) before
its key is even looked at, until a token has refilled. Successes cost nothing.

The buckets live in this process's memory, the trade-off chosen: checking costs
no database round trip and an attacker's flood writes nothing, but with N server
processes a client gets N times the allowance, and a restart forgets it. That
still turns key guessing (2^192 keys) from hopeless into more hopeless; it exists
to stop a script hammering the sign-in form, not to be exact. Put the limit in a
shared store (or the proxy in front) when running many processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from headstart.domain.errors import TooManyAttempts
from headstart.services.keys import key_prefix

MAX_TRACKED = 100_000  # buckets kept at most; full ones are forgotten first


@dataclass
class _Bucket:
    tokens: float
    updated: float


class AuthFailureLimiter:
    """Token buckets of failed authentications, per client IP and per key prefix."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.rate = limit / window_seconds  # tokens refilled per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # sync endpoints run in a thread pool

    def _refilled(self, name: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(name)
        if bucket is None:
            return None
        bucket.tokens = min(self.limit, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def check(self, names: Iterable[str]) -> None:
        """Raise TooManyAttempts when any of these clients has no failure left."""
        with self._lock:
            now = self._clock()
            waits = [
                (1 - bucket.tokens) / self.rate
                for name in names
                if (bucket := self._refilled(name, now)) is not None and bucket.tokens < 1
            ]
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            raise TooManyAttempts(
                "too many failed authentications; try again later",
                {"retry_after_seconds": retry_after},
            )

    def record_failure(self, names: Iterable[str]) -> None:
        with self._lock:
            now = self._clock()
            for name in names:
                bucket = self._refilled(name, now) or _Bucket(float(self.limit), now)
                bucket.tokens = max(0.0, bucket.tokens - 1)
                self._buckets[name] = bucket
            if len(self._buckets) > MAX_TRACKED:
                self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        for name in list(self._buckets):
            bucket = self._refilled(name, now)
            if bucket is not None and bucket.tokens >= self.limit:
                del self._buckets[name]
        while len(self._buckets) > MAX_TRACKED:  # still too many: drop the oldest
            del self._buckets[next(iter(self._buckets))]

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


def client_names(client_ip: str | None, key: str | None) -> list[str]:
    """The buckets a request draws on: its IP, and the start of the key it sent."""
    names = [f"ip:{client_ip or 'unknown'}"]
    if key:
        names.append(f"key:{key_prefix(key)}")
    return names
