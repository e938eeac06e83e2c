"""What this process knows about itself as a worker: id, name, labels, lifespan value."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProcessState:
    worker_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = field(default_factory=lambda: f"celery@{socket.gethostname()}")
    labels: dict[str, str | int] = field(default_factory=dict)
    lifespan: Any = None
    slots: int = 0
    # Set on SIGTERM: the worker takes no new work and finishes what it runs (PAUSED).
    draining: bool = False


PROCESS = ProcessState()
