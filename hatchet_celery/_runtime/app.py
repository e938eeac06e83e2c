"""The Celery side: the app, one registered Celery task per Hatchet task, the bootstep.

``Hatchet(app=existing_app)`` registers on the user's app and leaves its settings alone
(only per-task options are set); otherwise a JSON-only app is built on the same Redis.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from celery import Celery, bootsteps
from kombu.entity import Exchange, Queue

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.runnables.task import Task


def build_app(registry: Registry, user_app: Any = None) -> Any:
    config = registry.config
    if user_app is not None:
        app = user_app
    else:
        _, broker_url = registry.engine().redis_url, registry.engine().broker_url
        app = Celery("hatchet_celery", broker=broker_url, set_as_current=False)
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
            # One queue per namespace: workers of two namespaces on one Redis never take
            # each other's messages (a worker drops a task it does not know).
            task_default_queue=f"hatchet.{config.namespace.rstrip('_') or 'default'}",
        )
    app.steps["worker"].add(HatchetWorkerStep)
    app._hatchet_registry = registry
    from hatchet_celery.beat import install as install_beat_hook

    install_beat_hook()  # so a plain `celery -A proj beat` fires the crons too
    return app


def register_task(app: Any, registry: Registry, task: Task[Any, Any]) -> None:
    """One Celery task per Hatchet task, named ``hatchet.<workflow>.<task>``."""
    from hatchet_celery._runtime.executor import execute

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
    if registry.user_app is None:
        # ``celery -A proj worker`` (no -Q) consumes every queue the app knows: the
        # queues of the workflows declared in its process.
        queue = f"{app.conf.task_default_queue}.{task.workflow.name}"
        if queue not in app.amqp.queues:
            exchange = Exchange(queue)  # type: ignore[no-untyped-call]
            app.amqp.queues.select_add(Queue(queue, exchange, routing_key=queue))  # type: ignore[no-untyped-call]
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
        from hatchet_celery._runtime.broker_compat import install

        install()  # survive a broker restart with messages in flight (see that module)

    def start(self, worker: Any) -> None:
        from hatchet_celery._runtime.services import WorkerServices

        registry: Registry = worker.app._hatchet_registry
        self.services = WorkerServices(registry, worker)
        self.services.start()

    def stop(self, worker: Any) -> None:
        if self.services is not None:
            self.services.stop()

    shutdown = stop

    def terminate(self, worker: Any) -> None:
        self.stop(worker)
