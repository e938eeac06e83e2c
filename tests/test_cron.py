"""Cron evaluation, pinned with literal datetimes: the clock is an argument, never read.

2024-01-01 was a Monday; every datetime below is UTC unless the test is about zones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hatchet_celery._cron import (
    CronSpec,
    due_tick,
    next_tick,
    parse_cron,
    tick_id,
    tick_rfc3339,
    ticks_between,
)
from hatchet_celery.exceptions import DeclarationError


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc, arg-type]


# --- parsing ---------------------------------------------------------------------------------


def test_five_fields_have_no_seconds() -> None:
    spec = parse_cron("*/15 * * * *")
    assert spec == CronSpec("*/15 * * * *", False, "*/15 * * * *")


def test_six_fields_move_leading_seconds_to_croniters_last_place() -> None:
    spec = parse_cron("5 30 * * * *")
    assert spec.has_seconds
    assert spec.expression == "5 30 * * * *"
    assert spec.croniter_expression == "30 * * * * 5"


def test_declared_text_is_kept_verbatim_and_whitespace_is_tolerated() -> None:
    spec = parse_cron("  0   9 * *  1 ")
    assert spec.expression == "  0   9 * *  1 "
    assert next_tick(spec, utc(2024, 1, 1, 9)) == utc(2024, 1, 8, 9)


@pytest.mark.parametrize(
    ("macro", "after", "expected"),
    [
        ("@hourly", utc(2024, 1, 1, 12, 30), utc(2024, 1, 1, 13)),
        ("@daily", utc(2024, 1, 1, 12), utc(2024, 1, 2)),
        ("@midnight", utc(2024, 1, 1, 12), utc(2024, 1, 2)),
        ("@weekly", utc(2024, 1, 1), utc(2024, 1, 7)),  # Sunday
        ("@monthly", utc(2024, 1, 15), utc(2024, 2, 1)),
        ("@yearly", utc(2024, 1, 1), utc(2025, 1, 1)),
        ("@annually", utc(2024, 6, 1), utc(2025, 1, 1)),
        ("@HOURLY", utc(2024, 1, 1, 12, 30), utc(2024, 1, 1, 13)),
    ],
)
def test_macros(macro: str, after: datetime, expected: datetime) -> None:
    spec = parse_cron(macro)
    assert not spec.has_seconds
    assert spec.expression == macro
    assert next_tick(spec, after) == expected


def test_specs_are_hashable_values() -> None:
    assert parse_cron("0 * * * *") == parse_cron("0 * * * *")
    assert len({parse_cron("0 * * * *"), parse_cron("0 * * * *")}) == 1


# --- next_tick ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2024, 1, 1, 12, 0, 30), utc(2024, 1, 1, 12, 1)),
        (utc(2024, 1, 1, 12, 0, 59, 999_999), utc(2024, 1, 1, 12, 1)),
        (utc(2024, 1, 1, 12, 1), utc(2024, 1, 1, 12, 2)),  # exactly on a tick: strictly after
        (utc(2024, 1, 1, 23, 59), utc(2024, 1, 2, 0, 0)),
    ],
)
def test_every_minute(after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron("* * * * *"), after) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2024, 1, 1, 12, 7), utc(2024, 1, 1, 12, 15)),
        (utc(2024, 1, 1, 12, 15), utc(2024, 1, 1, 12, 30)),
        (utc(2024, 1, 1, 12, 14, 59), utc(2024, 1, 1, 12, 15)),
        (utc(2024, 1, 1, 12, 50), utc(2024, 1, 1, 13, 0)),
    ],
)
def test_every_quarter_hour(after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron("*/15 * * * *"), after) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2024, 1, 1, 12), utc(2024, 1, 1, 12, 0, 1)),
        (utc(2024, 1, 1, 12, 0, 0, 500_000), utc(2024, 1, 1, 12, 0, 1)),
        (utc(2024, 1, 1, 12, 0, 59), utc(2024, 1, 1, 12, 1)),
    ],
)
def test_every_second(after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron("* * * * * *"), after) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2024, 1, 1, 12, 0, 3), utc(2024, 1, 1, 12, 0, 5)),
        (utc(2024, 1, 1, 12, 0, 5), utc(2024, 1, 1, 12, 0, 10)),
        (utc(2024, 1, 1, 12, 0, 57), utc(2024, 1, 1, 12, 1, 0)),
    ],
)
def test_every_five_seconds(after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron("*/5 * * * * *"), after) == expected


def test_leading_field_is_seconds_not_minutes() -> None:
    # Read in croniter's order this would be "minute 15, hour 30": invalid, or a
    # different schedule.  Hatchet's order means second 15 of minute 30 of every hour.
    spec = parse_cron("15 30 * * * *")
    assert next_tick(spec, utc(2024, 1, 1, 12)) == utc(2024, 1, 1, 12, 30, 15)
    assert next_tick(spec, utc(2024, 1, 1, 12, 30, 15)) == utc(2024, 1, 1, 13, 30, 15)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 9 * * 1", utc(2024, 1, 3, 12), utc(2024, 1, 8, 9)),  # Wed -> next Mon
        ("0 9 * * 1", utc(2024, 1, 8, 9), utc(2024, 1, 15, 9)),
        ("0 9 * * mon-fri", utc(2024, 1, 5, 17), utc(2024, 1, 8, 9)),  # skips the weekend
        ("0 9 * * 0", utc(2024, 1, 1), utc(2024, 1, 7, 9)),
        ("0 9 * * 7", utc(2024, 1, 1), utc(2024, 1, 7, 9)),  # 7 is Sunday too
        ("0 0 * * SAT,SUN", utc(2024, 1, 1), utc(2024, 1, 6)),
        ("0 9 ? * 1", utc(2024, 1, 3), utc(2024, 1, 8, 9)),
    ],
)
def test_day_of_week(expression: str, after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron(expression), after) == expected


def test_day_of_month_and_day_of_week_combine_with_or_as_in_cron() -> None:
    # 2024-09-01 is a Sunday: the first Friday (the 6th) comes before the 13th.
    spec = parse_cron("0 0 13 * 5")
    assert ticks_between(spec, utc(2024, 9, 1), utc(2024, 9, 20)) == [
        utc(2024, 9, 6),
        utc(2024, 9, 13),
        utc(2024, 9, 20),
    ]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 1 * *", utc(2024, 1, 31, 23, 59, 59), utc(2024, 2, 1)),
        ("0 0 31 * *", utc(2024, 1, 31), utc(2024, 3, 31)),  # no 31st in February
        ("0 0 30 * *", utc(2024, 1, 30), utc(2024, 3, 30)),
        ("0 0 29 2 *", utc(2024, 3, 1), utc(2028, 2, 29)),  # next leap year
        ("0 0 * * *", utc(2023, 12, 31, 12), utc(2024, 1, 1)),
        ("59 23 31 12 *", utc(2023, 12, 31, 23, 59), utc(2024, 12, 31, 23, 59)),
        ("0 12 1 jan,jul *", utc(2024, 1, 1, 12), utc(2024, 7, 1, 12)),
        ("0 0 0 1 * *", utc(2024, 4, 30, 23, 59, 59), utc(2024, 5, 1)),
    ],
)
def test_month_and_year_boundaries(expression: str, after: datetime, expected: datetime) -> None:
    assert next_tick(parse_cron(expression), after) == expected


# --- time zones -----------------------------------------------------------------------------


def test_naive_input_is_utc_and_output_is_aware_utc() -> None:
    tick = next_tick(parse_cron("* * * * *"), datetime(2024, 1, 1, 12, 0, 30))
    assert tick == utc(2024, 1, 1, 12, 1)
    assert tick.utcoffset() == timedelta(0)


def test_aware_input_in_another_zone_is_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    spec = parse_cron("0 9 * * *")
    # 10:00 at +02:00 is 08:00 UTC: the 09:00 UTC tick of the same day is next.
    tick = next_tick(spec, datetime(2024, 1, 1, 10, tzinfo=plus_two))
    assert tick == utc(2024, 1, 1, 9)
    assert tick.tzinfo is UTC


@pytest.mark.parametrize("day", [utc(2024, 3, 10), utc(2024, 3, 31), utc(2024, 11, 3)])
def test_utc_schedules_have_no_dst_gaps_or_repeats(day: datetime) -> None:
    # US and EU DST change dates: an hourly UTC cron still fires 24 evenly spaced times.
    ticks = ticks_between(parse_cron("0 * * * *"), day - timedelta(seconds=1), day.replace(hour=23))
    assert ticks == [day + timedelta(hours=h) for h in range(24)]


# --- ticks_between --------------------------------------------------------------------------


def test_ticks_between_excludes_start_and_includes_end() -> None:
    spec = parse_cron("* * * * *")
    assert ticks_between(spec, utc(2024, 1, 1, 12), utc(2024, 1, 1, 12, 3)) == [
        utc(2024, 1, 1, 12, 1),
        utc(2024, 1, 1, 12, 2),
        utc(2024, 1, 1, 12, 3),
    ]


def test_adjacent_windows_never_share_a_tick() -> None:
    spec = parse_cron("*/15 * * * *")
    first = ticks_between(spec, utc(2024, 1, 1, 12), utc(2024, 1, 1, 12, 30))
    second = ticks_between(spec, utc(2024, 1, 1, 12, 30), utc(2024, 1, 1, 13))
    assert first == [utc(2024, 1, 1, 12, 15), utc(2024, 1, 1, 12, 30)]
    assert second == [utc(2024, 1, 1, 12, 45), utc(2024, 1, 1, 13)]


def test_ticks_between_every_five_seconds_over_one_minute() -> None:
    ticks = ticks_between(parse_cron("*/5 * * * * *"), utc(2024, 1, 1, 12), utc(2024, 1, 1, 12, 1))
    assert ticks == [utc(2024, 1, 1, 12) + timedelta(seconds=s) for s in range(5, 61, 5)]


def test_ticks_between_empty_or_reversed_window() -> None:
    spec = parse_cron("* * * * * *")
    assert ticks_between(spec, utc(2024, 1, 1, 12), utc(2024, 1, 1, 12)) == []
    assert ticks_between(spec, utc(2024, 1, 1, 12, 1), utc(2024, 1, 1, 12)) == []
    assert ticks_between(parse_cron("0 0 * * *"), utc(2024, 1, 1, 1), utc(2024, 1, 1, 23)) == []


# --- due_tick -------------------------------------------------------------------------------


def test_due_tick_none_when_window_holds_no_tick() -> None:
    spec = parse_cron("0 * * * *")
    assert due_tick(spec, utc(2024, 1, 1, 12, 0, 1), utc(2024, 1, 1, 12, 59, 59)) is None


def test_due_tick_includes_now_and_excludes_last_checked() -> None:
    spec = parse_cron("0 * * * *")
    assert due_tick(spec, utc(2024, 1, 1, 12, 59, 59), utc(2024, 1, 1, 13)) == utc(2024, 1, 1, 13)
    assert due_tick(spec, utc(2024, 1, 1, 13), utc(2024, 1, 1, 13, 59, 59)) is None


def test_due_tick_does_not_back_fill_missed_ticks() -> None:
    # The beat was down from 12:30 to 15:10: 13:00 and 14:00 are dropped, 15:00 fires.
    spec = parse_cron("0 * * * *")
    assert due_tick(spec, utc(2024, 1, 1, 12, 30), utc(2024, 1, 1, 15, 10)) == utc(2024, 1, 1, 15)


def test_due_tick_after_a_long_outage_of_a_per_second_cron() -> None:
    spec = parse_cron("* * * * * *")
    now = utc(2024, 1, 2, 12, 0, 0, 250_000)
    assert due_tick(spec, utc(2024, 1, 1, 12), now) == utc(2024, 1, 2, 12)


def test_due_tick_none_when_clock_did_not_advance() -> None:
    spec = parse_cron("* * * * * *")
    assert due_tick(spec, utc(2024, 1, 1, 12), utc(2024, 1, 1, 12)) is None
    assert due_tick(spec, utc(2024, 1, 1, 12, 0, 5), utc(2024, 1, 1, 12)) is None


def test_due_tick_sub_second_window_straddling_a_tick() -> None:
    spec = parse_cron("* * * * * *")
    last, now = utc(2024, 1, 1, 12, 0, 0, 900_000), utc(2024, 1, 1, 12, 0, 1, 100_000)
    assert due_tick(spec, last, now) == utc(2024, 1, 1, 12, 0, 1)
    assert (
        due_tick(spec, utc(2024, 1, 1, 12, 0, 1, 100_000), utc(2024, 1, 1, 12, 0, 1, 900_000))
        is None
    )


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("*/15 * * * *", utc(2024, 1, 1, 12, 1), utc(2024, 1, 1, 14, 44, 59)),
        ("0 9 * * mon-fri", utc(2024, 1, 4, 10), utc(2024, 1, 9)),
        ("0 0 13 * 5", utc(2024, 9, 1), utc(2024, 10, 1)),
        ("*/5 * * * * *", utc(2024, 1, 1, 12, 0, 1), utc(2024, 1, 1, 12, 3, 7)),
        ("0 0 31 * *", utc(2024, 1, 1), utc(2024, 6, 15)),
    ],
)
def test_due_tick_is_the_last_of_ticks_between(
    expression: str, start: datetime, end: datetime
) -> None:
    spec = parse_cron(expression)
    assert due_tick(spec, start, end) == ticks_between(spec, start, end)[-1]


# --- tick ids -------------------------------------------------------------------------------


def test_tick_id_is_utc_epoch_seconds() -> None:
    spec = parse_cron("0 * * * *")
    assert tick_id(spec, utc(2024, 1, 1, 12)) == "1704110400"
    assert tick_id(spec, datetime(2024, 1, 1, 12)) == "1704110400"
    assert tick_id(spec, datetime(2024, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))) == (
        "1704110400"
    )


def test_tick_ids_differ_per_second() -> None:
    spec = parse_cron("* * * * * *")
    ticks = ticks_between(spec, utc(2024, 1, 1, 12), utc(2024, 1, 1, 12, 0, 10))
    assert len({tick_id(spec, t) for t in ticks}) == 10


def test_tick_rfc3339() -> None:
    assert tick_rfc3339(utc(2024, 1, 1, 12, 0, 5)) == "2024-01-01T12:00:05Z"
    plus_two = timezone(timedelta(hours=2))
    assert tick_rfc3339(datetime(2024, 1, 1, 1, tzinfo=plus_two)) == "2023-12-31T23:00:00Z"


# --- bad expressions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "   ",
        "* * *",
        "* * * *",
        "0 0 1 1 * 2024",  # 6 fields, but the "year" is read as day-of-week
        "* * * * * * *",  # croniter's year field: not Hatchet syntax
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "60 * * * * *",
        "*/0 * * * *",
        "a b c d e",
        "every minute",
        "1,,2 * * * *",
        "% * * * *",
        "0 0 30 2 *",  # never fires
        "0 0 31 4,6,9,11 *",  # never fires
        "H * * * *",  # croniter's hashed extension
        "R * * * *",  # croniter's random extension: not deterministic
        "0 R(0-5) * * *",
        "@reboot",
        "@every 5m",
    ],
)
def test_bad_expressions_raise_declaration_error(expression: str) -> None:
    with pytest.raises(DeclarationError) as caught:
        parse_cron(expression, what="workflow 'nightly': cron expression")
    message = str(caught.value)
    assert repr(expression) in message
    assert "workflow 'nightly'" in message
    assert isinstance(caught.value, ValueError)


def test_error_names_the_offending_field() -> None:
    with pytest.raises(DeclarationError, match=r"bad second field '61'"):
        parse_cron("61 * * * * *")
    with pytest.raises(DeclarationError, match=r"bad hour field '25'"):
        parse_cron("0 25 * * *")


def test_default_what_and_what_that_already_quotes_the_expression() -> None:
    with pytest.raises(DeclarationError) as plain:
        parse_cron("* * *")
    assert str(plain.value).startswith("cron expression '* * *' is not a valid cron expression:")
    with pytest.raises(DeclarationError) as quoted:
        parse_cron("* * *", what="cron expression '* * *' of workflow 'x'")
    assert str(quoted.value).startswith(
        "cron expression '* * *' of workflow 'x' is not a valid cron expression:"
    )


def test_non_string_expression_is_rejected() -> None:
    with pytest.raises(DeclarationError, match="expected a string"):
        parse_cron(15)  # type: ignore[arg-type]
