"""The engine of one registry: resolved URLs, the store, publishing task messages."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from hatchet_celery._keys import Keys
from hatchet_celery._runtime.core import broker_compat
from hatchet_celery._runtime.core.hooks import Extensions, Gate, Ready
from hatchet_celery._runtime.core.run_index import TRIMMER
from hatchet_celery._runtime.core.trigger_target import TriggerTarget
from hatchet_celery._runtime.core.waiter import RunWaiter
from hatchet_celery._store import Store, get_store
from hatchet_celery._timer_entries import RetryDispatch

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

# A queued task whose message may have been lost (a crash between a transition and the
# publish) is published again this often until a worker claims it; duplicates are
# harmless because claiming is idempotent.
REDISPATCH_SECONDS = 30.0
# The schedule_timeout of a task this process has not declared: Hatchet's default, 5 min.
DEFAULT_SCHEDULE_TIMEOUT = 300.0
# A task run this process cannot dispatch (not declared here) is offered again this soon.
UNDECLARED_DELAY = 0.2


def resolve_urls(config: Any) -> tuple[str, str]:
    """(redis url for redis-py, broker url for kombu); starts the embedded server if unset."""
    if config.redis_url:
        return config.redis_url, config.broker_url or config.redis_url
    from hatchet_celery._embedded import EmbeddedRedis

    embedded = EmbeddedRedis(config.data_dir)
    embedded.ensure_running()
    return embedded.url, config.broker_url or embedded.broker_url


class Engine:
    """The runtime of one registry: its store, its extensions and publishing.

    Built by the registry with the composition root's ``Extensions`` (``wiring.py``).

    ``clock`` is the one clock of the runtime: every instant it compares with or writes
    into Redis (leases, backoff, timers, deadlines, heartbeats, crons) is ``now()``. Loops
    keep their own cadence on the real monotonic clock. A test replaces ``clock`` to drive
    time without sleeping.
    """

    def __init__(
        self, registry: Registry, extensions: Extensions, clock: Callable[[], float] = time.time
    ) -> None:
        self.extensions = extensions
        self.clock = clock
        # id(task) -> (task, its gates), computed on first dispatch; the task is kept to
        # tell a redeclaration (a new object under the same name) from the one computed
        self._gates: dict[int, tuple[Any, tuple[Gate, ...]]] = {}
        self.registry = registry
        self.config = registry.config
        self.redis_url, self.broker_url = resolve_urls(self.config)
        self.keys = Keys(self.config.key_prefix, self.config.namespace)
        self.store: Store = get_store(self.redis_url, self.keys)
        self.worker_id = uuid.uuid4().hex
        self._waiter: Any = None
        self._lock = threading.Lock()
        self._queues: dict[str, Any] = {}

    @property
    def app(self) -> Any:
        return self.registry.celery_app

    @property
    def waiter(self) -> Any:
        if self._waiter is None:
            with self._lock:
                if self._waiter is None:
                    self._waiter = RunWaiter(self.store, self)
        return self._waiter

    def now(self) -> float:
        return self.clock()

    def dispatch(self, ready: Iterable[Ready], after: Gate | None = None) -> None:
        """Publish ready task runs, each first through the gates of its task.

        ``after`` is the gate that admitted the entries: only the gates behind it apply.
        """
        to_publish: list[Ready] = []
        groups: dict[str, list[Ready]] = {}
        undeclared: list[Ready] = []
        for item in ready:
            task = self.registry.tasks.get(self.celery_name(item.workflow, item.task))
            if task is None:
                undeclared.append(item)
                continue
            gates = self.gates_for(task, after)
            if not gates:
                to_publish.append(item)
            else:
                groups.setdefault(self.celery_name(item.workflow, item.task), []).append(item)
        for celery_name, items in groups.items():
            task = self.registry.tasks[celery_name]
            for gate in self.gates_for(task, after):
                items = gate.admit(self, task, items)
                if not items:
                    break
            to_publish.extend(items)
        if to_publish:
            self.publish_ready(to_publish)
        if undeclared:
            self.defer_undeclared(undeclared)

    def gates_for(self, task: Any, after: Gate | None = None) -> tuple[Gate, ...]:
        """The gates of a task, in order; only those behind ``after`` when given."""
        entry = self._gates.get(id(task))
        if entry is None or entry[0] is not task:
            entry = self._gates[id(task)] = (task, self.extensions.gates_for(task))
        gates = entry[1]
        if after is not None and after in gates:
            return gates[gates.index(after) + 1 :]
        return gates

    def defer_undeclared(self, ready: list[Ready]) -> None:
        """Task runs this process does not declare (a timer taken by a worker serving other
        workflows): it cannot apply their gates (concurrency, rate limits, routing), so a
        due dispatch timer hands them to the pump of a worker that declares them."""
        due = self.now() + UNDECLARED_DELAY
        pipe = self.store.redis.pipeline(transaction=False)
        for r in ready:
            pipe.zadd(self.keys.timers, {RetryDispatch(r.attempt, r.run_id, r.task).member: due})
        pipe.execute()

    def publish_ready(self, ready: Iterable[Ready]) -> None:
        """Send task messages as they are (no gate): ``args = (run id, task, attempt)``.

        Each goes to ``Ready.queue`` (a worker's own queue, chosen by routing) or to its
        task's queue (its workflow's own, unless the user's routes decide), with Hatchet's
        priority in the transport's direction (``broker_compat``)."""
        app = self.app
        kind = broker_compat.transport_kind(app)
        with app.producer_or_acquire() as producer:
            for r in ready:
                celery_name = self.celery_name(r.workflow, r.task)
                options: dict[str, Any] = {}
                queue = (
                    self._named_queue(r.queue)
                    if r.queue
                    else self.registry.task_queue(celery_name, r.workflow)
                )
                if queue is not None:
                    options["queue"] = queue
                app.send_task(
                    celery_name,
                    args=(r.run_id, r.task, r.attempt),
                    producer=producer,
                    root_id=r.run_id,
                    parent_id=r.parent_id,
                    priority=broker_compat.message_priority(kind, r.priority),
                    serializer="json",
                    # Outcomes live in the run hash: without this, an app with a Redis
                    # result backend subscribes and unsubscribes per message (2 round trips).
                    ignore_result=True,
                    **options,
                )

    def _named_queue(self, name: str) -> Any:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = broker_compat.queue_for_name(name)
        return queue

    def task_finished(self, task: Any, run_id: str, status: str) -> None:
        for listener in self.extensions.task_finished:
            listener(self, task, run_id, status)

    def run_finished(self, workflow: str, run_id: str, status: str) -> None:
        for listener in self.extensions.run_finished:
            listener(self, workflow, run_id, status)

    def celery_name(self, workflow: str, task: str) -> str:
        return f"hatchet.{workflow}.{task}"

    # --- worker registry and housekeeping --------------------------------------------------
    def register_worker(self, process: Any) -> None:
        self.register_workflows()
        self.heartbeat(process)

    def register_workflows(self) -> None:
        """Publish the shapes of the workflows served here (for ``trigger_by_name``)."""
        shapes = {
            name: json.dumps(TriggerTarget.to_json(wf))
            for name, wf in self.registry.workflows.items()
            if wf.tasks
        }
        if shapes:
            self.store.redis.hset(self.keys.workflows, mapping=cast(Any, shapes))

    def heartbeat(self, process: Any, stopped: bool = False) -> None:
        record = {
            "id": process.worker_id,
            "name": process.name,
            "labels": process.labels,
            "slots": process.slots,
            "last_heartbeat": self.now(),
            # what affinity routing may send to this worker (_runtime/flow/affinity.py)
            "workflows": sorted(self.registry.workflows),
            "stopped": stopped,
            # shutting down, finishing its tasks in flight: PAUSED in hatchet.workers
            "draining": bool(getattr(process, "draining", False)),
        }
        self.store.redis.hset(self.keys.workers, process.worker_id, json.dumps(record))

    def trim_index(self, now: float) -> None:
        """Drop index entries of runs past retention (their hashes expire on their own)."""
        self.store.redis.zremrangebyscore(
            self.keys.runs, "-inf", now - self.config.retention_seconds - 3600
        )
        TRIMMER.trim(self, now)  # status, workflow, metadata, parent and task-run indexes
