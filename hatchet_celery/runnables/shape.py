"""A workflow's run-time shape, computed once from its declaration.

The Lua transitions get everything they need about the DAG from here (children with
their parent counts, descendants to block on failure), so no script reads a
declaration from Redis and no hot path walks the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shape:
    roots: tuple[str, ...]
    parents: dict[str, tuple[str, ...]]
    children: dict[str, tuple[tuple[str, int], ...]]
    descendants: dict[str, tuple[str, ...]]
    ntasks: int
    on_failure: str

    @classmethod
    def build(cls, workflow: Any) -> Shape:
        graph_tasks = [*workflow.default_tasks, *workflow.durable_tasks]
        parents: dict[str, tuple[str, ...]] = {
            t.name: tuple(p.name for p in t.parents) for t in graph_tasks
        }
        if workflow.on_success is not None:
            has_children = {p for ps in parents.values() for p in ps}
            leaves = tuple(n for n in parents if n not in has_children)
            parents[workflow.on_success.name] = leaves
        children: dict[str, list[tuple[str, int]]] = {name: [] for name in parents}
        for name, ps in parents.items():
            for p in ps:
                children[p].append((name, len(ps)))
        descendants: dict[str, tuple[str, ...]] = {}

        def walk(name: str) -> tuple[str, ...]:
            if name not in descendants:
                found: dict[str, None] = {}
                for child, _ in children[name]:
                    found[child] = None
                    for d in walk(child):
                        found[d] = None
                descendants[name] = tuple(found)
            return descendants[name]

        for name in parents:
            walk(name)
        on_failure = workflow.on_failure.name if workflow.on_failure is not None else ""
        if on_failure:
            parents[on_failure] = ()
            children[on_failure] = []
            descendants[on_failure] = ()
        return cls(
            roots=tuple(n for n, ps in parents.items() if not ps and n != on_failure),
            parents=parents,
            children={k: tuple(v) for k, v in children.items()},
            descendants=descendants,
            ntasks=len(parents),
            on_failure=on_failure,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "roots": list(self.roots),
            "parents": {k: list(v) for k, v in self.parents.items()},
            "on_failure": self.on_failure,
        }
