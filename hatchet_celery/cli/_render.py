"""Plain-text tables and the live view of ``runs watch``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

MAX_CELL = 60
STATUS_COLOURS = {
    "COMPLETED": "green",
    "FAILED": "red",
    "CANCELLED": "yellow",
    "RUNNING": "cyan",
    "QUEUED": "white",
    "ACTIVE": "green",
    "INACTIVE": "yellow",
}


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        value = value.value
    if isinstance(value, datetime):
        return when(value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def duration(ms: int | float | None) -> str:
    if ms is None:
        return "-"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], colour: bool = True) -> str:
    """Left-aligned columns; the STATUS column is coloured on a terminal."""
    texts = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in texts:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    status_col = [i for i, h in enumerate(headers) if h == "STATUS"]

    def line(values: Sequence[str], header: bool = False) -> str:
        parts = []
        for i, text in enumerate(values):
            padded = text.ljust(widths[i]) if i < len(values) - 1 else text
            if header:
                padded = click.style(padded, bold=True) if colour else padded
            elif colour and i in status_col and text in STATUS_COLOURS:
                padded = click.style(padded, fg=STATUS_COLOURS[text])
            parts.append(padded)
        return "  ".join(parts).rstrip()

    out = [line(list(headers), header=True)]
    out.extend(line(row) for row in texts)
    return "\n".join(out)


def to_json(model: Any) -> str:
    if isinstance(model, list):
        return json.dumps([m.model_dump(mode="json") for m in model], indent=2)
    return json.dumps(model.model_dump(mode="json"), indent=2)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0] if text and text.strip() else None
