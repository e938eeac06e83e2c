"""``Worker``: a Celery worker serving Hatchet workflows, started in this process."""

from __future__ import annotations

import asyncio
import logging
import socket
import warnings
from collections.abc import AsyncGenerator, Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from hatchet_celery._runtime.core import aio
from hatchet_celery._runtime.core.process import PROCESS
from hatchet_celery._runtime.waits import eviction as durable_eviction
from hatchet_celery.exceptions import LifespanSetupError, LoopAlreadyRunningError
from hatchet_celery.runnables.workflow import BaseWorkflow

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.workflow import BaseWorkflow

log = logging.getLogger(__name__)
DEFAULT_SLOTS = 100


class WorkerStatus(Enum):
    INITIALIZED = 1
    STARTING = 2
    HEALTHY = 3
    UNHEALTHY = 4


class Worker:
    """``hatchet.worker(name, slots=..., labels=..., workflows=[...], lifespan=...)``.

    ``start()`` runs a Celery worker (the pool from ``HATCHET_CELERY_WORKER_POOL``,
    threads by default, with ``slots`` as its concurrency) until it is stopped; SIGTERM is
    Celery's warm shutdown: the worker is PAUSED in ``hatchet.workers``, tasks in flight
    finish on it, queued messages go back to the broker. With ``ClientConfig.healthcheck``
    enabled it serves ``GET /health`` meanwhile (``_runtime/worker/health.py``).
    """

    def __init__(
        self,
        name: str,
        registry: Registry,
        slots: int | None = None,
        durable_slots: int | None = None,
        labels: dict[str, str | int] | None = None,
        workflows: list[BaseWorkflow[Any]] | None = None,
        lifespan: Callable[[], AsyncGenerator[Any, None]] | None = None,
    ) -> None:
        self.registry = registry
        self.name = registry.config.apply_namespace(name)
        self._slots = slots
        self.durable_slots = durable_slots
        if durable_slots is not None:  # capacity eviction counts the waits of this process
            durable_eviction.MANAGER.durable_slots = durable_slots
        self.labels: dict[str, str | int] = dict(labels or {})
        self.lifespan = lifespan
        self.status = WorkerStatus.INITIALIZED
        self.workflows: list[BaseWorkflow[Any]] = []
        self.register_workflows(workflows or [])
        self._celery_worker: Any = None

    @property
    def slots(self) -> int:
        return self._slots or DEFAULT_SLOTS

    @property
    def slot_config(self) -> dict[str, int]:
        config = {"default": self.slots}
        if self.durable_slots or any(t.is_durable for w in self.workflows for t in w.tasks):
            config["durable"] = self.durable_slots or 1000
        return config

    def register_workflow(self, workflow: BaseWorkflow[Any]) -> None:
        if not isinstance(workflow, BaseWorkflow):
            raise TypeError(
                f"worker {self.name!r}: {workflow!r} is not a workflow or standalone task "
                "(pass the object returned by hatchet.workflow() or @hatchet.task())"
            )
        if not workflow.tasks:
            # Hatchet refuses this with a ValueError; a worker that serves many modules
            # should not die for one empty declaration, so it is skipped, loudly.
            warnings.warn(
                f"worker {self.name!r}: workflow {workflow.name!r} has no tasks; not served",
                stacklevel=2,
            )
            return
        if self.registry.workflows.get(workflow.name) is not workflow:
            # Two declarations share this name: the one a worker serves is the one that runs.
            for task in workflow.tasks:
                self.registry.add_task(workflow, task)
        self.workflows.append(workflow)

    def register_workflows(self, workflows: list[BaseWorkflow[Any]]) -> None:
        for workflow in workflows:
            self.register_workflow(workflow)

    async def aio_register_workflow(self, workflow: BaseWorkflow[Any]) -> None:
        self.register_workflow(workflow)

    def _enter_lifespan(self) -> AsyncGenerator[Any, None] | None:
        if self.lifespan is None:
            return None
        gen = self.lifespan()
        try:
            PROCESS.lifespan = aio.run(gen.__anext__())
        except Exception as exc:
            raise LifespanSetupError(f"worker {self.name!r}: lifespan failed: {exc}") from exc
        return gen

    @staticmethod
    def _exit_lifespan(gen: AsyncGenerator[Any, None] | None) -> None:
        if gen is None:
            return
        try:
            aio.run(gen.__anext__())
        except StopAsyncIteration:
            pass
        except Exception:
            log.exception("hatchet_celery: lifespan cleanup failed")

    def start(self, options: Any = None) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise LoopAlreadyRunningError("Worker.start() cannot run inside a running event loop")
        self.status = WorkerStatus.STARTING
        PROCESS.name = self.name
        PROCESS.labels = dict(self.labels)
        PROCESS.slots = self.slots
        gen = self._enter_lifespan()
        config = self.registry.config
        app = self.registry.celery_app
        health = None
        if config.healthcheck_enabled:
            from hatchet_celery._runtime.worker.health import HealthServer

            health = HealthServer(
                config.healthcheck_bind_address or "0.0.0.0",
                config.healthcheck_port,
                self.slot_config,
            )
            health.start()
        extra: dict[str, Any] = {}
        if config.terminate_worker_after_num_tasks > 0:  # prefork: children are replaced
            extra["max_tasks_per_child"] = config.terminate_worker_after_num_tasks
        try:
            # The app's default queue (the user's plain tasks, on their app) and the queues
            # of the workflows this worker serves.
            served = {wf.name for wf in (self.workflows or self.registry.workflows.values())}
            queues = {app.conf.task_default_queue} | {
                q.name
                for t in self.registry.tasks.values()
                if t.workflow.name in served
                and (q := self.registry.task_queue(t.celery_name, t.workflow.name)) is not None
            }
            self._celery_worker = app.Worker(
                hostname=f"{self.name}@{socket.gethostname()}",  # Celery expands %h only in its CLI
                pool=config.worker_pool,
                concurrency=self.slots,
                prefetch_multiplier=config.prefetch_multiplier,
                loglevel="INFO",
                without_gossip=True,
                without_mingle=True,
                without_heartbeat=True,
                optimization="fair",
                queues=sorted(queues),
                **extra,
            )
            self.status = WorkerStatus.HEALTHY
            self._celery_worker.start()
        finally:
            self.status = WorkerStatus.UNHEALTHY
            if health is not None:
                health.stop()
            self._exit_lifespan(gen)

    async def exit_gracefully(self) -> None:
        if self._celery_worker is not None:
            self._celery_worker.stop(in_sighandler=False)


__all__ = ["Worker", "WorkerStatus"]
