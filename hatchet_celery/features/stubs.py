"""``hatchet.stubs``: typed triggers for workflows and tasks implemented elsewhere.

A stub has the name and the input (and output) types of the real declaration but no
code: its runs are created by name (``Client.trigger_by_name``), from the shape a worker
that serves the workflow registered in Redis, and dispatched by that worker's pump. All
the trigger methods (``run``, ``aio_run``, ``run_many``, ``schedule``...) work as usual.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter

from hatchet_celery.features._base import FeatureClient
from hatchet_celery.runnables.types import EmptyModel, WorkflowConfig
from hatchet_celery.runnables.workflow import Standalone, Workflow

if TYPE_CHECKING:
    from hatchet_celery._runtime.core.client import Client
    from hatchet_celery._runtime.registry import Registry
    from hatchet_celery.clients.admin import WorkflowRunTriggerConfig
    from hatchet_celery.runnables.workflow import BaseWorkflow

TInput = TypeVar("TInput")
R = TypeVar("R")


class _ByName:
    """The runtime client, creating runs by workflow name (with the stub's metadata)."""

    def __init__(self, client: Client, default_metadata: dict[str, Any]) -> None:
        self._client = client
        self._defaults = default_metadata

    def trigger(
        self, workflow: BaseWorkflow[Any], items: list[WorkflowRunTriggerConfig]
    ) -> list[str]:
        for item in items:
            item.options.additional_metadata = {
                **self._defaults,
                **item.options.additional_metadata,
            }
        return self._client.trigger_by_name(workflow.name, items)

    async def aio_trigger(
        self, workflow: BaseWorkflow[Any], items: list[WorkflowRunTriggerConfig]
    ) -> list[str]:
        return await asyncio.to_thread(self.trigger, workflow, items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class StubWorkflow(Workflow[TInput]):
    """A workflow declared elsewhere: ``run()`` returns ``{task_name: output}``."""

    def _client(self) -> Any:
        return _ByName(self._registry.client(), self.config.default_additional_metadata)


class StubStandalone(Standalone[TInput, R]):
    """A standalone task declared elsewhere: results are validated as ``output_validator``."""

    def __init__(
        self, config: WorkflowConfig, registry: Registry, input_validator: Any, output: Any
    ) -> None:
        super().__init__(config, registry, input_validator)
        self.output_validator_type = output or EmptyModel
        self.output_validator = TypeAdapter(self.output_validator_type)
        self._task_name = config.name.lower()

    def _client(self) -> Any:
        return _ByName(self._registry.client(), self.config.default_additional_metadata)

    def _extract(self, result: dict[str, Any]) -> R:
        raw = result.get(self._task_name)
        value: R = self.output_validator.validate_python(raw if raw is not None else {})
        return value

    def mock_run(self, *args: Any, **kwargs: Any) -> R:
        raise NotImplementedError(f"{self.name!r} is a stub: its code lives elsewhere")

    async def aio_mock_run(self, *args: Any, **kwargs: Any) -> R:
        raise NotImplementedError(f"{self.name!r} is a stub: its code lives elsewhere")


class StubsClient(FeatureClient):
    def workflow(
        self,
        *,
        name: str,
        input_validator: Any = None,
        default_additional_metadata: dict[str, Any] | None = None,
    ) -> StubWorkflow[Any]:
        """A trigger for workflow ``name`` (same name and input type as its declaration)."""
        config = WorkflowConfig(
            name=name, default_additional_metadata=dict(default_additional_metadata or {})
        )
        return StubWorkflow(config, self._registry, input_validator)

    def task(
        self,
        *,
        name: str,
        input_validator: Any = None,
        output_validator: Any = None,
        default_additional_metadata: dict[str, Any] | None = None,
    ) -> StubStandalone[Any, Any]:
        """A trigger for standalone task ``name``; results are ``output_validator``s."""
        config = WorkflowConfig(
            name=name, default_additional_metadata=dict(default_additional_metadata or {})
        )
        return StubStandalone(config, self._registry, input_validator, output_validator)


__all__ = ["StubStandalone", "StubWorkflow", "StubsClient"]
