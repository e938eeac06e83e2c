"""Values the runtime computes once per declaration (compiled concurrency keys, rate-limit
specs...), kept beside the declaration rather than written onto it: declarations stay
what the user built, and a redeclared workflow (a new object under the same name) gets
its own values."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Derived(Generic[K, V]):
    """``build(owner)``, computed on first use per owner object (by identity), and again
    when ``current(owner, value)`` says the owner has changed since (a workflow that got
    more tasks after its first trigger)."""

    def __init__(
        self, build: Callable[[K], V], current: Callable[[K, V], bool] | None = None
    ) -> None:
        self._build = build
        self._current = current
        self._values: dict[int, tuple[weakref.ref[Any], V]] = {}
        self._lock = threading.Lock()

    def __call__(self, owner: K) -> V:
        entry = self._values.get(id(owner))
        if entry is not None and entry[0]() is owner and self._still_current(owner, entry[1]):
            return entry[1]
        value = self._build(owner)  # outside the lock: it may compile CEL, or raise
        with self._lock:
            self._values[id(owner)] = (weakref.ref(owner), value)
        return value

    def _still_current(self, owner: K, value: V) -> bool:
        return self._current is None or self._current(owner, value)


__all__ = ["Derived"]
