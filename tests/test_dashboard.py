# ruff: noqa: F811  (the fixtures imported from tests/dashboard/harness.py are arguments)
"""The dashboard's server side: the bind rule and credentials, the JSON API, the pages'
HTML, read-only mode, Prometheus ``/metrics``; against a real Redis, a real worker
process and a real uvicorn server on 127.0.0.1 (``tests/dashboard/harness.py``)."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from hatchet_celery.dashboard import Access, DashboardConfigError, check_bind
from hatchet_celery.dashboard.dag import layout, render_svg
from tests.dashboard.app import dash_conc, dash_dag, dash_gated, hatchet, release, wait_status
from tests.dashboard.harness import ROOT, dash_worker, dashboard, serve  # noqa: F401

pytestmark = pytest.mark.usefixtures("dash_worker")
TASKS = ("start", "left", "right", "join")


def _finished_dag(**metadata: str) -> str:
    ref = dash_dag.run_no_wait({"n": 2}, additional_metadata=metadata)
    ref.result()
    return str(ref.workflow_run_id)


# --- the bind rule and the credentials --------------------------------------------------------
def test_bind_rule_refuses_a_public_host_without_credentials() -> None:
    check_bind("127.0.0.1", Access())
    check_bind("::1", Access())
    check_bind("localhost", Access())
    with pytest.raises(DashboardConfigError, match="--token"):
        check_bind("0.0.0.0", Access())
    check_bind("0.0.0.0", Access.of("s3cret", None))
    check_bind("0.0.0.0", Access.of(None, "ann:pw"))
    with pytest.raises(DashboardConfigError, match="USER:PASSWORD"):
        Access.of(None, "no-colon")


def test_command_refuses_a_public_host_without_credentials() -> None:
    from hatchet_celery.cli import cli

    result = CliRunner().invoke(
        cli, ["dashboard", "tests.dashboard.app:hatchet", "--host", "0.0.0.0", "--port", "1"]
    )
    assert result.exit_code == 2, result.output
    assert "refusing to serve the dashboard on '0.0.0.0' without credentials" in result.output


def test_token_is_required_and_accepted_three_ways(serve: Any) -> None:
    server = serve(token="t0ken")
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/runs").status_code == 401
        assert client.get("/api/runs", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = client.get("/api/runs", headers={"Authorization": "Bearer t0ken"})
        assert ok.status_code == 200
        first = client.get("/workers?token=t0ken")  # sets the cookie, drops the token
        assert first.status_code == 303 and first.headers["location"] == "/workers"
        assert "HttpOnly" in first.headers["set-cookie"]
        assert client.get("/workers").status_code == 200  # the cookie now


def test_basic_auth(serve: Any) -> None:
    server = serve(basic_auth="ann:pw")

    def auth(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    with httpx.Client(base_url=server.url) as client:
        refused = client.get("/")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert client.get("/", headers=auth("ann", "bad")).status_code == 401
        assert client.get("/", headers=auth("ann", "pw")).status_code == 200


def test_cross_site_post_is_refused(dashboard: Any) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        response = client.post("/runs/x/replay", headers={"Origin": "http://evil.example"})
        assert response.status_code == 403


# --- the JSON API and pages ---------------------------------------------------------------------
def test_api_lists_and_describes_a_finished_dag_run(dashboard: Any) -> None:
    tag = uuid.uuid4().hex
    run_id = _finished_dag(dash=tag)
    with httpx.Client(base_url=dashboard.url) as client:
        listed = client.get("/api/runs", params={"meta": f"dash={tag}"}).json()
        assert [r["id"] for r in listed["rows"]] == [run_id]
        assert listed["rows"][0]["status"] == "COMPLETED"
        assert listed["rows"][0]["workflow"] == dash_dag.name
        by_status = client.get(
            "/api/runs", params={"status": "FAILED", "meta": f"dash={tag}"}
        ).json()
        assert by_status["rows"] == []
        by_workflow = client.get(
            "/api/runs", params={"workflow": dash_gated.name, "meta": f"dash={tag}"}
        ).json()
        assert by_workflow["rows"] == []
        run = client.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "COMPLETED"
        assert {t["name"]: t["status"] for t in run["tasks"]} == dict.fromkeys(TASKS, "COMPLETED")
        join = next(t for t in run["tasks"] if t["name"] == "join")
        assert join["parents"] == ["left", "right"] and '"sum": 7' in join["output"]
        start = next(t for t in run["tasks"] if t["name"] == "start")
        assert [line["message"] for line in start["logs"]] == ["starting with n=2"]
        assert client.get("/api/runs/no-such-run").status_code == 404
        page = client.get(f"/runs/{run_id}").text
        for task in TASKS:
            assert f'data-task="{task}"' in page
        assert page.count("st-COMPLETED") >= 2 * len(TASKS)
        assert "<svg" in page and 'class="edge"' in page


def test_parent_and_child_runs_link_to_each_other(dashboard: Any) -> None:
    from tests.dashboard.app import dash_parent

    ref = dash_parent.run_no_wait({"n": 3})
    assert ref.result() == {"child_sum": 10}
    with httpx.Client(base_url=dashboard.url) as client:
        parent = client.get(f"/api/runs/{ref.workflow_run_id}").json()
        assert [c["workflow"] for c in parent["children"]] == [dash_dag.name]
        child_id = parent["children"][0]["id"]
        child = client.get(f"/api/runs/{child_id}").json()
        assert child["parent_run_id"] == ref.workflow_run_id
        assert f'href="/runs/{child_id}"' in client.get(f"/runs/{ref.workflow_run_id}").text
        assert f'href="/runs/{ref.workflow_run_id}"' in client.get(f"/runs/{child_id}").text


def test_runs_page_paginates_newest_first(dashboard: Any) -> None:
    tag = uuid.uuid4().hex
    ids = [_finished_dag(page=tag) for _ in range(3)]
    with httpx.Client(base_url=dashboard.url) as client:
        first = client.get("/api/runs", params={"meta": f"page={tag}", "limit": 2}).json()
        second = client.get(
            "/api/runs", params={"meta": f"page={tag}", "limit": 2, "page": 2}
        ).json()
        assert [r["id"] for r in first["rows"] + second["rows"]] == ids[::-1]
        assert first["next_page"] == 2 and second["next_page"] is None
        html = client.get("/", params={"meta": f"page={tag}", "limit": 2}).text
        assert ids[2] in html and ids[0] not in html and "older →" in html


def test_api_overview_endpoints(dashboard: Any, dash_worker: Any) -> None:
    _finished_dag()
    with httpx.Client(base_url=dashboard.url) as client:
        workflows = {w["name"]: w for w in client.get("/api/workflows").json()}
        shape = {t["name"]: t["parents"] for t in workflows[dash_dag.name]["tasks"]}
        assert shape == {
            "start": [],
            "left": ["start"],
            "right": ["start"],
            "join": ["left", "right"],
        }
        workers = client.get("/api/workers").json()
        assert any(w["name"].endswith("dash-worker") and w["slots"] == 10 for w in workers)
        metrics = client.get("/api/metrics").json()
        assert sum(metrics["throughput"]) >= 1 and dash_dag.name in metrics["per_workflow"]
        assert set(client.get("/api/flow").json()) == {"concurrency", "rate_limits", "parked"}
        assert "crons" in client.get("/api/crons").json()
        assert "events" in client.get("/api/events").json()
        for page in ("/workflows", "/workers", "/crons", "/events", "/flow", "/metrics-page"):
            response = client.get(page)
            assert response.status_code == 200, page
        assert dash_dag.name in client.get("/workflows").text


def test_prometheus_endpoint(dashboard: Any) -> None:
    _finished_dag()
    with httpx.Client(base_url=dashboard.url) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "# TYPE hatchet_celery_runs gauge" in lines
    assert any(line.startswith('hatchet_celery_runs{status="COMPLETED"} ') for line in lines)
    count = f'hatchet_celery_run_latency_seconds_count{{workflow="{dash_dag.name}"}} '
    assert any(line.startswith(count) for line in lines)
    assert any(line.startswith("hatchet_celery_worker_slots{") for line in lines)


def test_trigger_validates_the_input_model(dashboard: Any) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        bad = client.post("/api/trigger", json={"workflow": dash_dag.name, "input": {"n": "x"}})
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["input.n"]
        page = client.post(
            "/trigger", data={"workflow": dash_dag.name, "input": "{not json", "metadata": "{}"}
        )
        assert page.status_code == 422 and 'data-field="input"' in page.text
        good = client.post("/api/trigger", json={"workflow": dash_dag.name, "input": {"n": 5}})
        assert good.status_code == 201
    result = hatchet.runs.get_run_ref(good.json()["run_id"]).result()
    assert result["join"] == {"sum": 16}


def test_cancel_and_replay_through_the_api(dashboard: Any) -> None:
    run_id = dash_gated.run_no_wait({"n": 1}).workflow_run_id
    with httpx.Client(base_url=dashboard.url) as client:
        assert client.post(f"/api/runs/{run_id}/cancel").json() == {"ok": True}
        wait_status(run_id, "CANCELLED")
        assert client.post(f"/api/runs/{run_id}/replay").json() == {"ok": True}
    release(run_id)
    assert hatchet.runs.get_run_ref(run_id).result()["after"] == {"after": "done"}


def test_flow_control_shows_holders_waiters_and_the_queue_position(dashboard: Any) -> None:
    label = uuid.uuid4().hex
    first = dash_conc.run_no_wait({"label": label}).workflow_run_id
    wait_status(first, "RUNNING")
    second = dash_conc.run_no_wait({"label": label}).workflow_run_id
    with httpx.Client(base_url=dashboard.url) as client:

        def held_task(run_id: str) -> dict[str, Any]:
            return dict(client.get(f"/api/runs/{run_id}").json()["tasks"][0])

        deadline = time.monotonic() + 60
        while held_task(second)["status"] != "WAIT_CONCURRENCY":
            assert time.monotonic() < deadline, held_task(second)
            time.sleep(0.05)
        assert held_task(second)["flow"]["queue position"] == [{"key": label, "position": 1}]
        entry = next(k for k in client.get("/api/flow").json()["concurrency"] if k["key"] == label)
        assert entry["holders"] == [first] and entry["waiters"] == [second]
        assert entry["max"] == 1
        gate = f"workflow {dash_conc.name}"
        waiters = f'hatchet_celery_concurrency_waiters{{gate="{gate}",key="{label}"}} 1'
        assert waiters in client.get("/metrics").text.splitlines()
        assert f"held {label}" in client.get(f"/runs/{first}").text  # streamed output
    release(first)
    release(second)
    for run_id in (first, second):
        assert hatchet.runs.get_run_ref(run_id).result()["held"] == {"released": True}


def test_crons_and_scheduled_runs_are_created_and_deleted_from_the_page(dashboard: Any) -> None:
    from datetime import UTC, datetime, timedelta

    name = f"nightly-{uuid.uuid4().hex[:6]}"
    later = datetime.now(UTC) + timedelta(days=1)
    with httpx.Client(base_url=dashboard.url) as client:
        when = later.strftime("%Y-%m-%dT%H:%M:%S")
        form = {"workflow": dash_dag.name, "trigger_at": when, "input": '{"n": 1}'}
        assert client.post("/scheduled/new", data=form).status_code == 303
        (scheduled,) = [
            s
            for s in hatchet.scheduled.list().rows
            if s.workflow_name == dash_dag.name
            and int(s.trigger_at.timestamp()) == int(later.timestamp())
        ]
        bad = client.post("/scheduled/new", data={**form, "trigger_at": "tomorrow"})
        assert bad.status_code == 422
        form = {"workflow": dash_dag.name, "name": name, "expression": "0 3 * * *", "input": "{}"}
        assert client.post("/crons/new", data=form).status_code == 303
        crons = client.get("/api/crons").json()
        mine = [c for c in crons["crons"] if c["name"] == name]
        assert [(c["workflow"], c["cron"]) for c in mine] == [(dash_dag.name, "0 3 * * *")]
        bad = client.post("/crons/new", data={**form, "expression": "not a cron"})
        assert bad.status_code == 422 and "field-error" in bad.text
        assert scheduled.metadata.id in [s["id"] for s in crons["scheduled"]]
        assert name in client.get("/crons").text
        assert client.post(f"/crons/{mine[0]['id']}/delete").status_code == 303
        client.post(f"/scheduled/{scheduled.metadata.id}/delete")
        after = client.get("/api/crons").json()
        assert name not in [c["name"] for c in after["crons"]]
        assert scheduled.metadata.id not in [s["id"] for s in after["scheduled"]]


def test_events_page_lists_the_runs_each_event_triggered(dashboard: Any) -> None:
    tag = uuid.uuid4().hex
    hatchet.event.push("dash:ping", {"tag": tag})
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=dashboard.url) as client:
        while True:
            events = client.get("/api/events").json()["events"]
            mine = [e for e in events if e["payload"] == {"tag": tag}]
            if mine and mine[0]["runs"]:
                break
            assert time.monotonic() < deadline, events[:3]
            time.sleep(0.05)
        (run_id,) = mine[0]["runs"]
        assert hatchet.runs.get_run_ref(run_id).result()["pong"] == {"pong": {"tag": tag}}
        page = client.get("/events").text
        assert "dash:ping" in page and f"/runs/{run_id}" in page


def test_run_page_says_what_a_task_waits_for(dashboard: Any) -> None:
    from tests.dashboard.app import dash_waits

    run_id = dash_waits.run_no_wait().workflow_run_id
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=dashboard.url) as client:
        while (task := client.get(f"/api/runs/{run_id}").json()["tasks"][0])["status"] != "WAITING":
            assert time.monotonic() < deadline, task
            time.sleep(0.05)
        lines = task["waits"]["conditions"]
        assert len(lines) == 2 and all(line.startswith("QUEUE on ") for line in lines)
        assert any("sleep 10m (until " in line and line.endswith(": waiting") for line in lines)
        assert any("event 'dash_dash:go'" in line or "dash:go" in line for line in lines)
        assert "waiting for its conditions" in client.get(f"/runs/{run_id}").text
    hatchet.event.push("dash:go", {})
    assert hatchet.runs.get_run_ref(run_id).result()["waiter"] == {"waited": "yes"}


def test_read_only_hides_and_refuses_actions(serve: Any) -> None:
    server = serve(read_only=True)
    run_id = _finished_dag()
    with httpx.Client(base_url=server.url) as client:
        page = client.get(f"/runs/{run_id}").text
        assert "Replay run" not in page and "Trigger a run" not in page and "read-only" in page
        assert client.post(f"/runs/{run_id}/replay").status_code in (404, 405)
        assert client.post(f"/api/runs/{run_id}/cancel").status_code in (404, 405)
        assert client.get("/trigger").status_code in (404, 405)


# --- pure parts and packaging ---------------------------------------------------------------------
def test_dag_layout_columns_follow_the_longest_path() -> None:
    parents = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["a", "d"], "f": []}
    nodes = layout(parents, on_failure="f")
    assert {n: nodes[n].column for n in parents} == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3, "f": 4}
    svg = render_svg(parents, {"a": "COMPLETED", "b": "FAILED"}, on_failure="f")
    assert svg.count('class="edge"') == 6
    assert 'class="node st-BLOCKED' not in svg and 'class="node st-PENDING' in svg
    assert 'class="node st-FAILED" data-task="b"' in svg


def test_core_package_imports_without_the_dashboard_extra() -> None:
    code = (
        "import sys\n"
        "for name in ('starlette', 'uvicorn', 'jinja2'):\n"
        "    sys.modules[name] = None\n"
        "import hatchet_celery, hatchet_celery.cli\n"
        "assert not any(m.startswith('hatchet_celery.dashboard') for m in sys.modules)\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(hatchet_celery.cli.cli, "
        "['dashboard', 'tests.dashboard.app:hatchet'])\n"
        "print(r.exit_code, r.output)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("2 ") and "pip install 'hatchet-celery[dashboard]'" in out.stdout


def test_plain_celery_tasks_page_shows_task_events(serve: Any) -> None:
    from tests.dashboard.app import plain_add

    server = serve(celery_events=True)
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=server.url) as client:
        while not seen:
            assert time.monotonic() < deadline, client.get("/api/celery").json()
            sent = plain_add.delay(2, 3)  # again until the receiver listens (events are not kept)
            wait_until = time.monotonic() + 5
            while not seen and time.monotonic() < wait_until:
                tasks = client.get("/api/celery").json()["tasks"]
                seen = [t for t in tasks if t["id"] == sent.id and t.get("state") == "SUCCEEDED"]
                time.sleep(0.1)
        assert seen[0]["name"] == "dash_plain_add" and str(seen[0]["result"]) == "5"
        assert all(not t["name"].startswith("hatchet.") for t in tasks)
        assert "dash_plain_add" in client.get("/celery").text


@contextlib.contextmanager
def _command(args: list[str], pattern: str, tmp_path: Path) -> Iterator[str]:
    """Run ``hatchet-celery ARGS`` until its output matches ``pattern``: yield the URL
    the pattern captures; stop the command's whole process group afterwards."""
    log = tmp_path / "command.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "hatchet-celery"), *args],
            cwd=ROOT,
            env={**os.environ, "HATCHET_CELERY_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(pattern, log.read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield found.group(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_dashboard_command_serves_with_a_token(tmp_path: Path) -> None:
    args = ["dashboard", "tests.dashboard.app:hatchet", "--port", "0", "--token", "tk"]
    with _command(args, r"dashboard: (http://\S+)", tmp_path) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url) and not url.endswith(":0/")
        assert httpx.get(url, timeout=30).status_code == 401
        page = httpx.get(url + "workflows", headers={"Authorization": "Bearer tk"}, timeout=30)
        assert page.status_code == 200 and dash_dag.name in page.text


