"""``hatchet-celery events push``, ``crons list``, ``workers list``."""

from __future__ import annotations

import sys

import click

import hatchet_celery.cli._render as render
from hatchet_celery.cli._common import features, handle_errors, parse_json, parse_pairs


@click.group()
def events() -> None:
    """Push events (runs of the workflows listening start, waiting tasks wake)."""


@events.command("push")
@click.argument("key")
@click.option("--payload", default=None, help="JSON object (default {}).")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Metadata pair (repeatable).")
@click.option("--scope", default=None, help="Scope matched against event filters.")
@click.option("--priority", default=None, type=click.IntRange(1, 3))
@click.pass_context
@handle_errors
def push(
    ctx: click.Context,
    key: str,
    payload: str | None,
    meta: tuple[str, ...],
    scope: str | None,
    priority: int | None,
) -> None:
    """Push event KEY."""
    event = features(ctx).event.push(
        key,
        parse_json(payload, "--payload"),
        additional_metadata=parse_pairs(meta) or None,
        priority=priority,
        scope=scope,
    )
    click.echo(f"pushed {getattr(event, 'event_id', '') or event}")


@click.group()
def crons() -> None:
    """Crons: declared with on_crons and created at run time."""


@crons.command("list")
@click.option("--workflow", default=None, help="Only this workflow's crons.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handle_errors
def list_crons(ctx: click.Context, workflow: str | None, as_json: bool) -> None:
    """List crons."""
    found = features(ctx).cron.list(workflow_name=workflow)
    rows = list(found.rows or [])
    if as_json:
        click.echo(render.to_json(rows))
        return
    click.echo(
        render.table(
            ["CRON ID", "WORKFLOW", "NAME", "EXPRESSION", "ENABLED"],
            [[c.metadata.id, c.workflow_name, c.name, c.cron, c.enabled] for c in rows],
            colour=sys.stdout.isatty(),
        )
    )


@click.group()
def workers() -> None:
    """Workers serving this namespace."""


@workers.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@handle_errors
def list_workers(ctx: click.Context, as_json: bool) -> None:
    """List workers seen in the last hour (ACTIVE: heartbeat in the last 15 s)."""
    rows = list(features(ctx).workers.list().rows or [])
    if as_json:
        click.echo(render.to_json(rows))
        return
    click.echo(
        render.table(
            ["NAME", "WORKER ID", "STATUS", "SLOTS", "LABELS", "LAST HEARTBEAT"],
            [
                [
                    w.name,
                    w.metadata.id,
                    w.status,
                    w.slot_config["default"].limit if w.slot_config else None,
                    " ".join(f"{lb.key}={lb.value}" for lb in w.labels or []) or None,
                    w.last_heartbeat_at,
                ]
                for w in rows
            ],
            colour=sys.stdout.isatty(),
        )
    )
