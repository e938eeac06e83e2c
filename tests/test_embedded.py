"""The embedded default redis-server: started on demand, shared, persistent, stoppable."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hatchet_celery._embedded import EmbeddedRedis, embedded_for, redis_server_binary

REPO = Path(__file__).resolve().parents[1]

# Run in a child process: wait for "go" on stdin so both children race for the start, then
# report the pid of the server they reached.
CHILD = """
import json, sys
import redis
from hatchet_celery._embedded import EmbeddedRedis
embedded = EmbeddedRedis(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
url = embedded.ensure_running()
pid = redis.Redis.from_url(url).info("server")["process_id"]
print(json.dumps({"url": url, "pid": pid}), flush=True)
"""


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "data")
    try:
        yield server
    finally:
        server.stop()


def server_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def test_binary_is_found() -> None:
    assert os.access(redis_server_binary(), os.X_OK)


def test_ensure_running_starts_a_persistent_server_on_a_private_socket(
    embedded: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not embedded.is_running()
    url = embedded.ensure_running()

    assert url == f"unix://{embedded.socket_path}" == embedded.url
    assert embedded.broker_url == f"redis+socket://{embedded.socket_path}"
    assert embedded.is_running()
    client = redis.Redis.from_url(url)
    try:
        assert client.set("k", "v")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("port") == {"port": "0"}
    finally:
        client.close()
    assert stat.S_IMODE(os.stat(embedded.socket_path).st_mode) == 0o700
    data = embedded.data_dir
    assert (data / "appendonly.aof").exists() or (data / "appendonlydir").is_dir()
    started = [line for line in capsys.readouterr().err.splitlines() if "started" in line]
    assert started == [
        f"hatchet_celery: started the embedded redis-server at {url} (data in {data}); "
        "stop it with: hatchet-celery embedded stop"
    ]

    assert embedded.ensure_running() == url  # already running: nothing started, nothing said
    assert capsys.readouterr().err == ""


def test_two_processes_share_one_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=30) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
        EmbeddedRedis(data).stop()

    assert [child.returncode for child in children] == [0, 0], results
    reports = [json.loads(out) for out, _ in results]
    assert reports[0] == reports[1]
    started = sum(err.count("started the embedded redis-server") for _, err in results)
    assert started == 1


def test_data_survives_stop_and_start(embedded: EmbeddedRedis) -> None:
    url = embedded.ensure_running()
    first_pid = server_pid(url)
    client = redis.Redis.from_url(url)
    try:
        client.set("survivor", "still here")
    finally:
        client.close()

    assert embedded.stop() is True
    assert not embedded.is_running()
    assert not os.path.exists(embedded.socket_path)

    url = embedded.ensure_running()
    assert server_pid(url) != first_pid
    client = redis.Redis.from_url(url)
    try:
        assert client.get("survivor") == b"still here"
    finally:
        client.close()


def test_stop_when_nothing_runs(tmp_path: Path) -> None:
    assert EmbeddedRedis(tmp_path / "never-started").stop() is False


def test_long_data_dir_puts_the_socket_under_tmp(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    assert len(os.fsencode(str(deep / "redis.sock"))) > 107
    assert server.socket_path.startswith("/tmp/hatchet_celery-")
    assert server.socket_path == EmbeddedRedis(deep).socket_path  # derived, not random
    try:
        client = redis.Redis.from_url(server.ensure_running())
        try:
            assert client.ping()
        finally:
            client.close()
    finally:
        assert server.stop() is True


def test_embedded_for_shares_one_instance_per_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    assert embedded_for(tmp_path / "data") is embedded_for(tmp_path / "link")
    assert embedded_for(tmp_path / "data").socket_path == str(tmp_path / "data" / "redis.sock")


def test_stale_pidfile_naming_another_process_is_ignored(embedded: EmbeddedRedis) -> None:
    """A pidfile left by a killed server may name a pid reused by an unrelated process."""
    embedded.data_dir.mkdir(parents=True)
    embedded.pidfile.write_text(f"{os.getpid()}\n")
    assert embedded.stop() is False  # and this test process was not signalled
    embedded.ensure_running()
    assert embedded.is_running()


def test_stop_does_not_create_the_data_folder(tmp_path: Path) -> None:
    assert EmbeddedRedis(tmp_path / "absent").stop() is False
    assert not (tmp_path / "absent").exists()
