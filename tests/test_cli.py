"""The ``hatchet-celery`` command (and ``celery hatchet``): tables, JSON, exit codes, and
the worker it starts."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet
from hatchet_celery.cli import cli
from tests.apps import hatchet

pytestmark = pytest.mark.usefixtures("worker")
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@hatchet.task(name="ops_cli_task", retries=0)
def ops_cli_task(input: EmptyModel, ctx: Context) -> dict[str, int]:
    ctx.log("cli log line")
    if ctx.additional_metadata.get("fail") == "yes" and ctx.retry_count == 0:
        raise RuntimeError("asked to fail")
    return {"ok": 1}


unserved = Hatchet(config=ClientConfig(namespace="ops_cli_unserved"))


@unserved.task(name="ops_cli_never")
def ops_cli_never(input: EmptyModel, ctx: Context) -> None:
    return None


def run_cli(*args: str, namespace: str = "tests") -> Any:
    env = {
        "HATCHET_CELERY_REDIS_URL": os.environ["HATCHET_CELERY_REDIS_URL"],
        "HATCHET_CLIENT_NAMESPACE": namespace,
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _run(meta: dict[str, str]) -> str:
    ref = ops_cli_task.run(wait_for_result=False, additional_metadata=meta)
    with contextlib.suppress(Exception):  # failed runs are wanted too
        ref.result()
    return str(ref.workflow_run_id)


def test_runs_list_prints_a_table_or_json() -> None:
    tag = uuid.uuid4().hex
    run_id = _run({"cli": tag})
    table = run_cli("runs", "list", "--meta", f"cli={tag}")
    assert table.exit_code == 0, table.output
    header, row = table.output.strip().splitlines()
    assert header.split()[:3] == ["RUN", "ID", "WORKFLOW"]
    assert run_id in row and "COMPLETED" in row and f"cli={tag}" in row
    as_json = run_cli("runs", "list", "--meta", f"cli={tag}", "--json")
    assert [r["metadata"]["id"] for r in json.loads(as_json.output)] == [run_id]
    failed_only = run_cli("runs", "list", "--meta", f"cli={tag}", "--status", "failed")
    assert failed_only.output.strip().splitlines()[1:] == []


def test_runs_get_logs_and_watch_of_a_finished_run() -> None:
    run_id = _run({"cli": uuid.uuid4().hex})
    got = run_cli("runs", "get", run_id)
    assert got.exit_code == 0 and "COMPLETED" in got.output and "ops_cli_task" in got.output
    logs = run_cli("runs", "logs", run_id)
    assert logs.exit_code == 0 and "cli log line" in logs.output
    watched = run_cli("runs", "watch", run_id)
    assert watched.exit_code == 0 and f"run {run_id} COMPLETED" in watched.output


def test_replay_and_watch_exit_codes_follow_the_run() -> None:
    run_id = _run({"fail": "yes"})
    assert run_cli("runs", "watch", run_id).exit_code == 1  # FAILED
    replayed = run_cli("runs", "replay", run_id)
    assert replayed.exit_code == 0 and "ops_cli_task (attempt 2)" in replayed.output
    watched = run_cli("runs", "watch", run_id, "--interval", "0.05")
    assert watched.exit_code == 0, watched.output


def test_cancel_and_not_found() -> None:
    ref = ops_cli_never.run(wait_for_result=False)
    out = run_cli("runs", "cancel", ref.workflow_run_id, namespace="ops_cli_unserved")
    assert out.exit_code == 0 and f"cancelled {ref.workflow_run_id}" in out.output
    assert unserved.runs.get_status(ref.workflow_run_id).value == "CANCELLED"
    missing = run_cli("runs", "cancel", "no-such-run")
    assert missing.exit_code == 3 and "no-such-run" in missing.output
    assert run_cli("runs", "get", "no-such-run").exit_code == 3


def test_usage_and_unreachable_redis_exit_codes(tmp_path: Path) -> None:
    bad = run_cli("runs", "list", "--since", "yesterday-ish")
    assert bad.exit_code == 2 and "duration" in bad.output
    down = CliRunner().invoke(
        cli,
        ["--redis-url", "redis://127.0.0.1:1/0", "runs", "list"],
        env={"HATCHET_CELERY_REDIS_URL": None},
        catch_exceptions=False,
    )
    assert down.exit_code == 4 and "cannot reach Redis" in down.output
    status = CliRunner().invoke(cli, ["embedded", "status", "--data-dir", str(tmp_path)])
    assert status.exit_code == 1 and "stopped" in status.output


def test_workers_list_events_push_and_crons_list() -> None:
    workers = run_cli("workers", "list")
    assert workers.exit_code == 0 and "ACTIVE" in workers.output
    pushed = run_cli("events", "push", "ops_cli:event", "--payload", '{"a": 1}')
    assert pushed.exit_code == 0 and pushed.output.startswith("pushed ")
    crons = run_cli("crons", "list")
    assert crons.exit_code == 0 and crons.output.startswith("CRON ID")


def test_celery_hatchet_entry_point() -> None:
    out = subprocess.run(
        [str(BIN / "celery"), "hatchet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "runs" in out.stdout and "worker" in out.stdout


def test_worker_command_serves_the_app_with_labels() -> None:
    from tests.apps.ops_cli import hatchet as app
    from tests.apps.ops_cli import ops_cli_hello

    name = f"ops-cli-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [
            str(BIN / "hatchet-celery"),
            "worker",
            "tests.apps.ops_cli:hatchet",
            "--name",
            name,
            "--slots",
            "2",
            "--label",
            "zone=a",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 30
        mine: list[Any] = []
        while not mine:
            assert time.time() < deadline and proc.poll() is None, "the worker did not start"
            mine = [w for w in app.workers.list().rows or [] if w.name == f"ops_cli_{name}"]
            time.sleep(0.1)
        assert [(lb.key, lb.value) for lb in mine[0].labels or []] == [("zone", "a")]
        ref = ops_cli_hello.run(wait_for_result=False)
        while not app.runs.get_details(ref.workflow_run_id).done:  # polled: no waiter left
            assert time.time() < deadline + 30, "the worker did not run the task"
            time.sleep(0.05)
        output = app.runs.get_details(ref.workflow_run_id).task_runs["ops_cli_hello"].output
        assert output == {"hello": mine[0].metadata.id}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_every_command_the_readme_shows_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    lines = [
        line.split("#")[0].split()
        for line in readme.split("## Operate from a shell", 1)[1].split("```", 2)[1].splitlines()
        if line.startswith("hatchet-celery ")
    ]
    assert len(lines) >= 10
    for words in lines:
        command: Any = cli
        for word in words[1:]:
            if not hasattr(command, "commands") or word.startswith("-"):
                break
            assert word in command.commands, f"README shows unknown command {' '.join(words)}"
            command = command.commands[word]
        help_out = CliRunner().invoke(cli, [*words[1:3], "--help"])
        assert help_out.exit_code == 0, (words, help_out.output)


@pytest.mark.parametrize(("command", "says"), [("worker", " to serve"), ("dashboard", "")])
def test_a_command_without_an_app_says_how_to_name_one(command: str, says: str) -> None:
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 2, result.output
    assert f"name the app{says}: MODULE:ATTR" in result.output


def test_the_cli_hatchet_on_a_registry_shares_its_clients_and_makes_no_other() -> None:
    from hatchet_celery._runtime import registry as registries

    served = Hatchet(config=ClientConfig(namespace="ops_cli_on_registry"))
    before = dict(registries._registries)
    seen = Hatchet._on_registry(served._registry)
    assert seen._registry is served._registry
    assert seen.runs is served.runs and seen.namespace == served.namespace
    assert registries._registries == before
