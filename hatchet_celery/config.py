"""``ClientConfig``: Hatchet's client configuration (hatchet-sdk 1.43.1's fields, names and
defaults), with the settings of this backend.

Every field of Hatchet's ``ClientConfig`` is accepted. Those that mean something here:

- ``namespace``, ``tenant_id``, ``worker_preset_labels``, ``sync_result_poll_interval``;
- ``healthcheck``: ``hatchet.worker(...).start()`` serves ``GET /health`` (and ``/metrics``)
  when ``enabled``, on ``bind_address:port``;
- ``otel``: the tracing settings ``HatchetInstrumentor`` reads (the ``otel`` extra);
- ``server_url``: where webhook senders reach this package's HTTP server (the dashboard,
  or the webhook receiver mounted elsewhere); URLs of ``hatchet.webhooks`` start there;
- ``terminate_worker_after_num_tasks``: with the prefork pool, a child process is replaced
  after this many tasks (Celery's ``max_tasks_per_child``; other pools ignore it).

The others configure Hatchet's gRPC client and engine, which do not exist here. They are
accepted with Hatchet's defaults and ignored; setting one to anything but its default
warns once per process (``IgnoredSettingWarning``), naming the field (``IGNORED`` says
why each one is ignored).
"""

from __future__ import annotations

import logging
import threading
import warnings
from datetime import timedelta
from enum import Enum
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hatchet_celery._settings import Config, normalise_namespace
from hatchet_celery.opentelemetry.attributes import OpenTelemetryConfig


class IgnoredSettingWarning(UserWarning):
    """A Hatchet setting that has no effect on this backend was given a value."""


class ClientTLSConfig(BaseModel):
    """Hatchet's TLS settings of its gRPC connection (ignored: no gRPC engine here)."""

    strategy: str = "tls"
    cert_file: str | None = None
    key_file: str | None = None
    root_ca_file: str | None = None
    server_name: str = ""


