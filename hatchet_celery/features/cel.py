"""``hatchet.cel``: try a CEL expression on sample data, as the engine would evaluate it.

Expressions are compiled and evaluated by the same code the runtime uses (``_cel.py``)
for filters, conditions and keys, with the variables Hatchet offers: ``input``,
``additional_metadata``, ``payload`` (a filter's payload) and ``event_key``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from hatchet_celery._cel import CelEvaluationError, cel_bool, compile_cel
from hatchet_celery.exceptions import CelCompileError
from hatchet_celery.features._aio import aio_twin
from hatchet_celery.features._base import FeatureClient


class CELSuccess(BaseModel):
    status: Literal["success"] = "success"
    output: bool


class CELFailure(BaseModel):
    status: Literal["failure"] = "failure"
    error: str


class CELEvaluationResult(BaseModel):
    result: CELSuccess | CELFailure = Field(discriminator="status")


class CELClient(FeatureClient):
    def debug(
        self,
        expression: str,
        input: dict[str, Any],
        additional_metadata: dict[str, Any] | None = None,
        filter_payload: dict[str, Any] | None = None,
    ) -> CELEvaluationResult:
        """Evaluate ``expression`` as a filter (a bool); errors come back as ``CELFailure``."""
        variables = {
            "input": dict(input or {}),
            "additional_metadata": dict(additional_metadata or {}),
            "payload": dict(filter_payload or {}),
            "event_key": "",
        }
        try:
            program = compile_cel(expression, what="hatchet.cel.debug", variables=variables)
            output = cel_bool(program, variables, what="hatchet.cel.debug")
        except (CelCompileError, CelEvaluationError) as exc:
            return CELEvaluationResult(result=CELFailure(error=str(exc)))
        return CELEvaluationResult(result=CELSuccess(output=output))

    aio_debug = aio_twin(debug)


__all__ = ["CELClient", "CELEvaluationResult", "CELFailure", "CELSuccess"]
