"""``runs watch``: a live view of one run until it ends.

On a terminal the view (a progress bar and one line per task run) is redrawn in place;
otherwise (a pipe, a CI log) each change is printed once as a timestamped line.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

import hatchet_celery.cli._render as render

CLEAR_UP = "\x1b[{n}F\x1b[J"  # cursor up n lines, clear to the end of the screen


class Watcher:
    def __init__(self, runs: Any, run_id: str, tty: bool) -> None:
        self.runs = runs
        self.run_id = run_id
        self.tty = tty
        self._drawn = 0
        self._seen: dict[str, str] = {}
        self._started = time.monotonic()

    def total_tasks(self) -> int:
        engine = self.runs._engine
        value = engine.store.redis.hget(engine.keys.run(self.run_id), "n")
        return int(value) if value else 0

    def follow(self, interval: float) -> str:
        """Refresh until the run is done; returns its final status."""
        total = self.total_tasks()
        while True:
            details = self.runs.get_details(self.run_id)
            if self.tty:
                self._redraw(details, total)
            else:
                self._print_changes(details)
            if details.done:
                return str(details.status.value)
            time.sleep(interval)

    def _redraw(self, details: Any, total: int) -> None:
        finished = sum(
            1
            for t in details.task_runs.values()
            if t.status.value in ("COMPLETED", "FAILED", "CANCELLED")
        )
        total = max(total, len(details.task_runs))
        elapsed = time.monotonic() - self._started
        status = details.status.value
        colour = render.STATUS_COLOURS.get(status)
        lines = [
            f"run {self.run_id}  {click.style(status, fg=colour, bold=True)}  "
            f"{render.progress_bar(finished, total)} {finished}/{total} tasks  "
            f"{elapsed:.1f}s",
            "",
        ]
        rows = [
            [name, t.status, render.first_line(t.error)]
            for name, t in sorted(details.task_runs.items())
        ]
        lines += render.table(["TASK", "STATUS", "ERROR"], rows).splitlines()
        if self._drawn:
            click.echo(CLEAR_UP.format(n=self._drawn), nl=False)
        click.echo("\n".join(lines))
        self._drawn = len(lines)

    def _print_changes(self, details: Any) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        changes = {"run": details.status.value}
        changes.update({name: t.status.value for name, t in details.task_runs.items()})
        for name, status in changes.items():
            if self._seen.get(name) != status:
                self._seen[name] = status
                label = f"run {self.run_id}" if name == "run" else f"task {name}"
                click.echo(f"{stamp} {label} {status}")
