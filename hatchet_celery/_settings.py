"""Every setting of hatchet_celery, declared once: name, type, default, environment variable.

The README's configuration table is generated from ``SETTINGS`` (``python -m
hatchet_celery._settings``), so documentation and code cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One configuration knob: its environment variable, type, default and meaning."""

    env: str
    type: type
    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    "redis_url": Setting(
        "HATCHET_CELERY_REDIS_URL",
        str,
        "",
        "Coordination store (and default broker). Empty: the embedded redis-server.",
    ),
    "broker_url": Setting(
        "HATCHET_CELERY_BROKER_URL",
        str,
        "",
        "Celery broker when it differs from the coordination store.",
    ),
    "namespace": Setting(
        "HATCHET_CLIENT_NAMESPACE",
        str,
        "",
        "Prefix for workflow, event and worker names (Hatchet's namespace).",
    ),
    "key_prefix": Setting(
        "HATCHET_CELERY_KEY_PREFIX",
        str,
        "hc",
        "Prefix of every Redis key the package writes.",
    ),
    "data_dir": Setting(
        "HATCHET_CELERY_DATA_DIR",
        str,
        ".hatchet_celery",
        "Folder of the embedded redis-server (socket, append-only file).",
    ),
    "retention_seconds": Setting(
        "HATCHET_CELERY_RETENTION_SECONDS",
        int,
        86400,
        "How long a finished run's state is kept in Redis.",
    ),
    "worker_pool": Setting(
        "HATCHET_CELERY_WORKER_POOL",
        str,
        "threads",
        "Celery pool for hatchet.worker(...).start(): threads, prefork, solo, ...",
    ),
    "prefetch_multiplier": Setting(
        "HATCHET_CELERY_PREFETCH_MULTIPLIER",
        int,
        1,
        "Celery worker_prefetch_multiplier for hatchet.worker(...).start().",
    ),
    "timer_interval": Setting(
        "HATCHET_CELERY_TIMER_INTERVAL",
        float,
        0.05,
        "Seconds between two polls of the timer set by a worker's pump.",
    ),
    "lease_seconds": Setting(
        "HATCHET_CELERY_LEASE_SECONDS",
        float,
        15.0,
        "A running task whose worker stops renewing for this long is handed to another.",
    ),
    "visibility_timeout": Setting(
        "HATCHET_CELERY_VISIBILITY_TIMEOUT",
        int,
        43200,
        "Redis transport visibility timeout; kept above every execution timeout.",
    ),
}

# Settings of Hatchet's ClientConfig that act here, under Hatchet's environment variables
# (ClientConfig.healthcheck, terminate_worker_after_num_tasks); documented with ClientConfig.
CLIENT_SETTINGS: dict[str, Setting] = {
    "healthcheck_enabled": Setting(
        "HATCHET_CLIENT_WORKER_HEALTHCHECK_ENABLED",
        bool,
        False,
        "hatchet.worker(...).start() serves GET /health (and /metrics) over HTTP.",
    ),
    "healthcheck_port": Setting(
        "HATCHET_CLIENT_WORKER_HEALTHCHECK_PORT",
        int,
        8001,
        "Port of the worker's health check.",
    ),
    "healthcheck_bind_address": Setting(
        "HATCHET_CLIENT_WORKER_HEALTHCHECK_BIND_ADDRESS",
        str,
        "0.0.0.0",
        "Address the worker's health check listens on.",
    ),
    "server_url": Setting(
        "HATCHET_CLIENT_SERVER_URL",
        str,
        "http://127.0.0.1:8080",
        "Where webhook senders reach this package's HTTP server (see Incoming webhooks).",
    ),
    "terminate_worker_after_num_tasks": Setting(
        "HATCHET_CLIENT_TERMINATE_WORKER_AFTER_NUM_TASKS",
        int,
        0,
        "Prefork pool: replace a child process after this many tasks (0: never).",
    ),
}


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        text = raw.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    return kind(raw)


@dataclass(frozen=True)
class Config:
    """Resolved settings; built from the environment, overridable per ``Hatchet``."""

    redis_url: str = ""
    broker_url: str = ""
    namespace: str = ""
    key_prefix: str = "hc"
    data_dir: str = ".hatchet_celery"
    retention_seconds: int = 86400
    worker_pool: str = "threads"
    prefetch_multiplier: int = 1
    timer_interval: float = 0.05
    lease_seconds: float = 15.0
    visibility_timeout: int = 43200
    healthcheck_enabled: bool = False
    healthcheck_port: int = 8001
    healthcheck_bind_address: str = "0.0.0.0"
    terminate_worker_after_num_tasks: int = 0
    server_url: str = "http://127.0.0.1:8080"

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        values: dict[str, Any] = {}
        for f in fields(cls):
            setting = SETTINGS.get(f.name) or CLIENT_SETTINGS[f.name]
            raw = os.environ.get(setting.env)
            if raw is not None and raw != "":
                try:
                    values[f.name] = _parse(setting.type, raw)
                except ValueError as exc:
                    raise ValueError(
                        f"environment variable {setting.env}={raw!r} is not a valid "
                        f"{setting.type.__name__}"
                    ) from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["namespace"] = normalise_namespace(values.get("namespace", ""))
        return cls(**values)

    def apply_namespace(self, name: str, override: str | None = None) -> str:
        """Prefix ``name`` with the namespace unless it already carries it (Hatchet's rule)."""
        ns = normalise_namespace(override) if override is not None else self.namespace
        if not ns or name.startswith(ns):
            return name
        return ns + name


def normalise_namespace(ns: str | None) -> str:
    """Hatchet lower-cases a namespace and ends it with ``_``."""
    if not ns:
        return ""
    ns = ns.lower()
    return ns if ns.endswith("_") else ns + "_"


def markdown_table(settings: dict[str, Setting] | None = None) -> str:
    """The README's table of ``settings`` (the backend's own by default; pass
    ``CLIENT_SETTINGS`` for those of Hatchet's ``ClientConfig``)."""
    rows = ["| environment variable | default | meaning |", "| --- | --- | --- |"]
    for s in (SETTINGS if settings is None else settings).values():
        rows.append(f"| `{s.env}` | `{s.default!r}` | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - documentation helper
    print(markdown_table())
    print()
    print(markdown_table(CLIENT_SETTINGS))
