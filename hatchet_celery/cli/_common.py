"""What every command shares: where the runs live, loading the user's app, exit codes.

Exit codes a shell script can act on:

====  ==========================================================================
0     done (``runs watch``: the run COMPLETED)
1     the operation failed (``runs watch``: the run FAILED or was CANCELLED)
2     bad usage: unknown option, malformed value, an app that cannot be imported
3     not found: no such run, task run, workflow or worker (or it expired)
4     unavailable: Redis cannot be reached, or nothing is configured to reach
====  ==========================================================================
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import click
import redis

from hatchet_celery.exceptions import (
    ConfigurationError,
    HatchetCeleryError,
    RunNotFoundError,
    WorkflowNotFoundError,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
STATE_KEY = "hatchet_celery.cli"

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """An error printed as ``error: <message>`` with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@dataclass
class State:
    """Options of the top-level command (or the Celery app of ``celery -A proj hatchet``)."""

    app_target: str | None = None
    celery_app: Any = None


def state(ctx: click.Context) -> State:
    found: State | None = ctx.meta.get(STATE_KEY)
    if found is None:
        found = ctx.meta[STATE_KEY] = State()
    return found


def configure(redis_url: str | None, namespace: str | None) -> None:
    """Options become the environment, so a ``Hatchet()`` built by the user's module sees
    them as it would in production."""
    if redis_url:
        os.environ["HATCHET_CELERY_REDIS_URL"] = redis_url
    if namespace:
        os.environ["HATCHET_CLIENT_NAMESPACE"] = namespace


def load_target(target: str) -> Any:
    """The object ``module:attr`` names (``module`` alone: its ``hatchet`` attribute)."""
    module_name, _, attr = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"cannot import {module_name!r}: {exc}", EXIT_USAGE) from exc
    obj: Any = module
    for part in (attr or "hatchet").split("."):
        if not hasattr(obj, part):
            raise CliError(
                f"{module_name!r} has no attribute {attr or 'hatchet'!r} "
                "(pass MODULE:ATTR, e.g. proj.tasks:hatchet)",
                EXIT_USAGE,
            )
        obj = getattr(obj, part)
    return obj


def target_object(ctx: click.Context, target: str | None, what: str) -> Any:
    """The object the user named: ``MODULE:ATTR`` (argument or ``-A``), else the Celery app
    of ``celery -A proj hatchet ...`` when Hatchet tasks live on it."""
    st = state(ctx)
    target = target or st.app_target
    if target:
        return load_target(target)
    if st.celery_app is not None and getattr(st.celery_app, "_hatchet_registry", None):
        return st.celery_app
    raise CliError(f"name the app{what}: MODULE:ATTR (e.g. proj.tasks:hatchet)", EXIT_USAGE)


def registry_of(obj: Any) -> Any:
    """The registry behind a ``Hatchet``, a ``Worker`` or a Celery app built by one."""
    for attr in ("_registry", "registry", "_hatchet_registry"):
        found = getattr(obj, attr, None)
        if found is not None and hasattr(found, "workflows"):
            return found
    raise CliError(
        f"{obj!r} is not a Hatchet, a Worker or a Celery app of hatchet_celery", EXIT_USAGE
    )


def features(ctx: click.Context) -> Any:
    """The feature clients (runs, logs, workers, event, cron) for this invocation."""
    st = state(ctx)
    if st.app_target:
        return registry_of(load_target(st.app_target)).features()
    if st.celery_app is not None and getattr(st.celery_app, "_hatchet_registry", None):
        return st.celery_app._hatchet_registry.features()
    require_store()
    from hatchet_celery.hatchet import Hatchet

    return Hatchet()


def require_store() -> None:
    """Fail early, with a hint, when no Redis is configured and none runs embedded."""
    if os.environ.get("HATCHET_CELERY_REDIS_URL"):
        return
    from hatchet_celery._embedded import EmbeddedRedis
    from hatchet_celery._settings import Config

    embedded = EmbeddedRedis(Config.from_env().data_dir)
    if not embedded.is_running():
        raise CliError(
            "no Redis to read: HATCHET_CELERY_REDIS_URL is unset and the embedded "
            f"redis-server of {embedded.data_dir} is not running (set the URL, pass "
            "--redis-url, or start one with `hatchet-celery dev MODULE:ATTR`)",
            EXIT_UNAVAILABLE,
        )


def handle_errors(fn: F) -> F:
    """Turn the package's errors into messages and exit codes (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (RunNotFoundError, WorkflowNotFoundError) as exc:
            raise CliError(str(exc), EXIT_NOT_FOUND) from exc
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            url = os.environ.get("HATCHET_CELERY_REDIS_URL") or "the embedded redis-server"
            raise CliError(f"cannot reach Redis at {url}: {exc}", EXIT_UNAVAILABLE) from exc
        except ConfigurationError as exc:
            raise CliError(str(exc), EXIT_UNAVAILABLE) from exc
        except HatchetCeleryError as exc:
            raise CliError(str(exc), EXIT_FAILED) from exc
        except ValueError as exc:
            if type(exc).__name__.endswith("NotFoundError"):
                raise CliError(str(exc), EXIT_NOT_FOUND) from exc
            raise CliError(str(exc), EXIT_FAILED) from exc

    return wrapper  # type: ignore[return-value]


# --- option values ------------------------------------------------------------------------
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(value: str | None) -> datetime | None:
    """``30m`` / ``2h`` / ``1d`` ago, or an ISO date-time (naive: local time)."""
    if value is None:
        return None
    m = _DURATION.match(value.strip())
    if m:
        return datetime.fromtimestamp(time.time() - float(m[1]) * _UNIT[m[2]]).astimezone()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration (30m, 2h, 1d) nor an ISO date-time"
        ) from None


def parse_pairs(values: tuple[str, ...], what: str = "--meta") -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{what} takes KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def parse_json(value: str | None, what: str) -> dict[str, Any]:
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def since_default(days: float = 1.0) -> datetime:
    return datetime.now().astimezone() - timedelta(days=days)
