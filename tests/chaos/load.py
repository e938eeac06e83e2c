"""Submitting the mixed load of the chaos cases, and recording their figures."""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.apps.workflows import RL_LIMIT, Declared, Step


@dataclass
class Submitted:
    """Run ids accepted per kind (``run_no_wait`` returned them), and pushed events."""

    by_kind: dict[str, list[str]] = field(default_factory=dict)
    events: int = 0

    @property
    def run_ids(self) -> list[str]:
        return [r for ids in self.by_kind.values() for r in ids]

    def add(self, kind: str, ids: list[str]) -> None:
        self.by_kind.setdefault(kind, []).extend(ids)


# rate-limited runs arrive at once, 3 s worth of the bucket's rate per burst
RL_BURST = 3 * RL_LIMIT
# share of each kind in the mixed load (rate-limited runs come in bursts, see below)
MIX = (("dag", 0.55), ("conc", 0.2), ("durable", 0.1), ("event", 0.05))


def submit_mixed(
    hatchet: Any, wf: Declared, n: int, seconds: float, seed: int = 1, rl_share: float = 0.1
) -> Submitted:
    """About ``n`` runs over ``seconds``: DAGs (some failing their first attempt of ``b``),
    concurrency-keyed tasks, durable sleeps, event-triggered runs, and rate-limited tasks
    in bursts far above the bucket's rate (so the limit has something to hold back)."""
    rng = random.Random(seed)
    out = Submitted()
    bursts = max(1, round(n * rl_share / RL_BURST))
    n_rl = bursts * RL_BURST
    plan: list[str] = rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=n - n_rl)
    ticks = max(1, int(seconds / 0.2))
    per_tick = max(1, len(plan) // ticks + 1)
    burst_at = {int(ticks * (i + 1) / (bursts + 1)) for i in range(bursts)}
    started = time.time()
    for tick in range(ticks + 1):
        chunk, plan = plan[:per_tick], plan[per_tick:]
        _submit_chunk(hatchet, wf, chunk, rng, out)
        if tick in burst_at:
            items = [wf.rl.create_bulk_run_item(Step(ms=0)) for _ in range(RL_BURST)]
            out.add("rl", [r.workflow_run_id for r in wf.rl.run_many_no_wait(items)])
        delay = started + (tick + 1) * 0.2 - time.time()
        if delay > 0:
            time.sleep(delay)
    _submit_chunk(hatchet, wf, plan, rng, out)
    return out


def _submit_chunk(
    hatchet: Any, wf: Declared, chunk: list[str], rng: random.Random, out: Submitted
) -> None:
    for kind in ("dag", "conc", "durable"):
        count = chunk.count(kind)
        if not count:
            continue
        target = getattr(wf, kind)
        items = [target.create_bulk_run_item(_input(kind, rng)) for _ in range(count)]
        out.add(kind, [r.workflow_run_id for r in target.run_many_no_wait(items)])
    for _ in range(chunk.count("event")):
        hatchet.event.push("chaos:event", {"ms": 5})
        out.events += 1


def _input(kind: str, rng: random.Random) -> Step:
    if kind == "dag":
        return Step(ms=rng.randint(5, 60), fail_first=rng.random() < 0.1)
    if kind == "conc":
        return Step(ms=rng.randint(20, 150), key=f"k{rng.randint(0, 3)}")
    return Step(ms=rng.randint(5, 30))


def event_run_ids(hatchet: Any, wf: Declared) -> list[str]:
    engine = hatchet._registry.engine()
    return list(engine.store.redis.zrange(engine.keys.index("wf", wf.event.name), 0, -1))


def record_figures(case: str, **figures: Any) -> None:
    """Append the figures of a case to ``$HATCHET_CELERY_CHAOS_REPORT`` (docs/reliability.md
    quotes them) and print them (``pytest -s``)."""
    line = json.dumps({"case": case, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **figures})
    print(line)
    path = os.environ.get("HATCHET_CELERY_CHAOS_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
