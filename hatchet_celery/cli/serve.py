"""``hatchet-celery worker|beat|dev|embedded``: the long-running processes.

``worker`` and ``beat`` are the usual Celery worker and beat for the user's app (the
same as ``celery -A proj worker`` / ``celery -A proj beat -S hatchet_celery.beat:Scheduler``);
``dev`` runs both in one process on the embedded redis-server, for a laptop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hatchet_celery.cli._common import (
    EXIT_USAGE,
    CliError,
    handle_errors,
    load_target,
    parse_pairs,
    registry_of,
    state,
    target_object,
)

BEAT_SCHEDULER = "hatchet_celery.beat:Scheduler"


def _hatchet_and_worker(
    ctx: click.Context,
    target: str | None,
    name: str | None,
    slots: int | None,
    labels: tuple[str, ...],
) -> Any:
    """The ``Worker`` to start: the target itself, or one serving every declared workflow."""
    from hatchet_celery.hatchet import Hatchet
    from hatchet_celery.worker import Worker

    obj = target_object(ctx, target, " to serve")
    target = target or state(ctx).app_target
    if isinstance(obj, Worker):
        if name or slots or labels:
            raise CliError(
                f"{target} is a Worker: set its name, slots and labels in code", EXIT_USAGE
            )
        return obj
    registry = registry_of(obj)
    hatchet = obj if isinstance(obj, Hatchet) else Hatchet._on_registry(registry)
    workflows = [w for w in registry.workflows.values() if w.tasks]
    if not workflows:
        raise CliError(f"{target or 'the app'} declares no workflow or task", EXIT_USAGE)
    label_values: dict[str, str | int] = {
        k: int(v) if v.lstrip("-").isdigit() else v
        for k, v in parse_pairs(labels, "--label").items()
    }
    return hatchet.worker(
        name or "hatchet-celery-worker",
        slots=slots,
        labels=label_values or None,
        workflows=workflows,
    )


_worker_options = [
    click.argument("target", required=False),
    click.option("--name", default=None, help="Worker name (default hatchet-celery-worker)."),
    click.option("--slots", default=None, type=click.IntRange(1), help="Concurrent task runs."),
    click.option(
        "--label",
        "labels",
        multiple=True,
        metavar="KEY=VALUE",
        help="Worker label for affinity (repeatable).",
    ),
]


def worker_options(fn: Any) -> Any:
    """TARGET, --name, --slots and --label: the keywords of ``_hatchet_and_worker``."""
    for option in reversed(_worker_options):
        fn = option(fn)
    return fn


@click.command()
@worker_options
@click.pass_context
@handle_errors
def worker(ctx: click.Context, /, **options: Any) -> None:
    """Start a worker for TARGET (MODULE:ATTR of a Hatchet or a Worker)."""
    _hatchet_and_worker(ctx, **options).start()


@click.command()
@click.argument("target", required=False)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--schedule", default=None, help="Celery beat's schedule file.")
@click.pass_context
@handle_errors
def beat(ctx: click.Context, target: str | None, loglevel: str, schedule: str | None) -> None:
    """Start celery beat for the crons of TARGET (MODULE:ATTR)."""
    registry = registry_of(_app_object(ctx, target))
    options: dict[str, Any] = {"scheduler": BEAT_SCHEDULER, "loglevel": loglevel}
    if schedule:
        options["schedule"] = schedule
    registry.celery_app.Beat(**options).run()


def _app_object(ctx: click.Context, target: str | None) -> Any:
    st = state(ctx)
    if target or st.app_target:
        return load_target(target or st.app_target or "")
    if st.celery_app is not None and getattr(st.celery_app, "_hatchet_registry", None):
        return st.celery_app
    raise CliError("name the app: MODULE:ATTR (e.g. proj.tasks:hatchet)", EXIT_USAGE)


@click.command()
@worker_options
@click.pass_context
@handle_errors
def dev(ctx: click.Context, /, **options: Any) -> None:
    """Embedded Redis, a worker and beat in one process, for development."""
    from celery.beat import EmbeddedService

    from hatchet_celery._embedded import EmbeddedRedis
    from hatchet_celery._settings import Config

    config = Config.from_env()
    if not os.environ.get("HATCHET_CELERY_REDIS_URL"):
        url = EmbeddedRedis(config.data_dir).ensure_running()
        click.echo(f"hatchet-celery dev: embedded Redis at {url}", err=True)
    options["name"] = options["name"] or "hatchet-celery-dev"
    w = _hatchet_and_worker(ctx, **options)
    schedule = Path(config.data_dir) / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    beat_service = EmbeddedService(
        w.registry.celery_app,
        thread=True,
        scheduler_cls=BEAT_SCHEDULER,
        schedule_filename=str(schedule),
    )
    beat_service.start()
    from hatchet_celery.cli.dashboard import start_background

    dashboard_url = start_background(w.registry)
    if dashboard_url:
        click.echo(f"hatchet-celery dev: dashboard at {dashboard_url}", err=True)
    click.echo("hatchet-celery dev: worker and beat started (Ctrl-C stops both)", err=True)
    try:
        w.start()
    finally:
        beat_service.stop()


@click.group()
def embedded() -> None:
    """The embedded redis-server used when HATCHET_CELERY_REDIS_URL is unset."""


def _embedded_server(data_dir: str | None) -> Any:
    from hatchet_celery._embedded import EmbeddedRedis
    from hatchet_celery._settings import Config

    return EmbeddedRedis(data_dir or Config.from_env().data_dir)


_data_dir_option = click.option(
    "--data-dir", default=None, help="Data folder (default HATCHET_CELERY_DATA_DIR)."
)


def _server_command(name: str) -> Callable[[Callable[[Any], None]], click.Command]:
    """An ``embedded`` subcommand acting on the server of ``--data-dir``; its help is the
    action's docstring."""

    def decorate(action: Callable[[Any], None]) -> click.Command:
        @embedded.command(name, help=action.__doc__)
        @_data_dir_option
        @handle_errors
        def command(data_dir: str | None) -> None:
            action(_embedded_server(data_dir))

        return command

    return decorate


@_server_command("stop")
def embedded_stop(server: Any) -> None:
    """Stop the embedded redis-server (its data stays on disk)."""
    stopped = server.stop()
    what = (
        "stopped the embedded redis-server of" if stopped else "no embedded redis-server runs for"
    )
    click.echo(f"{what} {server.data_dir}")


@_server_command("status")
def embedded_status(server: Any) -> None:
    """Say whether the embedded redis-server runs (exit 1 if not)."""
    if server.is_running():
        click.echo(f"running: {server.url} (data in {server.data_dir})")
    else:
        click.echo(f"stopped (data folder {server.data_dir})")
        raise click.exceptions.Exit(1)
