"""A clock that only moves when slept on: rate limits and backoffs tested without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import utcnow


class FakeClock:
    """`monotonic()` and `sleep()` for a RateLimiter, `now()` for the Dispatcher's database times.

    `now()` is the real UTC time plus every second slept, so rows queued a moment ago are already due.
    `slept` lists each sleep, for asserting how long a rate limit or a Retry-After held sending back.
    """

    def __init__(self):
        self.offset = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.offset

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self.offset += seconds

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds
