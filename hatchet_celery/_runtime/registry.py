"""The process-wide registry: declarations, the Celery app and the engine per configuration.

``Hatchet()`` instances built with the same configuration share one registry, so a
workflow declared on one instance is served by a worker built from another. Nothing
here connects anywhere until first use (declarations stay pure at import time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kombu.entity import Queue

from hatchet_celery._runtime.core import broker_compat
from hatchet_celery._settings import Config

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.client import Client
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.worker.task_runtime import TaskRuntimeServices
    from hatchet_celery.features.catalog import FeatureClients
    from hatchet_celery.runnables.task import Task
    from hatchet_celery.runnables.workflow import BaseWorkflow

T = TypeVar("T")


class Registry:
    def __init__(self, config: Config, app: Any = None) -> None:
        self.config = config
        self.workflows: dict[str, BaseWorkflow[Any]] = {}
        self.tasks: dict[str, Task[Any, Any]] = {}
        self._user_app = app
        self._app: Any = None
        self._engine: Engine | None = None
        self._client: Client | None = None
        self._task_runtime: TaskRuntimeServices | None = None
        self._features: FeatureClients | None = None
        self._lock = threading.RLock()
        self._queues: dict[str, Queue | None] = {}
        self._signal_receivers: tuple[Any, ...] = ()
        if app is not None:
            from hatchet_celery._runtime.worker.app import attach

            attach(self, app)

    @property
    def user_app(self) -> Any:
        """The Celery app given with ``Hatchet(app=...)``, or None."""
        return self._user_app

    # --- declarations -------------------------------------------------------------------------
    def add_task(self, workflow: BaseWorkflow[Any], task: Task[Any, Any]) -> None:
        with self._lock:
            existing = self.workflows.get(workflow.name)
            if existing is not None and existing is not workflow:
                # A module imported twice (e.g. as __main__ and by name) redeclares its
                # workflows; the newest declaration serves.
                for old in existing.tasks:
                    self.tasks.pop(old.celery_name, None)
            self.workflows[workflow.name] = workflow
            self.tasks[task.celery_name] = task
            if self._app is not None:
                from hatchet_celery._runtime.worker.app import register_task

                register_task(self._app, self, task)

    # --- lazily built parts ---------------------------------------------------------------------
    @property
    def celery_app(self) -> Any:
        with self._lock:
            if self._app is None:
                from hatchet_celery._runtime.worker.app import build_app, register_task

                self._app = self._user_app if self._user_app is not None else build_app(self)
                for task in list(self.tasks.values()):
                    register_task(self._app, self, task)
            return self._app

    def task_queue(self, celery_name: str, workflow: str) -> Queue | None:
        """The queue of a task's messages: its workflow's own, or None when the user's
        ``task_routes`` route it (then the app's routing decides, as for any Celery task)."""
        if celery_name not in self._queues:
            routed = self._user_app is not None and broker_compat.user_routes_task(
                self._user_app, celery_name
            )
            self._queues[celery_name] = (
                None
                if routed
                else broker_compat.task_queue(
                    f"{broker_compat.queue_prefix(self.config.namespace)}.{workflow}"
                )
            )
        return self._queues[celery_name]

    # Built on first use, once, under the lock: declaring tasks imports and connects nothing.
    # The imports are deferred for that reason (the composition root pulls in every module
    # of the runtime and Celery's worker machinery).
    def _once(self, attr: str, build: Callable[[], T]) -> T:
        value: T | None = getattr(self, attr)
        if value is None:
            with self._lock:
                value = getattr(self, attr)
                if value is None:
                    value = build()
                    setattr(self, attr, value)
        return value

    def engine(self) -> Engine:
        def build() -> Engine:
            from hatchet_celery._runtime.core.engine import Engine
            from hatchet_celery._runtime.wiring import EXTENSIONS

            return Engine(self, EXTENSIONS)

        return self._once("_engine", build)

    def task_runtime(self) -> TaskRuntimeServices:
        """What running tasks' contexts ask of the engine (``context/runtime_port.py``)."""

        def build() -> TaskRuntimeServices:
            from hatchet_celery._runtime.worker.task_runtime import TaskRuntimeServices

            return TaskRuntimeServices(self.engine())

        return self._once("_task_runtime", build)

    def client(self) -> Client:
        def build() -> Client:
            from hatchet_celery._runtime.core.client import Client

            return Client(self)

        return self._once("_client", build)

    def features(self) -> FeatureClients:
        """The feature clients (runs, logs, ...) shared by every ``Hatchet`` on this registry."""

        def build() -> FeatureClients:
            from hatchet_celery.features.catalog import FeatureClients

            return FeatureClients(self)

        return self._once("_features", build)


_registries: dict[tuple[Any, ...], Registry] = {}
_lock = threading.Lock()


def registry_for(config: Config, app: Any = None) -> Registry:
    key = (
        config.redis_url,
        config.broker_url,
        config.namespace,
        config.key_prefix,
        config.data_dir,
        id(app) if app is not None else None,
    )
    with _lock:
        reg = _registries.get(key)
        if reg is None:
            reg = _registries[key] = Registry(config, app)
        return reg
