"""Figures, their targets, the printed table and the saved JSON.

A ``Figure`` holds one measured quantity for both contenders (plain Celery may be absent
for figures Celery has no counterpart of) and the target it is held to. The ratio is
always ``hatchet_celery / plain Celery`` in the figure's own unit, so "0.9x" reads the
same way for throughput (lower is worse) and latency (lower is better); ``better`` says
which direction wins.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    hatchet: float | None
    celery: float | None = None
    better: str = "lower"  # or "higher"
    # Target on the ratio (when celery is given) or on the hatchet value itself.
    target: float | None = None
    target_on: str = "ratio"  # "ratio" or "value"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.hatchet is None or not self.celery:
            return None
        return self.hatchet / self.celery

    @property
    def holds(self) -> bool | None:
        """Whether the target holds (None: no target, or nothing measured)."""
        if self.target is None:
            return None
        value = self.ratio if self.target_on == "ratio" else self.hatchet
        if value is None:
            return None
        return value >= self.target if self.better == "higher" else value <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op = ">=" if self.better == "higher" else "<="
        suffix = "x" if self.target_on == "ratio" else f" {self.unit}"
        return f"{op} {self.target:g}{suffix}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["holds"] = self.holds
        return data


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(figures: list[Figure]) -> str:
    header = ("figure", "unit", "celery", "hatchet_celery", "ratio", "target", "holds")
    rows = [header]
    for f in figures:
        holds = {True: "yes", False: "NO", None: ""}[f.holds]
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        rows.append(
            (f.label, f.unit, _num(f.celery), _num(f.hatchet), ratio, f.target_text(), holds)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {f.label}: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def save(
    tables: list[tuple[str, list[Figure]]], meta: dict[str, Any], folder: Path = RESULTS
) -> Path:
    """One JSON file per run: the figures of each table (one per worker pool)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / time.strftime("bench-%Y%m%d-%H%M%S.json")
    payload = {
        "meta": meta,
        "tables": [{"title": t, "figures": [f.to_json() for f in fs]} for t, fs in tables],
    }
    path.write_text(json.dumps(payload, indent=2))
    (folder / "latest.json").write_text(json.dumps(payload, indent=2))
    return path
