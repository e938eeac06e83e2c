"""``ctx.log`` lines, read back with ``hatchet.logs.list(task_run_id)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hatchet_celery import Context, EmptyModel
from hatchet_celery.clients.rest.models.v1_log_line_level import V1LogLineLevel
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")


@hatchet.task(name="ops_logger", retries=1)
def ops_logger(input: EmptyModel, ctx: Context) -> dict[str, str]:
    for i in range(3):
        ctx.log(f"line {i} of attempt {ctx.attempt_number}")
    ctx.log({"structured": True})
    if ctx.retry_count == 0:
        raise RuntimeError("fail once so that both attempts log")
    return {"ok": "yes"}


async def test_logs_of_a_task_run_in_order_with_attempts() -> None:
    ref = await ops_logger.aio_run(wait_for_result=False)
    await ref.aio_result()
    details = await hatchet.runs.aio_get_details(ref.workflow_run_id)
    task_run_id = details.task_runs["ops_logger"].external_id
    lines = (await hatchet.logs.aio_list(task_run_id)).rows or []
    assert [line.message for line in lines] == [
        "line 0 of attempt 1",
        "line 1 of attempt 1",
        "line 2 of attempt 1",
        '{"structured": true}',
        "line 0 of attempt 2",
        "line 1 of attempt 2",
        "line 2 of attempt 2",
        '{"structured": true}',
    ]
    assert [line.retry_count for line in lines] == [0] * 4 + [1] * 4
    assert all(line.task_external_id == task_run_id for line in lines)
    assert all(line.level == V1LogLineLevel.INFO for line in lines)

    last_two = hatchet.logs.list(task_run_id, limit=2).rows or []
    assert [line.message for line in last_two] == [
        "line 2 of attempt 2",
        '{"structured": true}',
    ]
    future = datetime.now(UTC) + timedelta(minutes=1)
    assert hatchet.logs.list(task_run_id, since=future).rows == []
    assert len(hatchet.logs.list(task_run_id, until=future).rows or []) == 8
    assert hatchet.logs.list("no-such-task-run").rows == []
