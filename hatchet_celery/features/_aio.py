"""``aio_twin`` for the feature clients (it lives in ``hatchet_celery._twins``).

Every feature method is written once, synchronously (Redis round trips are short), and
its coroutine twin runs it in a worker thread, so the event loop is never blocked.
"""

from __future__ import annotations

from hatchet_celery._twins import aio_twin

__all__ = ["aio_twin"]
