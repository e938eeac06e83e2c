"""Messages no worker can run, on the queues of a user's app: logged, rejected, never fatal.

The README's project under ``celery -A proj worker`` on each broker receives raw messages
published with kombu, as a buggy or foreign producer would send them: a JSON body that is a
string (Celery 5.7's consumer dies on it without the guard), bytes that are not JSON, pickle,
a huge body, wrong argument types, an unknown task, no task header. The same worker process
then serves a plain task and a Hatchet run, and nothing is left on the queues.
"""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection
from kombu.entity import Exchange, Queue

from hatchet_celery._runtime.core.broker_compat import task_queue
from tests.deploy.project import Proc, build_project, drive, worker_command
from tests.test_deployments import broker_url, cell_env

GUARD_LINE = "rejected a message this worker cannot read"


def body(args: list[Any]) -> bytes:
    return json.dumps([args, {}, {"callbacks": None, "errbacks": None, "chain": None}]).encode()


def publish(conn: Any, queue: Queue, name: str | None, payload: bytes, ctype: str) -> str:
    message_id = f"poison-{time.monotonic_ns()}"
    headers = {"task": name, "id": message_id, "lang": "py"} if name else {}
    conn.Producer().publish(
        payload,
        exchange=queue.exchange,
        routing_key=queue.routing_key,
        headers=headers,
        content_type=ctype,
        content_encoding="utf-8" if ctype == "application/json" else "binary",
        declare=[queue],
        retry=True,
    )
    return message_id


def backlog(conn: Any, queues: list[Queue]) -> int:
    return sum(q.bind(conn.default_channel).queue_declare().message_count for q in queues)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
def test_poison_messages_never_kill_the_worker(
    broker_kind: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = build_project(tmp_path)
    namespace = f"poison_{broker_kind}"
    broker = broker_url(broker_kind, redis_url, request)
    env = cell_env(namespace, broker, redis_url, folder)
    worker = Proc(worker_command("threads"), folder, env, "worker")
    workflow = f"{namespace}_new_task"  # Hatchet prefixes workflow names with the namespace
    hatchet_task = f"hatchet.{workflow}.new_task"
    hatchet_q = task_queue(f"hatchet.{namespace}.{workflow}")
    celery_q = Queue("celery", Exchange("celery", type="direct"), routing_key="celery")
    try:
        worker.wait_for_log(" ready.")
        pid = worker.proc.pid
        with Connection(broker) as conn:
            js = "application/json"
            string_hatchet = publish(conn, hatchet_q, hatchet_task, b'"x"', js)
            string_plain = publish(conn, celery_q, "proj.tasks.plain_add", b'"x"', js)
            publish(conn, hatchet_q, hatchet_task, body([1, 2, 3]), js)
            publish(conn, celery_q, "proj.tasks.plain_add", b"{not json", js)
            publish(conn, celery_q, "proj.tasks.no_such_task", body([1]), js)
            publish(conn, celery_q, "proj.tasks.plain_add", pickle.dumps(1),
                    "application/x-python-serialize")  # fmt: skip
            publish(conn, celery_q, "proj.tasks.plain_add", body(["x" * 4_000_000]), js)
            publish(conn, celery_q, None, json.dumps({"no": "task header"}).encode(), js)
            out = drive(folder, env, "smoke")
            deadline = time.monotonic() + 60
            while backlog(conn, [hatchet_q, celery_q]) and time.monotonic() < deadline:
                time.sleep(0.1)
            left = backlog(conn, [hatchet_q, celery_q])
        assert worker.alive and worker.proc.pid == pid, worker.tail()
    finally:
        worker.stop()
    log = worker.log()
    assert out == {"plain": 2, "hatchet": {"hello": "world"}}
    assert left == 0, "a poison message went back to its queue"
    assert "Unrecoverable error" not in log, log[-4000:]
    for message_id in (string_hatchet, string_plain):  # the two that killed workers
        assert any(GUARD_LINE in line and message_id in line for line in log.splitlines()), log
    assert f"malformed message for {hatchet_task}" in log
    assert "untrusted content of type pickle" in log
    assert "proj.tasks.no_such_task" in log
