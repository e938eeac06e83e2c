"""The ``hatchet-celery`` command, also ``celery [-A proj] hatchet ...``.

::

    hatchet-celery worker proj.tasks:hatchet --slots 20 --label region=eu
    hatchet-celery beat proj.tasks:hatchet
    hatchet-celery dev proj.tasks:hatchet          # embedded Redis + worker + beat
    hatchet-celery runs list --status FAILED --since 2h
    hatchet-celery runs watch <run id>
    hatchet-celery events push user:created --payload '{"id": 1}'

Exit codes are listed in ``cli/_common.py`` (0 ok, 1 failed, 2 usage, 3 not found,
4 Redis unavailable). The same commands are offered to Celery's own CLI through the
``celery.commands`` entry point, where ``-A proj`` names the app.
"""

from __future__ import annotations

from typing import Any

import click

from hatchet_celery.cli._common import configure, state
from hatchet_celery.cli.dashboard import dashboard
from hatchet_celery.cli.misc import crons, events, workers
from hatchet_celery.cli.runs import runs
from hatchet_celery.cli.serve import beat, dev, embedded, worker

COMMANDS = [worker, beat, dev, embedded, runs, events, crons, workers, dashboard]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-A",
    "--app",
    "app_target",
    default=None,
    metavar="MODULE:ATTR",
    help="Import this Hatchet (or Worker) first: its declarations and settings.",
)
@click.option(
    "--redis-url",
    default=None,
    envvar="HATCHET_CELERY_REDIS_URL",
    help="Coordination store (default: HATCHET_CELERY_REDIS_URL, else embedded).",
)
@click.option("--namespace", default=None, help="Hatchet namespace (HATCHET_CLIENT_NAMESPACE).")
@click.version_option(package_name="hatchet-celery")
@click.pass_context
def cli(
    ctx: click.Context, app_target: str | None, redis_url: str | None, namespace: str | None
) -> None:
    """Run and operate Hatchet workflows on Celery + Redis.

    Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 Redis unavailable.
    """
    configure(redis_url, namespace)
    state(ctx).app_target = app_target


@click.group("hatchet")
@click.pass_context
def celery_command(ctx: click.Context) -> None:
    """Hatchet workflows on this Celery app: workers, runs, events, crons."""
    celery_ctx: Any = ctx.obj
    state(ctx).celery_app = getattr(celery_ctx, "app", None)


for _command in COMMANDS:
    cli.add_command(_command)
    celery_command.add_command(_command)


def main() -> None:
    cli(prog_name="hatchet-celery")


__all__ = ["celery_command", "cli", "main"]
