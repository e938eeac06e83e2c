"""``ClientConfig``: Hatchet's client configuration, with the settings of this backend."""

from __future__ import annotations

from typing import Any, overload

from pydantic import BaseModel, Field, model_validator

from hatchet_celery._settings import Config, normalise_namespace


class ClientConfig(BaseModel):
    """Hatchet's field names where they mean something here, plus the Redis settings.

    Unset fields come from the environment (see the README's configuration table).
    ``token``, ``host_port`` and ``server_url`` are accepted and ignored: there is no
    Hatchet engine to reach.
    """

    token: str = ""
    tenant_id: str = ""
    host_port: str = "localhost:7070"
    server_url: str = ""
    namespace: str = ""
    worker_preset_labels: dict[str, str] = Field(default_factory=dict)
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
        self.namespace = normalise_namespace(self.namespace)
        return self

    def backend(self) -> Config:
        overrides: dict[str, Any] = {
            "namespace": self.namespace,
            "redis_url": self.redis_url,
            "broker_url": self.broker_url,
            "key_prefix": self.key_prefix,
            "data_dir": self.data_dir,
            "retention_seconds": self.retention_seconds,
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


__all__ = ["ClientConfig"]
