"""The process-wide registry: declarations, the Celery app and the engine per configuration.

``Hatchet()`` instances built with the same configuration share one registry, so a
workflow declared on one instance is served by a worker built from another. Nothing
here connects anywhere until first use (declarations stay pure at import time).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from kombu.entity import Queue

from hatchet_celery._runtime.worker import broker_compat
from hatchet_celery._settings import Config

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.client import Client
    from hatchet_celery._runtime.core.engine import Engine
    from hatchet_celery._runtime.worker.task_runtime import TaskRuntimeServices
    from hatchet_celery.features.catalog import FeatureClients
    from hatchet_celery.runnables.task import Task
    from hatchet_celery.runnables.workflow import BaseWorkflow


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

    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from hatchet_celery._runtime.core.engine import Engine
                    from hatchet_celery._runtime.wiring import EXTENSIONS

                    self._engine = Engine(self, EXTENSIONS)
        return self._engine

    def task_runtime(self) -> TaskRuntimeServices:
        """What running tasks' contexts ask of the engine (``context/runtime_port.py``)."""
        if self._task_runtime is None:
            with self._lock:
                if self._task_runtime is None:
                    from hatchet_celery._runtime.worker.task_runtime import TaskRuntimeServices

                    self._task_runtime = TaskRuntimeServices(self.engine())
        return self._task_runtime

    def client(self) -> Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from hatchet_celery._runtime.core.client import Client

                    self._client = Client(self)
        return self._client

    def features(self) -> FeatureClients:
        """The feature clients (runs, logs, ...) shared by every ``Hatchet`` on this registry."""
        if self._features is None:
            with self._lock:
                if self._features is None:
                    from hatchet_celery.features.catalog import FeatureClients

                    self._features = FeatureClients(self)
        return self._features


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
