"""A consumer bootstep: no message can kill a worker, and no Hatchet message is dropped.

Celery's consumer turns each message into a request before any task code runs. A few
malformed messages make that step raise something it does not expect (a JSON body that is a
string instead of ``[args, kwargs, embed]`` raises ``ValueError`` in Celery 5.7): Celery then
reports an "Unrecoverable error" and the worker exits, the message goes back to the queue and
kills the next worker the same way. The guard wraps the consumer's message handler, so such a
message is logged with a clear line and rejected without requeue (acknowledged on the Redis
transport, dead-lettered on RabbitMQ when the queue has a dead-letter exchange). It sits in
the consumer, so it protects the app's plain Celery tasks on the same worker too.

A Hatchet task message can also reach a worker that does not serve its task (an app whose
routes send every task to one queue, a worker started from a module that does not declare
the workflow). Celery would log "unregistered task" and discard it, and the run would wait
for ever. The guard hands it back instead: a dispatch timer re-sends it from the pump of a
worker that declares the task (see ``Engine.dispatch``), and the line logged names the task
and this worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import bootsteps

from hatchet_celery._timer_entries import RetryDispatch

log = logging.getLogger(__name__)

#: A Hatchet message this worker cannot serve is offered again this much later.
HAND_BACK_DELAY = 1.0
#: At most one "not served here" line per task name in this many seconds.
_LOG_EVERY = 60.0

Handler = Callable[[Any], Any]


class ConsumerGuard(bootsteps.Step):  # type: ignore[misc]
    """Installed with ``app.steps["consumer"].add(ConsumerGuard)``."""

    name = "hatchet_celery.consumer_guard"

    def __init__(self, c: Any, **kwargs: Any) -> None:
        super().__init__(c, **kwargs)
        create = c.create_task_handler
        celery_unknown = c.on_unknown_task
        logged: dict[str, float] = {}

        def on_unknown_task(body: Any, message: Any, exc: Exception) -> Any:
            name = _header(message, "task")
            hatchet_task = isinstance(name, str) and name.startswith("hatchet.")
            if hatchet_task and hand_back(c.app, message, name, str(c.hostname), logged):
                return None
            return celery_unknown(body, message, exc)

        def create_task_handler(*args: Any, **kw: Any) -> Handler:
            return guarded(create(*args, **kw), c)

        # Instance attributes: Celery's loop asks the consumer for these when it starts.
        c.on_unknown_task = on_unknown_task
        c.create_task_handler = create_task_handler


def guarded(handler: Handler, consumer: Any) -> Handler:
    """``handler`` that logs and rejects a message it raises on, instead of dying."""
    passthrough = tuple(consumer.connection_errors) + tuple(consumer.channel_errors)

    def on_task_received(message: Any) -> Any:
        try:
            return handler(message)
        except passthrough:
            raise  # the consumer's own reconnect logic handles these
        except Exception as exc:
            log.error(
                "hatchet_celery: rejected a message this worker cannot read "
                "(task %r, id %r, content type %r, %d bytes): %s: %s",
                _header(message, "task"),
                _header(message, "id"),
                getattr(message, "content_type", None),
                len(getattr(message, "body", b"") or b""),
                type(exc).__name__,
                exc,
            )
            _reject(message)
            return None

    return on_task_received


def hand_back(app: Any, message: Any, name: str, worker: str, logged: dict[str, float]) -> bool:
    """Re-arm the dispatch of a Hatchet task run this worker does not serve."""
    registry = getattr(app, "_hatchet_registry", None)
    try:
        args = message.decode()[0]
        run_id, task, attempt = args
        if registry is None or not isinstance(run_id, str) or not isinstance(attempt, int):
            return False
        engine = registry.engine()
        member = RetryDispatch(attempt, run_id, task).member
        engine.store.redis.zadd(engine.keys.timers, {member: engine.now() + HAND_BACK_DELAY})
    except Exception:
        log.exception("hatchet_celery: could not hand back a message of %s", name)
        return False
    now = time.monotonic()
    if now - logged.get(name, -_LOG_EVERY) >= _LOG_EVERY:
        logged[name] = now
        log.warning(
            "hatchet_celery: worker %s does not serve task %s; handed run %s back for a "
            "worker that does (is the module declaring it imported by every worker that "
            "consumes this queue?)",
            worker,
            name,
            run_id,
        )
    message.ack()
    return True


def _header(message: Any, key: str) -> Any:
    headers = getattr(message, "headers", None)
    return headers.get(key) if isinstance(headers, dict) else None


def _reject(message: Any) -> None:
    try:
        if not message.acknowledged:
            message.reject(requeue=False)
    except Exception:
        log.debug("hatchet_celery: could not reject a message", exc_info=True)
