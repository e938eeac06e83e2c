"""The test helper itself: a real redis-server that restarts, persists and dies cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from hatchet_celery.testing import RedisServer


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_restart_keeps_port_and_appendonly_data() -> None:
    with RedisServer(appendonly=True) as server:
        port, first_pid = server.port, server.pid
        assert first_pid is not None
        assert server.url == f"redis://127.0.0.1:{port}/0"
        client = server.client()
        client.set("k", "v")
        client.close()

        server.restart()

        assert server.port == port
        assert server.pid != first_pid
        assert gone(first_pid)
        client = redis.Redis.from_url(server.url)
        assert client.get("k") == b"v"
        client.close()
        data_dir = server.data_dir
    assert server.pid is None
    assert not data_dir.exists()  # the temporary folder went with stop()


def test_kill_leaves_no_process() -> None:
    server = RedisServer().start()
    try:
        pid = server.pid
        assert pid is not None and server.client().ping()
        server.kill()
        assert server.pid is None
        assert gone(pid)  # killed and reaped: not even a zombie
    finally:
        server.stop()
    server.stop()  # stopping twice is harmless


def test_password_and_explicit_data_dir(tmp_path: Path) -> None:
    data_dir = os.fspath(tmp_path)
    with RedisServer(password="p@ss/word", data_dir=data_dir) as server:
        assert server.url == f"redis://:p%40ss%2Fword@127.0.0.1:{server.port}/0"
        assert redis.Redis.from_url(server.url).ping()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=server.port, retry=Retry(NoBackoff(), 0)).ping()
    assert os.path.isdir(data_dir)  # a folder we were given is left in place
