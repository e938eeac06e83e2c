"""Hatchet cron expressions, evaluated as pure functions of the time passed in.

Nothing here reads the clock, Redis or Celery: the beat scheduler hands in ``now`` and the
instant it last looked, so every schedule is tested with literal datetimes (as arq and huey
do) instead of sleeping or patching ``datetime``.

Hatchet accepts 5-field expressions (``minute hour day-of-month month day-of-week``) and
6-field ones whose *leading* field is seconds.  croniter also reads 6 fields, but with the
seconds *last*, so a spec keeps both forms: the user's text (reported back in run metadata
as ``hatchet__cron_expression``) and the croniter-ordered text that is actually evaluated.

All times are UTC, as in Hatchet: naive datetimes are taken as UTC, aware ones are
converted, and every tick returned is tz-aware UTC.  A UTC schedule has no DST gaps or
repeats, so an hourly cron fires 24 times on every calendar day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter

from hatchet_celery.exceptions import DeclarationError

__all__ = [
    "CronSpec",
    "due_tick",
    "next_tick",
    "parse_cron",
    "tick_id",
    "tick_rfc3339",
    "ticks_between",
]

_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELDS_WITH_SECONDS = ("second", *_FIELDS)

# Spelled out rather than left to croniter so that the evaluated form is always plain
# fields (croniter switches some aliases to hashed forms when given a hash id).
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# croniter's ``H`` (hashed) and ``R`` (random) items are not cron: ``R`` picks a new value
# each time an iterator is built, so two beats (or one beat on two passes) would disagree
# about when a tick is due, and fire keys would stop being idempotent.
_NON_CRON_ITEM = re.compile(r"^[hr](?:$|[(/])", re.IGNORECASE)

# Any instant serves for the "does it ever fire" probe: there is no year field, so a
# schedule that fires at all fires within croniter's 50-year search from any start.
_PROBE_START = datetime(2000, 1, 1, tzinfo=UTC)

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class CronSpec:
    """A validated cron expression; build it with ``parse_cron``, not directly.

    Frozen and hashable so the beat can key its per-cron state on it.
    """

    expression: str
    """The expression exactly as declared (what Hatchet reports in run metadata)."""
    has_seconds: bool
    """True for the 6-field form with a leading seconds field."""
    croniter_expression: str
    """The same schedule in croniter's field order (seconds, if any, last)."""


def parse_cron(expression: str, *, what: str = "cron expression") -> CronSpec:
    """Validate ``expression`` at declaration time and return its spec.

    Checked early so a typo fails at import, not at the first tick the beat evaluates.
    ``what`` says where the expression came from; the error message names it and the
    expression, e.g. ``parse_cron("* * *", what="workflow 'x': cron expression")`` raises
    ``DeclarationError("workflow 'x': cron expression '* * *' is not a valid cron
    expression: ...")``.  When ``what`` already quotes the expression it is not repeated.
    """
    if not isinstance(expression, str):
        raise _invalid(what, expression, f"expected a string, got {type(expression).__name__}")
    macro = expression.strip().lower()
    if macro.startswith("@") and macro not in _MACROS:
        raise _invalid(what, expression, f"unknown macro; use one of {', '.join(_MACROS)}")
    fields = _MACROS.get(macro, expression).split()
    if len(fields) not in (5, 6):
        raise _invalid(
            what,
            expression,
            f"expected 5 fields ({' '.join(_FIELDS)}) or 6 with a leading second field, "
            f"got {len(fields)}",
        )
    names = _FIELDS_WITH_SECONDS if len(fields) == 6 else _FIELDS
    for name, field in zip(names, fields, strict=True):
        if any(_NON_CRON_ITEM.match(item) for item in field.split(",")):
            raise _invalid(
                what, expression, f"{name} field {field!r} uses croniter's H/R extension"
            )
    has_seconds = len(fields) == 6
    # Hatchet: "s m h dom mon dow"; croniter: "m h dom mon dow s".
    ordered = [*fields[1:], fields[0]] if has_seconds else fields
    spec = CronSpec(expression, has_seconds, " ".join(ordered))
    try:
        croniter(spec.croniter_expression, _PROBE_START).get_next(datetime)
    except CroniterBadDateError:
        raise _invalid(what, expression, "it never fires") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _invalid(what, expression, _explain(names, fields, has_seconds, exc)) from exc
    return spec


