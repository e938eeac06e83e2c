"""Worker labels and the labels a task desires of its worker (affinity)."""

from __future__ import annotations

from enum import IntEnum

from pydantic import BaseModel


class WorkerLabelComparator(IntEnum):
    EQUAL = 0
    NOT_EQUAL = 1
    GREATER_THAN = 2
    GREATER_THAN_OR_EQUAL = 3
    LESS_THAN = 4
    LESS_THAN_OR_EQUAL = 5


class WorkerLabel(BaseModel):
    key: str | None = None
    value: str | int


class DesiredWorkerLabel(BaseModel):
    key: str | None = None
    value: str | int
    required: bool = False
    weight: int | None = None
    comparator: int | WorkerLabelComparator | None = None


__all__ = ["DesiredWorkerLabel", "WorkerLabel", "WorkerLabelComparator"]
