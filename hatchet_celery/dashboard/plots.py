"""Small line plots as inline SVG (the metrics page): no charting library, no script."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
HEIGHT = 160
PAD_LEFT = 44
PAD = 10


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def line_plot(series: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    """One polyline per ``(label, values)``; ``None`` values leave a gap."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=0.0) or 1.0
    count = max((len(vs) for _, vs in series), default=0)
    inner_w = WIDTH - PAD_LEFT - PAD
    inner_h = HEIGHT - 2 * PAD

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / max(1, count - 1))

    def y(v: float) -> float:
        return PAD + inner_h - inner_h * v / top

    parts = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT + 18}" viewBox="0 0 {WIDTH} {HEIGHT + 18}" role="img">',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD + inner_h}" x2="{WIDTH - PAD}" '
        f'y2="{PAD + inner_h}"/>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD}" x2="{PAD_LEFT}" y2="{PAD + inner_h}"/>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD + 4}" text-anchor="end">{_fmt(top)}</text>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD + inner_h}" text-anchor="end">0</text>',
        f'<text class="tick" x="{PAD_LEFT}" y="{HEIGHT + 14}">-60 min</text>',
        f'<text class="tick" x="{WIDTH - PAD}" y="{HEIGHT + 14}" text-anchor="end">now</text>',
    ]
    for n, (label, vs) in enumerate(series):
        segments: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                segments.append([])
            else:
                segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for points in segments:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                parts.append(f'<circle class="s{n}" cx="{cx}" cy="{cy}" r="2"/>')
            elif points:
                parts.append(f'<polyline class="s{n}" points="{" ".join(points)}"/>')
        parts.append(
            f'<text class="legend s{n}" x="{WIDTH - PAD - 4}" y="{PAD + 10 + 13 * n}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["line_plot"]
