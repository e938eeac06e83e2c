"""Crons fired by Celery beat: declared ``on_crons`` and crons created at run time.

The ticker is driven with literal instants first (two beats, a restart, no back-fill,
run-time crons), then real ``celery beat`` processes on tests/apps/sched_beat.py: one
with ``-S hatchet_celery.beat:Scheduler``, one plain, fire a per-second cron exactly
once per tick while one of them is killed and restarted, and pick up a cron created at
run time without a restart.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet
from hatchet_celery._runtime.timing.crons import CronTicker, claim_tick
from hatchet_celery.exceptions import DeclarationError, TriggerNotFoundError
from tests.apps import hatchet, sched_beat

ROOT = Path(__file__).resolve().parent.parent


# --- the ticker, with the time passed in --------------------------------------------------
class Label(BaseModel):
    label: str = "unset"


def make_hatchet(namespace: str) -> tuple[Hatchet, Any]:
    h = Hatchet(config=ClientConfig(namespace=namespace))
    wf = h.workflow(
        name="BeatUnit",
        input_validator=Label,
        on_crons=["* * * * * *"],
        cron_input=Label(label="declared"),
    )

    @wf.task()
    def step(input: Label, ctx: Context) -> dict[str, str]:
        return {"label": input.label}

    return h, wf


def cron_runs(h: Hatchet) -> list[tuple[dict[str, Any], dict[str, Any], int]]:
    """(metadata, input, priority) of every run in the namespace of ``h``."""
    engine = h._registry.engine()
    redis = engine.store.redis
    ids = redis.zrange(engine.keys.runs, 0, -1)
    pipe = redis.pipeline(transaction=False)
    for run_id in ids:
        pipe.hmget(engine.keys.run(run_id), ["md", "in", "pr"])
    return [(json.loads(md), json.loads(i), int(pr)) for md, i, pr in pipe.execute() if md]


def fired_seconds(h: Hatchet, name: str | None = None) -> Counter[int]:
    """How many runs each tick created (by ``hatchet__cron_scheduled_at``)."""
    counts: Counter[int] = Counter()
    for md, _, _ in cron_runs(h):
        if md.get("hatchet__cron_name") == name:
            at = datetime.strptime(md["hatchet__cron_scheduled_at"], "%Y-%m-%dT%H:%M:%SZ")
            counts[int(at.replace(tzinfo=UTC).timestamp())] += 1
    return counts


T0 = 1_900_000_000  # a literal instant on a whole second; its namespaces see no real beat


def test_two_beats_fire_each_tick_once_and_a_restart_does_not_back_fill() -> None:
    h, _ = make_hatchet("sched_unit_twice")
    registry = h._registry
    a, b = CronTicker(registry), CronTicker(registry)
    for step in range(40):  # ten seconds, both passing every quarter second, in turns first
        first, second = (a, b) if (step // 4) % 2 else (b, a)
        first.tick(T0 + step * 0.25)
        second.tick(T0 + step * 0.25 + 0.1)
    assert a.fired > 0 and b.fired > 0  # both fired some ticks ...
    assert fired_seconds(h) == Counter({T0 + s: 1 for s in range(1, 10)})  # ... each once

    # Nothing runs from T0+10 to T0+15; a restarted beat starts looking at T0+15.
    restarted = CronTicker(registry)
    for step in range(13):
        restarted.tick(T0 + 15 + step * 0.25)
    assert fired_seconds(h) == Counter({T0 + s: 1 for s in [*range(1, 10), 16, 17, 18]})
    # Every run carries the declared input and Hatchet's cron metadata.
    md, payload, priority = cron_runs(h)[0]
    assert (payload, priority) == ({"label": "declared"}, 1)
    assert md["hatchet__cron_expression"] == "* * * * * *"
    assert "hatchet__cron_name" not in md


def test_a_beat_killed_between_claiming_a_tick_and_creating_its_run_loses_no_tick() -> None:
    h, _ = make_hatchet("sched_unit_killed")
    registry = h._registry
    survivor = CronTicker(registry)
    survivor.tick(T0)  # loads the declared cron and starts looking at T0
    entry = next(iter(survivor.entries.values()))
    tick = datetime.fromtimestamp(T0 + 1, UTC)
    # The other beat claims T0+1 first, then dies before it creates the run.
    claimed = claim_tick(registry.engine(), entry.cron.id, entry.spec, tick)
    assert claimed is not None and claimed[1] is True
    assert fired_seconds(h) == Counter()
    for step in range(1, 9):  # the survivor's passes through T0+2
        survivor.tick(T0 + step * 0.25)
    assert fired_seconds(h) == Counter({T0 + 1: 1, T0 + 2: 1})
    assert survivor.fired == 1  # T0+2 it fired first; T0+1 it only made sure of


def test_a_stalled_beat_catches_up_and_a_later_tick_fired_elsewhere_does_not_hide_one() -> None:
    h, _ = make_hatchet("sched_unit_stall")
    registry = h._registry
    slow, fast = CronTicker(registry), CronTicker(registry)
    slow.tick(T0 + 0.5)
    fast.tick(T0 + 0.5)
    fast.tick(T0 + 2.1)  # fires T0+1 and T0+2 ...
    slow.tick(T0 + 4.2)  # ... the stalled one wakes 3 s late: T0+3 and T0+4 must still fire
    fast.tick(T0 + 4.3)
    assert fired_seconds(h) == Counter({T0 + s: 1 for s in range(1, 5)})


def test_a_cron_created_at_run_time_fires_from_the_next_reload_and_stops_when_deleted() -> None:
    h, wf = make_hatchet("sched_unit_runtime")
    ticker = CronTicker(h._registry)
    ticker.tick(T0)
    declared = h.cron.list(workflow_name="BeatUnit").rows or []
    assert [c.method.value for c in declared] == ["DEFAULT"]
    h.cron.delete(declared[0].metadata.id)  # keep only the run-time cron below

    created = wf.create_cron("every-two", "*/2 * * * * *", Label(label="api"), {"k": "v"}, 2)
    for step in range(1, 25):  # six seconds
        ticker.tick(T0 + step * 0.25)
    fired = fired_seconds(h, "every-two")
    # picked up at the first reload (T0+1), then every even second, each once
    assert fired == Counter({T0 + 2: 1, T0 + 4: 1, T0 + 6: 1})
    md, payload, priority = next(
        r for r in cron_runs(h) if r[0].get("hatchet__cron_name") == "every-two"
    )
    assert (payload, priority) == ({"label": "api"}, 2)
    assert md["k"] == "v" and md["hatchet__cron_expression"] == "*/2 * * * * *"
    assert md["hatchet__cron_scheduled_at"] == "2030-03-17T17:46:42Z"

    h.cron.delete(created.metadata.id)
    for step in range(1, 17):
        ticker.tick(T0 + 6 + step * 0.25)
    assert fired_seconds(h, "every-two") == fired  # nothing after the delete
    with pytest.raises(TriggerNotFoundError):
        h.cron.get(created.metadata.id)


def test_cron_client_create_list_get_and_errors(caplog: pytest.LogCaptureFixture) -> None:
    h, wf = make_hatchet("sched_unit_client")
    made = h.cron.create("BeatUnit", "nightly", "0 2 * * *", {"label": "n"}, {"team": "x"})
    assert (made.workflow_name, made.cron, made.name) == (
        "sched_unit_client_BeatUnit",
        "0 2 * * *",
        "nightly",
    )
    assert made.method.value == "API" and made.input == {"label": "n"}
    assert h.cron.get(made.metadata.id) == made
    assert [c.metadata.id for c in h.cron.list(cron_name="nightly").rows or []] == [
        made.metadata.id
    ]
    assert [c.metadata.id for c in h.cron.list(workflow_id=made.workflow_id).rows or []] == [
        made.metadata.id
    ]
    assert h.cron.list(additional_metadata={"team": "y"}).rows == []
    with pytest.raises(ValueError, match="already exists"):
        wf.create_cron("nightly", "0 2 * * *", Label(label="again"))
    with pytest.raises(DeclarationError, match="'0 25 \\* \\* \\*'"):
        h.cron.create("BeatUnit", "bad", "0 25 * * *", {}, {})
    caplog.set_level(logging.WARNING)
    later = h.cron.create("NoSuchWorkflow", "x", "* * * * *", {}, {})  # served later, maybe
    assert "'sched_unit_client_NoSuchWorkflow'" in caplog.text
    h.cron.delete(later.metadata.id)
    h.cron.delete(made.metadata.id)
    with pytest.raises(TriggerNotFoundError):
        h.cron.delete(made.metadata.id)


def test_a_bad_on_crons_expression_fails_at_declaration() -> None:
    h = Hatchet(config=ClientConfig(namespace="sched_unit_decl"))
    with pytest.raises(DeclarationError, match="workflow 'Bad'.*'\\* \\* \\*'"):
        h.workflow(name="Bad", on_crons=["* * *"])
    with pytest.raises(DeclarationError, match="'61 \\* \\* \\* \\*'"):

        @h.task(name="bad_task", on_crons=["61 * * * *"])
        def bad_task(input: Label, ctx: Context) -> None: ...


# --- declared crons registered by workers ---------------------------------------------------
yearly = hatchet.workflow(
    name="BeatYearly", input_validator=Label, on_crons=["0 0 1 1 *"], cron_input=Label(label="y")
)


@yearly.task()
def yearly_step(input: Label, ctx: Context) -> dict[str, Any]:
    return {"label": input.label, "metadata": ctx.additional_metadata}


def test_a_worker_registers_declared_crons_and_one_can_be_run_by_hand(worker: Any) -> None:
    rows = hatchet.cron.list(workflow_id=yearly.id).rows or []
    assert [(r.cron, r.method.value, r.input) for r in rows] == [
        ("0 0 1 1 *", "DEFAULT", {"label": "y"})
    ]
    with hatchet.cron.client() as client:
        ran = hatchet.cron._wa(client).workflow_cron_trigger(
            tenant=hatchet.tenant_id, cron_workflow=rows[0].metadata.id
        )
    out = yearly.get_run_ref(ran.external_id).result()["yearly_step"]
    assert out["label"] == "y"
    assert out["metadata"]["hatchet__cron_expression"] == "0 0 1 1 *"
    assert out["metadata"]["hatchet__cron_scheduled_at"].endswith("Z")


# --- real celery beat processes -------------------------------------------------------------
class Beat:
    """``celery -A tests.apps.sched_beat beat`` in a process group of its own."""

    def __init__(self, folder: Path, name: str, scheduler: bool) -> None:
        self.folder, self.name, self.scheduler = folder, name, scheduler
        self.log = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Beat:
        args = [sys.executable, "-m", "celery", "-A", "tests.apps.sched_beat", "beat"]
        args += ["-l", "INFO", "-s", str(self.folder / f"{self.name}-schedule")]
        if self.scheduler:
            args += ["-S", "hatchet_celery.beat:Scheduler"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def loaded(self) -> int:
        return self.log.read_text(errors="replace").count("cron(s) loaded")

    def wait_loaded(self, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.time() + timeout
        while self.loaded() < count:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            assert time.time() < deadline, f"beat {self.name} never loaded its crons"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture(scope="module")
def beats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Beat, Beat]]:
    folder = tmp_path_factory.mktemp("beats")
    named = Beat(folder, "named", scheduler=True).start()  # -S hatchet_celery.beat:Scheduler
    plain = Beat(folder, "plain", scheduler=False).start()  # celery's own scheduler
    try:
        named.wait_loaded()
        plain.wait_loaded()
        yield named, plain
    finally:
        named.stop()
        plain.stop()


def test_two_beat_processes_fire_every_tick_once_across_a_restart(
    beats: tuple[Beat, Beat],
) -> None:
    named, plain = beats
    start = int(time.time()) + 1
    time.sleep(4)
    plain.stop(signal.SIGKILL)  # a crash in the middle of a minute ...
    time.sleep(1)
    plain.start()  # ... and a restart
    plain.wait_loaded(2)
    time.sleep(4)
    end = int(time.time()) - 1
    counts = fired_seconds(sched_beat.hatchet)
    window = {s: counts[s] for s in range(start, end + 1)}
    assert set(window.values()) == {1}, window  # every tick, each exactly once
    assert len(window) >= 8
    logs = named.log.read_text() + plain.log.read_text()
    assert "firing crons from PersistentScheduler" in logs  # the plain beat fired too
    assert logs.count(" fired for ") >= len(window)


def test_a_beat_fires_a_cron_created_at_run_time_and_stops_once_it_is_deleted(
    beats: tuple[Beat, Beat],
) -> None:
    made = sched_beat.every_second.create_cron(
        "runtime", "* * * * * *", sched_beat.Tick(label="api"), {"source": "test"}
    )
    deadline = time.time() + 5
    while not fired_seconds(sched_beat.hatchet, "runtime"):
        assert time.time() < deadline, "the run-time cron never fired"
        time.sleep(0.05)
    md, payload, _ = next(
        r for r in cron_runs(sched_beat.hatchet) if r[0].get("hatchet__cron_name") == "runtime"
    )
    assert payload == {"label": "api"} and md["source"] == "test"

    sched_beat.hatchet.cron.delete(made.metadata.id)
    time.sleep(1.2)  # a tick being fired as the delete lands may still complete
    after_delete = fired_seconds(sched_beat.hatchet, "runtime")
    time.sleep(2.5)
    assert fired_seconds(sched_beat.hatchet, "runtime") == after_delete
