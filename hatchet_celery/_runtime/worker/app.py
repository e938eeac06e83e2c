"""The Celery side: the app, one registered Celery task per Hatchet task, the bootsteps.

Two kinds of app:

- ``Hatchet()`` builds a JSON-only app on the coordination Redis (or ``HATCHET_CELERY_BROKER_URL``).
- ``Hatchet(app=existing_app)`` attaches to the team's own app at once (:func:`attach`), without
  reading its configuration: the worker bootstep, the consumer guard and the beat hook are
  added there and then, and the Hatchet tasks are registered when the app is finalised or when
  a worker starts on it (Celery's ``on_after_finalize`` and ``celeryd_init``), whichever comes
  first. So ``celery -A proj worker|beat`` serve the runs with no extra line, whatever the
  order in which the user's modules configure the app and declare tasks. The app's settings
  are left alone; only per-task options are set.

Task messages go to one queue per workflow (``hatchet.<namespace>.<workflow>``), on both kinds
of app, unless the app's ``task_routes`` routes the task: a worker consumes the queues of the
workflows it declares, so a message never reaches a worker that would drop it as unknown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from celery import Celery, bootsteps
from celery.signals import celeryd_init

from hatchet_celery._runtime.core import broker_compat
from hatchet_celery._runtime.core.broker_compat import queue_prefix
from hatchet_celery._runtime.worker.consumer_guard import ConsumerGuard
from hatchet_celery._runtime.worker.executor import execute
from hatchet_celery._runtime.worker.services import WorkerServices
from hatchet_celery.beat import install as install_beat_hook

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.task import Task


def build_app(registry: Registry) -> Any:
    """The app of a ``Hatchet()`` without ``app=``: JSON only, acks late, on our Redis."""
    config = registry.config
    engine = registry.engine()
    app = Celery("hatchet_celery", broker=engine.broker_url, set_as_current=False)
    visibility = max(
        config.visibility_timeout,
        int(max((t.execution_timeout_s for t in registry.tasks.values()), default=0)) + 60,
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=config.prefetch_multiplier,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
        task_default_queue=queue_prefix(config.namespace),
    )
    install_steps(app, registry)
    return app


def install_steps(app: Any, registry: Registry) -> None:
    """The worker bootstep, the consumer guard and the beat hook (no configuration read)."""
    app.steps["worker"].add(HatchetWorkerStep)
    app.steps["consumer"].add(ConsumerGuard)
    app._hatchet_registry = registry
    registries = app.__dict__.setdefault("_hatchet_registries", [])
    if registry not in registries:
        registries.append(registry)
    install_beat_hook()  # so a plain `celery -A proj beat` fires the crons too


def attach(registry: Registry, app: Any) -> None:
    """Make the user's app serve this registry, with nothing more for the user to write."""
    install_steps(app, registry)

    def on_finalize(sender: Any = None, **_: Any) -> None:
        registry.celery_app  # noqa: B018 - builds: registers every declared task

    def on_worker_init(sender: Any = None, instance: Any = None, **_: Any) -> None:
        # Before the worker selects its queues (``-Q``), so the workflow queues are known.
        worker_app: Any = getattr(instance, "app", None)
        if worker_app is app:
            worker_app.finalize(auto=True)
            on_finalize()

    if app.finalized:
        on_finalize()
    else:
        app.on_after_finalize.connect(on_finalize, weak=False)
    celeryd_init.connect(on_worker_init, weak=False)
    registry._signal_receivers = (on_finalize, on_worker_init)  # kept alive with the registry


def register_task(app: Any, registry: Registry, task: Task[Any, Any]) -> None:
    """One Celery task per Hatchet task, named ``hatchet.<workflow>.<task>``."""

    def run(self: Any, run_id: str, task_name: str, attempt: int) -> None:
        if (
            not isinstance(run_id, str)
            or task_name != task.name
            or not isinstance(attempt, int)
            or isinstance(attempt, bool)
        ):  # a message not published by hatchet_celery: say so before touching Redis
            shown = ", ".join(repr(a)[:60] for a in (run_id, task_name, attempt))
            raise ValueError(
                f"malformed message for {task.celery_name}: expected (run id, {task.name!r}, "
                f"attempt number), got ({shown})"
            )
        execute(registry, task, self.request, run_id, task_name, attempt)

    # Celery compiles a signature from the function's name: keep it an identifier.
    run.__name__ = "hatchet_" + re.sub(r"\W", "_", task.name)
    run.__doc__ = f"Hatchet task {task.name!r} of workflow {task.workflow.name!r}."
    # ``celery -A proj worker`` (no -Q) consumes every queue the app knows: the queues of
    # the workflows declared in its process.
    queue = registry.task_queue(task.celery_name, task.workflow.name)
    if queue is not None and queue.name not in app.amqp.queues:
        app.amqp.queues.select_add(queue)
    app.task(
        name=task.celery_name,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
        serializer="json",
        typing=False,
        shared=False,
    )(run)


class HatchetWorkerStep(bootsteps.StartStopStep):  # type: ignore[misc]
    """Runs the timer pump, lease renewal and worker heartbeat inside every worker."""

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.services: Any = None
        broker_compat.install()  # survive a broker restart with messages in flight

    def start(self, worker: Any) -> None:
        registry: Registry = worker.app._hatchet_registry
        broker_compat.check_visibility_timeout(
            worker.app, (t.execution_timeout_s for t in registry.tasks.values())
        )
        self.services = WorkerServices(registry, worker)
        self.services.start()

    def stop(self, worker: Any) -> None:
        if self.services is not None:
            self.services.stop()
            self.services = None

    shutdown = stop

    def terminate(self, worker: Any) -> None:
        self.stop(worker)