def test_dev_command_serves_the_dashboard_and_prints_its_url(tmp_path: Path) -> None:
    args = ["dev", "tests.dashboard.app:hatchet"]
    with _command(args, r"dashboard at (http://\S+)", tmp_path) as url:
        assert url.startswith("http://127.0.0.1:")
        page = httpx.get(url + "workflows", timeout=30)
        assert page.status_code == 200 and dash_dag.name in page.text


def test_run_events_stream_snapshots_until_the_run_ends(dashboard: Any) -> None:
    import json

    run_id = dash_gated.run_no_wait({"n": 1}).workflow_run_id
    wait_status(run_id, "RUNNING")
    snapshots: list[dict[str, Any]] = []
    with (
        httpx.Client(base_url=dashboard.url, timeout=60) as client,
        client.stream("GET", f"/runs/{run_id}/events") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "run":
                snapshots.append(json.loads(line[6:]))
                if len(snapshots) == 1:
                    release(run_id)  # the run moves on while the stream is open
            elif line.startswith("data: ") and event == "end":
                break
    assert snapshots[0]["status"] == "RUNNING"
    assert snapshots[0]["tasks"]["gate"]["status"] == "RUNNING"
    assert snapshots[-1]["status"] == "COMPLETED" and snapshots[-1]["done"] is True
    assert {t["status"] for t in snapshots[-1]["tasks"].values()} == {"COMPLETED"}
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        finished = client.get(f"/runs/{run_id}/events").text  # a finished run: one snapshot
    assert finished.count("event: run") == 1 and "event: end" in finished


def test_run_page_shows_the_error_of_every_failed_attempt(dashboard: Any) -> None:
    from tests.dashboard.app import retried

    ref = retried.run_no_wait()
    assert ref.result() == {"attempt": 2}
    state = hatchet._registry.client().fetch(ref.workflow_run_id)
    assert state is not None
    errors = state.tasks["dash_retried"].attempt_errors
    assert sorted(errors) == [0, 1]
    assert "attempt 1 of dash_retried" in errors[0].exc
    assert "attempt 2 of dash_retried" in errors[1].exc
    with httpx.Client(base_url=dashboard.url) as client:
        page = client.get(f"/runs/{ref.workflow_run_id}").text
    assert "Attempt 1 failed" in page and "Attempt 2 failed" in page
    assert "attempt 1 of dash_retried fails on purpose" in page
    assert "attempt 2 of dash_retried fails on purpose" in page
    # the REST history says why each earlier attempt failed, too
    events = hatchet.runs.get(ref.workflow_run_id).task_events
    failed = [e.error_message for e in events if str(e.event_type.value) == "FAILED"]
    assert len(failed) == 2 and all("fails on purpose" in str(m) for m in failed), failed
