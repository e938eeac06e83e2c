"""Everything that depends on the broker's transport, in one place.

hatchet_celery runs on the team's own Celery broker: Redis or RabbitMQ (kombu's ``redis`` and
``amqp`` transports). They differ where Hatchet needs something of the queue:

- **Priority direction.** kombu's Redis transport keeps one list per priority step and reads
  the *lowest* number first (0 before 9); AMQP delivers the *highest* first and only on a
  queue declared with ``x-max-priority``. Hatchet's priority 3 runs before 1 on both:
  :func:`message_priority` maps it, and every queue the package declares carries
  ``x-max-priority = 3`` (ignored by the Redis transport).
- **Queues that must not pile up.** A worker's own queue (sticky and affinity routing) is
  named after its worker id, so a new one exists per start. :func:`worker_queue` declares it
  auto-delete with an ``x-expires`` idle timeout (RabbitMQ deletes it, kombu's Redis
  transport sweeps its bindings), and the worker deletes it on a clean stop.
- **Existing queues.** Priority cannot be added to an existing RabbitMQ queue in place (a
  re-declaration with other arguments is refused): the package therefore never re-declares a
  queue it did not create. Hatchet task messages go to queues of their own
  (``hatchet.<namespace>.<workflow>``) unless the app's ``task_routes`` routes them.
- **Redelivery.** The Redis transport redelivers an unacked message after its
  ``visibility_timeout``; :func:`check_visibility_timeout` warns when a task's execution
  timeout is longer, since that task would then run twice.
- **A broker restart with messages in flight** (Redis transport): see :func:`install`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import redis
from kombu.entity import Exchange, Queue

log = logging.getLogger(__name__)

#: Hatchet's priorities are 1 (low, the default) to 3 (high).
MAX_PRIORITY = 3
#: kombu Redis transport: lower number = sooner (its default steps are 0, 3, 6, 9).
_REDIS_PRIORITY = {1: 6, 2: 3, 3: 0}
#: A worker's own queue is deleted by the broker once unused this long (a crashed worker's).
WORKER_QUEUE_EXPIRES = 600.0
#: Marks a worker's own queue in its name: ``<prefix>.worker.<worker id>``.
WORKER_QUEUE_INFIX = ".worker."
#: Kombu's redis transport defaults to one hour.
_REDIS_DEFAULT_VISIBILITY = 3600.0


def queue_prefix(namespace: str) -> str:
    """``hatchet.<namespace>``: the default queue of an app the package builds, and the
    prefix of every queue the package declares (``.<workflow>``, ``.worker.<id>``)."""
    return f"hatchet.{namespace.rstrip('_') or 'default'}"


def transport_kind(app: Any) -> str:
    """``"redis"``, ``"amqp"`` or another kombu driver type, without connecting."""
    kind = getattr(app, "_hatchet_transport_kind", None)
    if kind is None:
        kind = str(app.connection_for_write().transport.driver_type)
        app._hatchet_transport_kind = kind
    return kind


def message_priority(kind: str, priority: int | None) -> int:
    """Hatchet priority (1..3, None = 1) as the transport's message priority."""
    p = min(max(int(priority or 1), 1), MAX_PRIORITY)
    if kind == "redis":
        return _REDIS_PRIORITY[p]
    return p


def task_queue(name: str) -> Queue:
    """A queue of Hatchet task messages (one per workflow), prioritised on every broker."""
    return _direct_queue(name)


def worker_queue(name: str) -> Queue:
    """One worker's own queue: gone once its worker is (auto-delete, ``x-expires``)."""
    return _direct_queue(name, auto_delete=True, expires=WORKER_QUEUE_EXPIRES)


def _direct_queue(name: str, **options: Any) -> Queue:
    """A queue bound to a direct exchange of its own name, with Hatchet's priorities."""
    exchange = Exchange(name)  # type: ignore[no-untyped-call]
    return Queue(name, exchange, routing_key=name, max_priority=MAX_PRIORITY, **options)  # type: ignore[no-untyped-call]