def _seconds(value: timedelta | int | float | str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    text = value.strip()
    return timedelta(seconds=float(text[:-1] if text.endswith("s") else text))


class HealthcheckConfig(BaseModel):
    """The worker's HTTP health check (``GET /health``, ``GET /metrics``).

    Unset fields come from ``HATCHET_CLIENT_WORKER_HEALTHCHECK_{ENABLED,PORT,BIND_ADDRESS}``.
    ``event_loop_block_threshold_seconds`` is accepted and not used: the worker's health is
    its Celery consumer's, not an event loop's.
    """

    port: int = Field(default_factory=lambda: Config.from_env().healthcheck_port)
    enabled: bool = Field(default_factory=lambda: Config.from_env().healthcheck_enabled)
    event_loop_block_threshold_seconds: timedelta = timedelta(seconds=5)
    bind_address: str | None = Field(
        default_factory=lambda: Config.from_env().healthcheck_bind_address
    )

    @field_validator("event_loop_block_threshold_seconds", mode="before")
    @classmethod
    def _threshold(cls, value: timedelta | int | float | str) -> timedelta:
        return _seconds(value)

    @field_validator("bind_address", mode="after")
    @classmethod
    def _bind_address(cls, value: str | None) -> str | None:
        if value is None or value.lower() == "none" or not value.strip():
            return None
        return value


class HTTPMethod(str, Enum):
    GET = "GET"
    DELETE = "DELETE"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


class TenacityConfig(BaseModel):
    """Hatchet's retries of its gRPC and REST calls (ignored: no such calls here; Redis
    commands are retried by the Redis client)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_attempts: int = 5
    retry_429: bool = False
    retry_not_found: bool = False
    retry_transport_errors: bool = False
    retry_transport_methods: list[HTTPMethod] = Field(
        default_factory=lambda: [HTTPMethod.GET, HTTPMethod.DELETE]
    )
    # Hatchet's defaults are tenacity objects; tenacity is not a dependency here.
    wait: Any = None
    before_sleep: Any = None


class EmbeddedHatchetConfig(BaseModel):
    """Hatchet's embedded engine (ignored: the embedded default here is a local
    redis-server, configured with ``HATCHET_CELERY_DATA_DIR``)."""

    version: str | None = None
    binary_path: str | None = None
    checksum: str | None = None
    database_url: str | None = None
    postgres_data_dir: str | None = None
    grpc_port: int | None = None
    api_port: int | None = None
    start_api: bool = True
    run_migrations: bool = True
    rabbitmq_url: str | None = None
    log_level: str | None = None
    ready_timeout_seconds: float = 300.0


MIB = 1024 * 1024

# Hatchet's fields that have no effect here, and why.
IGNORED: dict[str, str] = {
    "token": "there is no Hatchet engine to authenticate with",
    "host_port": "there is no Hatchet engine to reach",
    "logger": "the package logs to the 'hatchet_celery' loggers; configure those",
    "debug": "set the level of the 'hatchet_celery' loggers instead",
    "tls_config": "there is no gRPC connection",
    "listener_v2_timeout": "runs are awaited through Redis pub/sub",
    "grpc_max_recv_message_length": "there is no gRPC connection",
    "grpc_max_send_message_length": "there is no gRPC connection",
    "enable_force_kill_sync_threads": "Celery runs the tasks; see its time limits",
    "enable_thread_pool_monitoring": "Celery runs the tasks; see celery inspect",
    "disable_log_capture": "ctx.log lines are kept; logging records are not captured",
    "log_queue_size": "ctx.log lines go to Redis directly",
    "force_shutdown_on_shutdown_signal": "SIGTERM is Celery's warm shutdown; "
    "send SIGQUIT (or a second SIGTERM) for a cold one",
    "tenacity": "there are no gRPC or REST calls to retry",
    "embedded": "the embedded default is a local redis-server (HATCHET_CELERY_DATA_DIR)",
}
_warned: set[str] = set()
_warned_lock = threading.Lock()


class ClientConfig(BaseModel):
    """Hatchet's ``ClientConfig`` (every field, Hatchet's defaults), plus the Redis settings.

    Unset fields come from the environment (see the README's configuration table). Fields
    that mean nothing here are listed in ``IGNORED``; setting one warns once.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    token: str = ""
    logger: logging.Logger = Field(default_factory=logging.getLogger)
    debug: bool = False
    tenant_id: str = ""
    host_port: str = "localhost:7070"
    server_url: str = ""
    namespace: str = ""
    tls_config: ClientTLSConfig = Field(default_factory=ClientTLSConfig)
    healthcheck: HealthcheckConfig = Field(default_factory=HealthcheckConfig)
    otel: OpenTelemetryConfig = Field(default_factory=OpenTelemetryConfig)
    listener_v2_timeout: int | None = None
    grpc_max_recv_message_length: int = 4 * MIB
    grpc_max_send_message_length: int = 4 * MIB
    worker_preset_labels: dict[str, str] = Field(default_factory=dict)
    enable_force_kill_sync_threads: bool = False
    enable_thread_pool_monitoring: bool = False
    terminate_worker_after_num_tasks: int | None = None
    disable_log_capture: bool = False
    log_queue_size: int = 1000
    force_shutdown_on_shutdown_signal: bool = False
    tenacity: TenacityConfig = Field(default_factory=TenacityConfig)
    embedded: EmbeddedHatchetConfig | None = None
    sync_result_poll_interval: float = 1.0
    redis_url: str | None = None
    broker_url: str | None = None
    key_prefix: str | None = None
    data_dir: str | None = None
    retention_seconds: int | None = None

    @model_validator(mode="after")
    def _fill(self) -> ClientConfig:
        env = Config.from_env()
        if not self.namespace:
            self.namespace = env.namespace
        if not self.server_url:
            self.server_url = env.server_url
        self.namespace = normalise_namespace(self.namespace)
        if self.terminate_worker_after_num_tasks is None and env.terminate_worker_after_num_tasks:
            self.terminate_worker_after_num_tasks = env.terminate_worker_after_num_tasks
        self._warn_ignored()
        return self

    def _warn_ignored(self) -> None:
        """Warn once per field when an ignored Hatchet setting was given a value."""
        for name in sorted(IGNORED.keys() & self.model_fields_set):
            default = type(self).model_fields[name].get_default(call_default_factory=True)
            value = getattr(self, name)
            if value == default or (name == "logger" and isinstance(value, logging.Logger)):
                continue
            with _warned_lock:
                if name in _warned:
                    continue
                _warned.add(name)
            warnings.warn(
                f"ClientConfig.{name} has no effect on hatchet_celery: {IGNORED[name]}",
                IgnoredSettingWarning,
                stacklevel=4,
            )

    def backend(self) -> Config:
        overrides: dict[str, Any] = {
            "namespace": self.namespace,
            "redis_url": self.redis_url,
            "broker_url": self.broker_url,
            "key_prefix": self.key_prefix,
            "data_dir": self.data_dir,
            "retention_seconds": self.retention_seconds,
            "healthcheck_enabled": self.healthcheck.enabled,
            "healthcheck_port": self.healthcheck.port,
            "healthcheck_bind_address": self.healthcheck.bind_address or "",
            "terminate_worker_after_num_tasks": self.terminate_worker_after_num_tasks,
            "server_url": self.server_url,
        }
        return Config.from_env(**overrides)

    @overload
    def apply_namespace(self, resource_name: str, namespace_override: str | None = None) -> str: ...

    @overload
    def apply_namespace(
        self, resource_name: None, namespace_override: str | None = None
    ) -> None: ...

    def apply_namespace(
        self, resource_name: str | None, namespace_override: str | None = None
    ) -> str | None:
        """``resource_name`` prefixed with the namespace (``namespace_override`` when one is
        given) unless it already carries it; None stays None."""
        if resource_name is None:
            return None
        ns = normalise_namespace(namespace_override) if namespace_override else self.namespace
        if not ns or resource_name.startswith(ns):
            return resource_name
        return ns + resource_name


__all__ = [
    "IGNORED",
    "ClientConfig",
    "ClientTLSConfig",
    "EmbeddedHatchetConfig",
    "HTTPMethod",
    "HealthcheckConfig",
    "IgnoredSettingWarning",
    "OpenTelemetryConfig",
    "TenacityConfig",
]
