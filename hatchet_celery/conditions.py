"""Conditions for ``wait_for`` / ``skip_if`` / ``cancel_if`` and durable waits.

Hatchet's combination rule (CNF): every plain condition is its own OR-group; ``or_``
puts its members in one group; groups are ANDed. There is no ``and_``.
"""

from __future__ import annotations

import uuid
from abc import ABC
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from hatchet_celery._durations import Duration, render, to_seconds

if TYPE_CHECKING:
    from hatchet_celery.runnables.task import Task


class Action(str, Enum):
    QUEUE = "QUEUE"
    SKIP = "SKIP"
    CANCEL = "CANCEL"


class Condition(ABC):
    """A thing to wait for; ``readable_data_key`` names its result."""

    readable_data_key: str

    def __init__(self, readable_data_key: str) -> None:
        self.readable_data_key = readable_data_key
        self.or_group_id = str(uuid.uuid4())


class SleepCondition(Condition):
    def __init__(self, duration: Duration, readable_data_key: str | None = None) -> None:
        self.duration = duration
        self.seconds = to_seconds(duration, what="SleepCondition duration")
        if self.seconds < 0:
            raise ValueError("SleepCondition duration must not be negative")
        super().__init__(readable_data_key or f"sleep:{render(self.seconds)}")


class UserEventCondition(Condition):
    def __init__(
        self,
        event_key: str,
        expression: str | None = None,
        readable_data_key: str | None = None,
        scope: str | None = None,
        consider_events_since: datetime | None = None,
    ) -> None:
        if not event_key:
            raise ValueError("UserEventCondition needs an event_key")
        self.event_key = event_key
        self.expression = expression
        self.scope = scope
        self.consider_events_since = consider_events_since
        super().__init__(readable_data_key or event_key)


class ParentCondition(Condition):
    def __init__(
        self,
        parent: Task[Any, Any],
        expression: str | None = None,
        readable_data_key: str | None = None,
    ) -> None:
        self.parent = parent
        self.expression = expression
        default = parent.name + (f":{expression}" if expression else "")
        default += ":" + datetime.now(UTC).isoformat()
        super().__init__(readable_data_key or default)


class OrGroup:
    def __init__(self, conditions: list[Condition]) -> None:
        if not conditions:
            raise ValueError("or_() needs at least one condition")
        self.or_group_id = str(uuid.uuid4())
        self.conditions = list(conditions)
        for c in self.conditions:
            c.or_group_id = self.or_group_id


def or_(*conditions: Condition) -> OrGroup:
    return OrGroup(list(conditions))


def flatten(items: list[Condition | OrGroup] | None) -> list[list[Condition]]:
    """CNF groups: each inner list is ORed, the outer list ANDed."""
    groups: list[list[Condition]] = []
    for item in items or []:
        if isinstance(item, OrGroup):
            groups.append(list(item.conditions))
        elif isinstance(item, Condition):
            groups.append([item])
        else:
            raise TypeError(f"expected a Condition or or_(...) group, got {type(item).__name__}")
    return groups


# ``Action`` stays importable from here; the root package re-exports this list.
__all__ = [
    "Condition",
    "OrGroup",
    "ParentCondition",
    "SleepCondition",
    "UserEventCondition",
    "or_",
]
