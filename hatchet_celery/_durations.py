"""Durations as Hatchet accepts them: ``timedelta`` or (deprecated) strings like ``"5m"``."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

Duration = timedelta | str

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def to_seconds(value: Duration, *, what: str) -> float:
    """Seconds in ``value``; strings warn as in Hatchet and must look like ``"1h30m"``."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        warnings.warn(
            f"{what}: duration strings are deprecated, pass a timedelta",
            DeprecationWarning,
            stacklevel=3,
        )
        text = value.strip()
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{what}: {value!r} is not a duration like '30s', '5m' or '1h'")
        return sum(float(n) * _UNITS[u] for n, u in parts)
    raise TypeError(f"{what}: expected a timedelta, got {type(value).__name__}")


def render(seconds: float) -> str:
    """Hatchet's wire form: whole hours ``Nh``, whole minutes ``Nm``, else ``Ns``."""
    whole = int(seconds)
    if whole and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole and whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"
