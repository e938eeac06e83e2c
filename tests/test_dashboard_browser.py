# ruff: noqa: F811  (the fixtures imported from tests/dashboard/harness.py are arguments)
"""The dashboard in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against a real worker process and a real uvicorn server on 127.0.0.1.

Every wait is on the page's DOM or on the run's state, bounded and generous; none is a
fixed sleep. A screenshot of a finished DAG run's page is saved to ``results.artifacts/``.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.app import dash_dag, dash_flaky, dash_gated, release, wait_status
from tests.dashboard.harness import ARTIFACTS, dash_worker, dashboard, serve  # noqa: F401

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.usefixtures("dash_worker"),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
TASKS = ("start", "left", "right", "join")
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, dashboard: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=dashboard.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def node_status(page: Any, task: str) -> str:
    return str(page.text_content(f'svg.dag g.node[data-task="{task}"] text.status'))


def wait_node(page: Any, task: str, status: str) -> None:
    page.wait_for_function(
        "([task, status]) => { const el = document.querySelector("
        '`svg.dag g.node[data-task="${task}"] text.status`);'
        " return el !== null && el.textContent === status; }",
        arg=[task, status],
        timeout=WAIT_MS,
    )


def wait_run_status(page: Any, status: str) -> None:
    page.wait_for_function(
        "(s) => { const el = document.getElementById('run-status');"
        " return el !== null && el.textContent === s; }",
        arg=status,
        timeout=WAIT_MS,
    )


def test_runs_page_lists_a_triggered_run(page: Any) -> None:
    tag = uuid.uuid4().hex
    ref = dash_dag.run_no_wait({"n": 1}, additional_metadata={"browser": tag})
    ref.result()
    page.goto(f"/?meta=browser={tag}")
    row = page.locator(f'tr[data-run="{ref.workflow_run_id}"]')
    assert row.count() == 1
    assert "COMPLETED" in row.inner_text() and dash_dag.name in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(f"**/runs/{ref.workflow_run_id}")


def test_runs_page_shows_new_runs_without_a_reload(page: Any) -> None:
    tag = uuid.uuid4().hex
    page.goto(f"/?meta=live={tag}")
    assert page.locator("tr[data-run]").count() == 0
    page.evaluate("window.__not_reloaded = true")
    ref = dash_dag.run_no_wait({"n": 1}, additional_metadata={"live": tag})
    page.wait_for_selector(f'tr[data-run="{ref.workflow_run_id}"] .st-COMPLETED')
    assert page.evaluate("window.__not_reloaded") is True


def test_finished_dag_run_page_shows_every_task_completed(page: Any) -> None:
    ref = dash_dag.run_no_wait({"n": 4}, additional_metadata={"shot": "yes"})
    ref.result()
    page.goto(f"/runs/{ref.workflow_run_id}")
    assert page.inner_text("#run-status") == "COMPLETED"
    for task in TASKS:
        assert node_status(page, task) == "COMPLETED"
        row = page.locator(f'table.tasks tr[data-task="{task}"]')
        assert row.locator(".status").inner_text() == "COMPLETED"
    assert page.locator("svg.dag path.edge").count() == 4
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-run.png"), full_page=True)


def test_run_page_updates_live_as_tasks_finish(page: Any) -> None:
    run_id = dash_gated.run_no_wait({"n": 1}).workflow_run_id
    page.goto(f"/runs/{run_id}")
    page.evaluate("window.__not_reloaded = true")
    wait_node(page, "gate", "RUNNING")
    assert node_status(page, "after") != "COMPLETED"
    release(run_id)
    wait_node(page, "gate", "COMPLETED")
    wait_node(page, "after", "COMPLETED")
    wait_run_status(page, "COMPLETED")
    assert page.evaluate("window.__not_reloaded") is True  # no reload: live events
    page.wait_for_selector("#replay-run")  # the finished run's actions came in as well


def test_cancel_from_the_page(page: Any) -> None:
    run_id = dash_gated.run_no_wait({"n": 1}).workflow_run_id
    page.goto(f"/runs/{run_id}")
    wait_node(page, "gate", "RUNNING")
    page.click("#cancel-run")
    wait_run_status(page, "CANCELLED")
    wait_status(run_id, "CANCELLED")
    assert node_status(page, "gate") == "CANCELLED"


def test_replay_from_the_page(page: Any) -> None:
    run_id = dash_flaky.run_no_wait().workflow_run_id
    wait_status(run_id, "FAILED")
    page.goto(f"/runs/{run_id}")
    error = page.inner_text("section.task#task-boom")
    assert "ValueError: boom fails on its first attempt" in error and "Traceback" in error
    assert node_status(page, "boom") == "FAILED"
    assert node_status(page, "after_boom") == "BLOCKED"  # a failed parent's child never runs
    page.click("#replay-run")
    wait_run_status(page, "COMPLETED")
    wait_status(run_id, "COMPLETED")
    assert node_status(page, "boom") == "COMPLETED"
    wait_node(page, "after_boom", "COMPLETED")
    assert page.inner_text('table.tasks tr[data-task="boom"] .attempt') == "2"


def test_bad_trigger_input_shows_the_field_error(page: Any) -> None:
    page.goto(f"/trigger?workflow={dash_dag.name}")
    page.fill("#input", '{"n": "not a number"}')
    page.click("#trigger-submit")
    error = page.locator('.field-error[data-field="input.n"]')
    error.wait_for()
    assert "valid integer" in error.inner_text()
    assert page.input_value("#input") == '{"n": "not a number"}'  # kept for correction
    page.fill("#input", '{"n": 3}')
    page.click("#trigger-submit")
    page.wait_for_url("**/runs/*")
    wait_run_status(page, "COMPLETED")


def test_cancel_one_task_from_the_page(page: Any) -> None:
    run_id = dash_gated.run_no_wait({"n": 1}).workflow_run_id
    page.goto(f"/runs/{run_id}")
    wait_node(page, "gate", "RUNNING")
    page.click('table.tasks tr[data-task="gate"] button')
    wait_node(page, "gate", "CANCELLED")
    wait_run_status(page, "CANCELLED")
    assert node_status(page, "before") == "COMPLETED"
    assert node_status(page, "after") == "BLOCKED"
