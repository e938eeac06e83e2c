"""A run's DAG as inline SVG, laid out on the server from the workflow's shape.

The layout is deliberately simple and deterministic: a task's column is the length of the
longest path from a root to it, and inside a column tasks are ordered by the mean row of
their parents (one barycentre pass, which untangles the usual fan-out / fan-in shapes).
An on-failure task has no parents; it gets a column of its own at the end.

Each node is ``<g class="node st-<STATUS>" data-task="<name>">``: the page's script
changes the class and the status text when the run moves, without redrawing the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

NODE_W = 168
NODE_H = 46
GAP_X = 56
GAP_Y = 18
PAD = 12
MAX_LABEL = 22


@dataclass(frozen=True)
class Node:
    name: str
    column: int
    row: int

    @property
    def x(self) -> int:
        return PAD + self.column * (NODE_W + GAP_X)

    @property
    def y(self) -> int:
        return PAD + self.row * (NODE_H + GAP_Y)


def layout(parents: Mapping[str, Sequence[str]], on_failure: str = "") -> dict[str, Node]:
    """Column and row of every task; ``parents`` maps each task to its parent tasks."""
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            ps = [p for p in parents.get(name, ()) if p in parents and p not in seen]
            depth[name] = 1 + max((depth_of(p, seen | {name}) for p in ps), default=-1)
        return depth[name]

    graph = [n for n in parents if n != on_failure]
    columns: dict[int, list[str]] = {}
    for name in graph:
        columns.setdefault(depth_of(name), []).append(name)
    rows: dict[str, int] = {}
    nodes: dict[str, Node] = {}
    for column in sorted(columns):
        names = columns[column]

        def barycentre(name: str, order: int) -> tuple[float, int]:
            ps = [rows[p] for p in parents.get(name, ()) if p in rows]
            return (sum(ps) / len(ps) if ps else float(order), order)

        ranked = sorted(enumerate(names), key=lambda item: barycentre(item[1], item[0]))
        for row, (_, name) in enumerate(ranked):
            rows[name] = row
            nodes[name] = Node(name, column, row)
    if on_failure:
        nodes[on_failure] = Node(on_failure, (max(columns) + 1) if columns else 0, 0)
    return nodes


def _label(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


def render_svg(
    parents: Mapping[str, Sequence[str]],
    statuses: Mapping[str, str],
    on_failure: str = "",
) -> str:
    """The graph as an ``<svg>`` element; ``statuses`` colours each task (CSS classes)."""
    nodes = layout(parents, on_failure)
    if not nodes:
        return '<svg class="dag" width="0" height="0" role="img"></svg>'
    width = max(n.x for n in nodes.values()) + NODE_W + PAD
    height = max(n.y for n in nodes.values()) + NODE_H + PAD
    parts = [
        f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="task graph">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for name, node in nodes.items():
        for parent in parents.get(name, ()):
            p = nodes.get(parent)
            if p is None:
                continue
            x1, y1 = p.x + NODE_W, p.y + NODE_H // 2
            x2, y2 = node.x, node.y + NODE_H // 2
            mid = (x1 + x2) // 2
            parts.append(
                f'<path class="edge" data-from="{escape(parent)}" data-to="{escape(name)}" '
                f'd="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 2},{y2}" '
                f'marker-end="url(#arrow)"/>'
            )
    for name, node in nodes.items():
        status = statuses.get(name, "PENDING")
        extra = " on-failure" if name == on_failure else ""
        parts.append(
            f'<g class="node st-{escape(status)}{extra}" data-task="{escape(name)}" '
            f'transform="translate({node.x},{node.y})">'
            f"<title>{escape(name)}</title>"
            f'<a href="#task-{escape(name)}">'
            f'<rect width="{NODE_W}" height="{NODE_H}" rx="7"/>'
            f'<text class="name" x="10" y="19">{escape(_label(name))}</text>'
            f'<text class="status" x="10" y="36">{escape(status)}</text>'
            "</a></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["Node", "layout", "render_svg"]
