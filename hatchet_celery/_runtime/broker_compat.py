"""Keep a worker alive when its Redis broker goes away while messages are in flight.

With the Redis transport, a worker that loses its broker connection while it holds
delivered-but-unacked messages (``acks_late``: every Hatchet task) closes the broken
connection twice: Celery's consumer first ``collect()``s it, which detaches the kombu
transport from its connection, then ``close()``s it, and closing the channel tries to
put the unacked messages back in the queue through a new Redis client. Building that
client reads the detached connection's URL and raises ``AttributeError`` (kombu 5.7),
which is not a connection error, so Celery reports an "Unrecoverable error" and the
worker process exits: a Redis restart would kill every busy worker.

``install()`` makes that one step raise the transport's connection error instead, which
the close path already ignores: the consumer reconnects as it does after any other
connection loss. The messages it could not put back stay in the transport's unacked set
(redelivered after the visibility timeout), and nothing is lost meanwhile: the task runs
they carry are re-sent by the watchdog timer (``engine.REDISPATCH_SECONDS``) or requeued
when their lease expires, and a late duplicate ends at the claim.
"""

from __future__ import annotations

import threading
from typing import Any

import redis

_installed = False
_lock = threading.Lock()


def install() -> None:
    """Patch ``kombu.transport.redis.Channel._connparams`` once per process."""
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
