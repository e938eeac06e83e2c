"""What a timer handler returns to the pump (``timing/timers.py``): ``DONE`` or
``Rearm(at)``. In the core layer, so the handlers of every layer (gates, waits, time) can
return them without importing the pump that calls them."""

from __future__ import annotations

from dataclasses import dataclass

# How long a claimed timer entry stays away from other pumps (``claim_due.lua``).
CLAIM_LEASE = 30.0


class Done:
    """The entry's work is over: the pump removes it."""

    def __repr__(self) -> str:
        return "DONE"


DONE = Done()


@dataclass(frozen=True)
class Rearm:
    """Handle the entry again at ``at`` (epoch seconds): the pump re-scores it."""

    at: float


Outcome = Done | Rearm


def retry_later(now: float) -> Rearm:
    """Leave the entry as if its handler had died: due again a claim lease from ``now``
    (a process lacking the code of the entry's task, or a script that may have left the
    entry alone for a later look)."""
    return Rearm(now + CLAIM_LEASE)


__all__ = ["CLAIM_LEASE", "DONE", "Done", "Outcome", "Rearm", "retry_later"]
