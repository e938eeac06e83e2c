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
    """``build(owner)``, computed on first use per owner object (by identity)."""

    def __init__(self, build: Callable[[K], V]) -> None:
        self._build = build
        self._values: dict[int, tuple[weakref.ref[Any], V]] = {}
        self._lock = threading.Lock()

    def __call__(self, owner: K) -> V:
        entry = self._values.get(id(owner))
        if entry is not None and entry[0]() is owner:
            return entry[1]
        value = self._build(owner)  # outside the lock: it may compile CEL, or raise
        with self._lock:
            self._values[id(owner)] = (weakref.ref(owner), value)
        return value


__all__ = ["Derived"]