def queue_for_name(name: str) -> Queue:
    """The declaration of a queue the package publishes to, from its name."""
    return worker_queue(name) if WORKER_QUEUE_INFIX in name else task_queue(name)


def user_routes_task(app: Any, celery_name: str) -> bool:
    """True when the app's own ``task_routes`` decide where ``celery_name`` goes."""
    if not app.conf.task_routes:
        return False
    try:
        route = app.amqp.router.lookup_route(celery_name, (), {}, {}, None)
    except Exception:  # a router that needs real arguments: the user routes by hand
        log.debug("hatchet_celery: a task router raised for %s", celery_name, exc_info=True)
        return True
    return bool(route)


def delete_queue(app: Any, name: str) -> None:
    """Delete a queue (a worker's own, on a clean stop); a broker that is gone is fine."""
    try:
        with app.connection_for_write() as conn:
            queue = queue_for_name(name).bind(conn.default_channel)  # type: ignore[no-untyped-call]
            # kombu's Redis transport deletes only the bindings its channel declared: declare
            # (idempotent, same arguments) so this channel knows them, then delete.
            queue.declare()
            queue.delete()
    except Exception:
        log.debug("hatchet_celery: could not delete queue %s", name, exc_info=True)


def check_visibility_timeout(app: Any, timeouts: Iterable[float]) -> None:
    """Warn when the Redis transport would redeliver a task that is still running."""
    if transport_kind(app) != "redis":
        return
    longest = max(timeouts, default=0.0)
    options = app.conf.broker_transport_options or {}
    visibility = float(options.get("visibility_timeout", _REDIS_DEFAULT_VISIBILITY))
    if longest >= visibility:
        log.warning(
            "hatchet_celery: a task's execution timeout (%.0f s) is not below the Redis "
            "broker's visibility_timeout (%.0f s): the broker would deliver it again while "
            "it runs. Raise broker_transport_options['visibility_timeout'] above it.",
            longest,
            visibility,
        )


# --- Redis transport: surviving a broker restart ---------------------------------------------
_installed = False
_lock = threading.Lock()


def install() -> None:
    """Keep a worker alive when its Redis broker goes away while messages are in flight.

    With the Redis transport, a worker that loses its broker connection while it holds
    delivered-but-unacked messages (``acks_late``: every Hatchet task) closes the broken
    connection twice: Celery's consumer first ``collect()``s it, which detaches the kombu
    transport from its connection, then ``close()``s it, and closing the channel tries to
    put the unacked messages back in the queue through a new Redis client. Building that
    client reads the detached connection's URL and raises ``AttributeError`` (kombu 5.7),
    which is not a connection error, so Celery reports an "Unrecoverable error" and the
    worker process exits: a Redis restart would kill every busy worker.

    This makes that one step raise the transport's connection error instead, which the close
    path already ignores: the consumer reconnects as after any other connection loss. The
    messages it could not put back stay in the transport's unacked set (redelivered after
    the visibility timeout), and nothing is lost meanwhile: the task runs they carry are
    re-sent by the watchdog timer (``engine.REDISPATCH_SECONDS``) or requeued when their
    lease expires, and a late duplicate ends at the claim. Patched once per process.
    """
    global _installed
    with _lock:
        if _installed:
            return
        try:
            from kombu.transport import redis as kombu_redis
        except ImportError:  # pragma: no cover - kombu without its redis transport
            return
        original = kombu_redis.Channel._connparams

        def _connparams(self: Any, asynchronous: bool = False) -> Any:
            if getattr(self.connection, "client", None) is None:
                raise redis.exceptions.ConnectionError(
                    "the broker connection was already closed (hatchet_celery: not "
                    "restoring unacked messages through it)"
                )
            return original(self, asynchronous=asynchronous)  # type: ignore[no-untyped-call]

        kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]
        _installed = True
