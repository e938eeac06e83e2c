"""Whether a run belongs to a DAG workflow or a standalone task."""

from enum import Enum


class V1WorkflowType(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Shape of the workflow a task run belongs to."""

    DAG = "DAG"
    TASK = "TASK"