def next_tick(spec: CronSpec, after: datetime) -> datetime:
    """The first tick strictly after ``after`` (UTC, tz-aware).

    Ticks fall on whole seconds, so flooring ``after`` to its second does not change the
    answer and keeps croniter from ever seeing sub-second input.
    """
    start = _to_utc(after).replace(microsecond=0)
    return _result(croniter(spec.croniter_expression, start).get_next(datetime))


def ticks_between(spec: CronSpec, start: datetime, end: datetime) -> list[datetime]:
    """Every tick ``t`` with ``start < t <= end``, oldest first (UTC, tz-aware).

    Half-open on the left so consecutive windows ``(a, b]``, ``(b, c]`` never share a
    tick.  The list is as long as the window holds ticks: keep windows short for
    per-second crons.  The beat itself uses ``due_tick``, which does not back-fill.
    """
    lo, hi = _to_utc(start), _to_utc(end)
    ticks: list[datetime] = []
    if hi <= lo:
        return ticks
    iterator = croniter(spec.croniter_expression, lo.replace(microsecond=0))
    while (tick := _result(iterator.get_next(datetime))) <= hi:
        ticks.append(tick)
    return ticks


def due_tick(spec: CronSpec, last_checked: datetime, now: datetime) -> datetime | None:
    """The most recent tick in ``(last_checked, now]``, or None if there is none.

    Hatchet does not back-fill: ticks missed while no beat ran are dropped, and only the
    latest one fires.  Found by one backwards step from ``now`` (not by walking forward
    from ``last_checked``), so a beat that was down for a day costs the same as one that
    was down for a second, even for a per-second cron.
    """
    lo, hi = _to_utc(last_checked), _to_utc(now)
    if hi <= lo:
        return None
    # croniter's get_prev is strictly before its start; starting one second after the
    # floored ``now`` makes it "at or before now", so a tick at exactly ``now`` is due.
    start = hi.replace(microsecond=0) + _SECOND
    latest = _result(croniter(spec.croniter_expression, start).get_prev(datetime))
    return latest if latest > lo else None


def tick_id(spec: CronSpec, tick: datetime) -> str:
    """A stable id for ``tick``: its UTC epoch seconds, e.g. ``"1704110400"``.

    Fire keys combine it with the cron's own identity, so the id only has to tell ticks of
    one spec apart; epoch seconds do that independently of time zone and formatting, and a
    per-second cron still gets one id per tick.  ``spec`` is taken so the format stays owned
    here should a schedule ever need finer ids.
    """
    return str(calendar.timegm(_to_utc(tick).timetuple()))


def tick_rfc3339(tick: datetime) -> str:
    """``tick`` as Hatchet writes ``hatchet__cron_scheduled_at``: ``2024-01-01T12:00:00Z``."""
    return _to_utc(tick).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_utc(value: datetime) -> datetime:
    """Naive datetimes are UTC (as Hatchet assumes); aware ones are converted."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _result(value: Any) -> datetime:
    """croniter is untyped; pin its return to an aware UTC datetime."""
    if not isinstance(value, datetime):  # pragma: no cover - croniter contract
        raise TypeError(f"croniter returned {type(value).__name__}, expected datetime")
    return _to_utc(value)


def _explain(
    names: tuple[str, ...], fields: list[str], has_seconds: bool, exc: BaseException
) -> str:
    """Name the offending field: croniter's own message quotes the reordered expression.

    Each field is re-checked alone (the others set to ``*``); if none fails alone the
    problem is in how they combine, and croniter's wording is kept.
    """
    for index, (name, field) in enumerate(zip(names, fields, strict=True)):
        alone = ["*"] * len(fields)
        alone[index] = field
        ordered = [*alone[1:], alone[0]] if has_seconds else alone
        try:
            croniter(" ".join(ordered), _PROBE_START)
        except (ValueError, TypeError, KeyError) as field_exc:
            return f"bad {name} field {field!r} ({_strip_expression(field_exc)})"
    return _strip_expression(exc)


def _strip_expression(exc: BaseException) -> str:
    """croniter prefixes messages with ``[<its own form of the expression>]``; drop it."""
    text = re.sub(r"^\[[^\]]*\]\s*(?:is\s+)?", "", str(exc)).strip()
    return text or type(exc).__name__


def _invalid(what: str, expression: object, reason: str) -> DeclarationError:
    shown = repr(expression)
    subject = what if shown in what else f"{what} {shown}"
    return DeclarationError(f"{subject} is not a valid cron expression: {reason}")
