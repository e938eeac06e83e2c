"""Drive a Hatchet's time in tests: ``use_clock(hatchet, clock)``.

The runtime reads one clock (``Engine.clock``) for every instant it writes into Redis or
compares with what Redis holds: claim leases and their expiry, retry backoff, the timers
of the timer set, schedule and execution deadlines, heartbeats, and the cron ticks of the
beat. A test that hands it a clock it controls moves time at once, without sleeping: a
retry an hour away is due the moment the clock says an hour has passed.

Every process serving the namespace must read the same clock, so a worker process sets it
where its module builds the ``Hatchet`` (``tests/apps/clock_app.py`` reads the time from a
file the test writes). The loops of a process keep their own cadence on the real
monotonic clock: they poll as often as ever, and act on the clock's time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def use_clock(hatchet: Any, clock: Callable[[], float]) -> None:
    """Make ``clock`` (seconds since the epoch, like ``time.time``) the time of the
    runtime of ``hatchet`` in this process."""
    hatchet._registry.engine().clock = clock


__all__ = ["use_clock"]
