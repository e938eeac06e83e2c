"""The triggering side of one matrix cell: a separate process, as a team's web app would be.

``python drive.py prepare``  publishes the priority backlog while no worker runs;
``python drive.py run``      runs every workload against the running worker and beat;
``python drive.py finish``   (beat stopped) waits for every cron run and reports the ticks.
Each phase prints one JSON document on its last line; the test asserts on it.
"""

import json
import sys
import time

from proj.tasks import (
    PRIORITY_PER_LEVEL,
    Group,
    flaky,
    hatchet,
    matrix_dag,
    new_task,
    one_at_a_time,
    plain_add,
    prioritised,
    sleeper,
    slow,
    store,
    trace,
)

from hatchet_celery import Priority
from hatchet_celery.clients.rest.models import V1TaskStatus

BACKLOG = PRIORITY_PER_LEVEL
WAIT = 90.0  # generous: a busy 2-core machine, cold worker processes


def prepare() -> dict[str, object]:
    low = [prioritised.run_no_wait(Group(group="L", n=i)) for i in range(BACKLOG)]
    high = [
        prioritised.run_no_wait(Group(group="H", n=i), options=_priority(Priority.HIGH))
        for i in range(BACKLOG)
    ]
    return {"published": len(low) + len(high)}


def _priority(p: Priority) -> object:
    from hatchet_celery import TriggerWorkflowOptions

    return TriggerWorkflowOptions(priority=p)


def run() -> dict[str, object]:
    r = store()
    out: dict[str, object] = {}
    plain_add.delay(41)
    got = r.blpop([trace("plain")], timeout=WAIT)
    out["legacy"] = None if got is None else int(got[1])
    out["new_task"] = new_task.run()
    out["dag"] = matrix_dag.run()
    out["retry"] = flaky.run()
    out["retry_bodies"] = int(r.get(trace("retry_bodies")) or 0)
    refs = [one_at_a_time.run_no_wait(Group(group="a", n=i)) for i in range(3)]
    out["concurrency"] = [ref.result() for ref in refs]
    out["concurrency_seen"] = [int(x) for x in r.lrange(trace("seen:a"), 0, -1)]
    started = time.time()
    durable = sleeper.run()
    out["durable_slept"] = time.time() - durable["slept_since"]
    out["durable_wall"] = time.time() - started
    hatchet.event.push("matrix:ping", {"group": "e", "n": 7})
    got = r.blpop([trace("events")], timeout=WAIT)
    out["event"] = None if got is None else int(got[1])
    deadline = time.time() + WAIT
    while len(set(r.lrange(trace("priority_order"), 0, -1))) < 2 * BACKLOG:
        if time.time() > deadline:
            break
        time.sleep(0.1)
    out["priority_order"] = r.lrange(trace("priority_order"), 0, -1)
    while r.llen(trace("cron_ticks")) < 3 and time.time() < deadline:
        time.sleep(0.1)
    out["cron_ticks_seen"] = r.llen(trace("cron_ticks"))
    return out


def wait_ticks() -> dict[str, object]:
    """Wait (bounded) until the beat fired the every-second cron three times."""
    r = store()
    deadline = time.time() + WAIT
    while r.llen(trace("cron_ticks")) < 3 and time.time() < deadline:
        time.sleep(0.1)
    return {"cron_ticks_seen": r.llen(trace("cron_ticks"))}


def finish() -> dict[str, object]:
    """Beat is stopped: every cron run it created must complete, each tick once."""
    r = store()
    deadline = time.time() + WAIT
    while True:
        rows = hatchet.runs.list(workflow_ids=["MatrixCron"], limit=1000).rows
        open_runs = [x for x in rows if x.status in (V1TaskStatus.QUEUED, V1TaskStatus.RUNNING)]
        if not open_runs or time.time() > deadline:
            break
        time.sleep(0.1)
    return {
        "cron_runs": len(rows),
        "cron_open": len(open_runs),
        "cron_statuses": sorted({str(x.status.value) for x in rows}),
        "cron_ticks": r.lrange(trace("cron_ticks"), 0, -1),
    }


def smoke() -> dict[str, object]:
    """A plain task and a Hatchet run, end to end."""
    plain_add.delay(1)
    got = store().blpop([trace("plain")], timeout=WAIT)
    return {"plain": None if got is None else int(got[1]), "hatchet": new_task.run()}


IN_FLIGHT = 12


def start_slow() -> dict[str, object]:
    """Runs to keep in flight while the broker restarts."""
    refs = [slow.run_no_wait(Group(group="s", n=i)) for i in range(IN_FLIGHT)]
    store().rpush(trace("slow_runs"), *[ref.workflow_run_id for ref in refs])
    deadline = time.time() + WAIT
    while not any(store().exists(trace(f"bodies:{ref.workflow_run_id}")) for ref in refs):
        if time.time() > deadline:
            break
        time.sleep(0.05)
    return {"started": len(refs)}


def wait_slow() -> dict[str, object]:
    """Every run completes, and each task body ran once."""
    r = store()
    ids = r.lrange(trace("slow_runs"), 0, -1)
    results = [hatchet.runs.get_run_ref(run_id).result() for run_id in ids]
    return {
        "results": sorted(x["matrixslow"]["n"] for x in results),
        "bodies": [int(r.get(trace(f"bodies:{run_id}")) or 0) for run_id in ids],
    }


if __name__ == "__main__":
    phases = {"prepare": prepare, "run": run, "finish": finish}
    phases.update({"start_slow": start_slow, "wait_slow": wait_slow, "smoke": smoke})
    phases["wait_ticks"] = wait_ticks
    phase = phases[sys.argv[1]]
    print(json.dumps(phase(), default=str))
