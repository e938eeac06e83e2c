"""``hatchet-celery runs list|get|cancel|replay|logs|watch``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

import hatchet_celery.cli._render as render
from hatchet_celery.cli._common import (
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    CliError,
    features,
    handle_errors,
    parse_pairs,
    parse_when,
)
from hatchet_celery.clients.rest.models.v1_task_status import V1TaskStatus
from hatchet_celery.exceptions import RunNotFoundError

STATUSES = [s.value for s in V1TaskStatus]


@click.group()
def runs() -> None:
    """Find, inspect, cancel, replay and watch runs."""


@runs.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES, False),
    help="Keep runs in this status (repeatable).",
)
@click.option("--workflow", "workflows", multiple=True, help="Workflow name (repeatable).")
@click.option(
    "--meta",
    "meta",
    multiple=True,
    metavar="KEY=VALUE",
    help="Runs with this metadata pair (repeatable: any of them).",
)
@click.option(
    "--since",
    default="1d",
    show_default=True,
    help="Created after: 30m, 2h, 7d ago, or an ISO date-time.",
)
@click.option("--until", default=None, help="Created before (same forms as --since).")
@click.option("--parent", default=None, help="Child runs of this run or task run id.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--tasks", "only_tasks", is_flag=True, help="One row per task run.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.pass_context
@handle_errors
def list_runs(
    ctx: click.Context,
    statuses: tuple[str, ...],
    workflows: tuple[str, ...],
    meta: tuple[str, ...],
    since: str,
    until: str | None,
    parent: str | None,
    limit: int,
    offset: int,
    only_tasks: bool,
    as_json: bool,
) -> None:
    """List runs, newest first."""
    page = features(ctx).runs.list(
        since=parse_when(since),
        until=parse_when(until),
        statuses=[V1TaskStatus(s.upper()) for s in statuses] or None,
        workflow_ids=list(workflows) or None,
        additional_metadata=parse_pairs(meta) or None,
        parent_task_external_id=parent,
        limit=limit,
        offset=offset,
        only_tasks=only_tasks,
    )
    if as_json:
        click.echo(render.to_json(page.rows))
        return
    rows = [
        [
            r.metadata.id,
            r.workflow_name if not only_tasks else r.display_name,
            r.status,
            r.created_at,
            render.duration(r.duration),
            r.retry_count,
            " ".join(f"{k}={v}" for k, v in (r.additional_metadata or {}).items()),
        ]
        for r in page.rows
    ]
    headers = [
        "RUN ID" if not only_tasks else "TASK RUN ID",
        "WORKFLOW" if not only_tasks else "TASK",
        "STATUS",
        "CREATED",
        "DURATION",
        "RETRIES",
        "METADATA",
    ]
    click.echo(render.table(headers, rows, colour=sys.stdout.isatty()))
    if page.pagination.next_page:
        click.echo(f"(more: --offset {offset + limit})", err=True)


@runs.command("get")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.pass_context
@handle_errors
def get_run(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show a run and its task runs."""
    details = features(ctx).runs.get(run_id)
    if as_json:
        click.echo(render.to_json(details))
        return
    run = details.run
    click.echo(f"run       {run.metadata.id}")
    click.echo(f"workflow  {run.workflow_id}")
    click.echo(f"status    {run.status.value}")
    click.echo(f"created   {render.when(run.created_at)}")
    click.echo(f"duration  {render.duration(run.duration)}")
    if run.additional_metadata:
        pairs = " ".join(f"{k}={v}" for k, v in run.additional_metadata.items())
        click.echo(f"metadata  {render.cell(pairs)}")
    if run.parent_task_external_id:
        click.echo(f"parent    {run.parent_task_external_id}")
    click.echo("")
    rows = [
        [
            t.display_name.rsplit("-", 1)[0],
            t.metadata.id,
            t.status,
            t.attempt,
            render.duration(t.duration),
            render.first_line(t.error_message),
        ]
        for t in details.tasks
    ]
    headers = ["TASK", "TASK RUN ID", "STATUS", "ATTEMPT", "DURATION", "ERROR"]
    click.echo(render.table(headers, rows, colour=sys.stdout.isatty()))


def _per_run(name: str, done: str) -> Callable[[Callable[[Any, str], str]], click.Command]:
    """A ``runs`` subcommand that applies ``action(engine, id)`` to each id given, prints
    ``<done> <id><what action returned>``, and exits with ``EXIT_NOT_FOUND`` if an id was
    not found (after trying the others). Its help is the action's docstring."""

    def decorate(action: Callable[[Any, str], str]) -> click.Command:
        @runs.command(name, help=action.__doc__)
        @click.argument("ids", nargs=-1, required=True)
        @click.pass_context
        @handle_errors
        def command(ctx: click.Context, ids: tuple[str, ...]) -> None:
            engine = features(ctx).runs._engine
            missing = 0
            for external_id in ids:
                try:
                    result = action(engine, external_id)
                except RunNotFoundError as exc:
                    click.echo(f"error: {exc}", err=True)
                    missing += 1
                    continue
                click.echo(f"{done} {external_id}{result}")
            if missing:
                raise click.exceptions.Exit(EXIT_NOT_FOUND)

        return command

    return decorate


@_per_run("cancel", "cancelled")
def cancel_runs(engine: Any, external_id: str) -> str:
    """Cancel runs (run ids) or single task runs (task run ids)."""
    from hatchet_celery._runtime.ops import cancellation

    changed = cancellation.cancel(engine, external_id)
    return "" if changed else " (already finished)"


@_per_run("replay", "replayed")
def replay_runs(engine: Any, external_id: str) -> str:
    """Run the failed and cancelled tasks of finished runs again."""
    from hatchet_celery._runtime.ops import cancellation

    queued = cancellation.replay(engine, external_id)
    if not queued:
        return " (not finished: nothing to replay)"
    return ": " + ", ".join(f"{name} (attempt {a + 1})" for name, a in queued)


@runs.command("logs")
@click.argument("external_id")
@click.pass_context
@handle_errors
def logs(ctx: click.Context, external_id: str) -> None:
    """Print the ``ctx.log`` lines of a run (every task run) or of one task run."""
    f = features(ctx)
    try:
        tasks = [
            (t.display_name.rsplit("-", 1)[0], t.metadata.id) for t in f.runs.get(external_id).tasks
        ]
    except RunNotFoundError:
        tasks = [("", external_id)]
    printed = 0
    for name, task_run_id in tasks:
        for line in f.logs.list(task_run_id).rows or []:
            prefix = f"{render.when(line.created_at)} {name or line.task_display_name or ''}"
            click.echo(f"{prefix} [attempt {line.attempt or 1}] {line.message}")
            printed += 1
    if not printed and tasks == [("", external_id)]:
        raise CliError(f"no run or task run {external_id!r} with logs", EXIT_NOT_FOUND)


@runs.command("watch")
@click.argument("run_id")
@click.option(
    "--interval",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0.05),
    help="Seconds between refreshes.",
)
@click.pass_context
@handle_errors
def watch(ctx: click.Context, run_id: str, interval: float) -> None:
    """Follow a run live until it ends; exit 0 if it COMPLETED, 1 otherwise."""
    from hatchet_celery.cli._watch import Watcher

    runs_client = features(ctx).runs
    status = Watcher(runs_client, run_id, sys.stdout.isatty()).follow(interval)
    if status != "COMPLETED":
        raise click.exceptions.Exit(EXIT_FAILED)
