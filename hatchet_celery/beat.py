"""Celery beat fires Hatchet crons: ``on_crons`` declarations and crons made at run time.

Two ways in, both with the team's usual ``celery -A proj beat``:

- ``celery -A proj beat -S hatchet_celery.beat:Scheduler`` names the scheduler: Celery's
  default (persistent) scheduler for the app's own ``beat_schedule``, plus the crons.
- a plain ``celery -A proj beat`` (or ``celery worker -B``) with whatever scheduler is
  configured: when the beat starts (Celery's ``beat_init`` signal), the crons attach
  themselves to that scheduler's loop. The hook is connected when the package builds or
  attaches to the Celery app, so no ``beat_schedule`` entry has to be written by hand.

Either way the crons are read from Redis (``_runtime/timing/crons.py``), so one created with
``hatchet.cron.create`` fires without a restart, and any number of beats fire each tick
once. Runs are created by the beat itself, to the second; beat never waits for a worker.
About once a second the beat also runs the ``beat_ticks`` of the extensions (schedule deadlines that
must hold with no worker up: ``_runtime/timing/deadlines.py``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import PersistentScheduler

from hatchet_celery._runtime.timing.crons import CronTicker

log = logging.getLogger(__name__)

# Longest sleep between two passes when nothing is due, and the pause after a failed
# pass (Redis unreachable, say), so a broken store does not spin the beat.
IDLE_WAKE = 1.0
ERROR_WAKE = 1.0


def registries_of(app: Any) -> list[Any]:
    """The hatchet_celery registries whose tasks live on ``app`` (``install_steps`` records
    each one on the app it installs on)."""
    return list(getattr(app, "_hatchet_registries", ()))


class HatchetCrons:
    """The crons of every registry on one Celery app, ticked from a beat's loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.registries = registries_of(app)
        self.tickers = [CronTicker(reg) for reg in self.registries]
        self._next_housekeeping = 0.0  # time.monotonic()

    def tick(self) -> float:
        """One pass; returns the seconds until the next cron tick (at most ``IDLE_WAKE``)."""
        wake = IDLE_WAKE
        for ticker in self.tickers:
            try:
                wake = min(wake, ticker.tick(ticker.registry.engine().now()))
            except Exception:
                log.exception("hatchet_celery beat: cron pass failed; retrying")
                wake = min(wake, ERROR_WAKE)
        self._housekeeping()
        return wake

    def _housekeeping(self) -> None:
        if time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + IDLE_WAKE
        for reg in self.registries:
            engine = reg.engine()
            for hook in engine.extensions.beat_ticks:
                try:
                    hook(engine, engine.now())
                except Exception:
                    log.exception("hatchet_celery beat: %r failed; retrying", hook)


class Scheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery's persistent scheduler, also firing Hatchet crons.

    ``celery -A proj beat -S hatchet_celery.beat:Scheduler``. The app's ``beat_schedule``
    keeps working as with Celery's default scheduler.
    """

    hatchet: HatchetCrons | None = None

    def setup_schedule(self) -> None:
        super().setup_schedule()
        self.hatchet = HatchetCrons(self.app)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        delay: float = super().tick(*args, **kwargs)
        if self.hatchet is not None:
            delay = min(delay, self.hatchet.tick())
        return delay


def _attach_to_beat(sender: Any = None, **_: Any) -> None:
    """``beat_init`` receiver: wrap a non-Hatchet scheduler's ``tick`` with the crons."""
    scheduler = getattr(sender, "scheduler", None)
    if scheduler is None or isinstance(scheduler, Scheduler):
        return
    if getattr(scheduler, "_hatchet_crons", None) is not None:
        return
    crons = HatchetCrons(sender.app)
    if not crons.tickers:
        return
    original = scheduler.tick

    def tick(*args: Any, **kwargs: Any) -> float:
        delay: float = original(*args, **kwargs)
        return min(delay, crons.tick())

    scheduler._hatchet_crons = crons
    scheduler.tick = tick
    log.info("hatchet_celery beat: firing crons from %s", type(scheduler).__name__)


def install() -> None:
    """Connect the ``beat_init`` hook (idempotent; called when the app is built)."""
    from celery.signals import beat_init

    beat_init.connect(_attach_to_beat, weak=False, dispatch_uid="hatchet_celery.beat")


__all__ = ["HatchetCrons", "Scheduler", "install", "registries_of"]
