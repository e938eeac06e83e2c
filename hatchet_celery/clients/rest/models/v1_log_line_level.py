"""Severity of a task log line."""

from enum import Enum


class V1LogLineLevel(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """Severity of a ``V1LogLine``."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
