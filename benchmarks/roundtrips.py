"""Count Redis round trips made by this process (redis-py sends, one per command or pipeline).

Every request redis-py makes goes through ``send_packed_command`` once, whether it is one
command, a pipeline of many or a script call, so counting its calls counts round trips.
A worker started with ``BENCH_ROUND_TRIPS=<file>`` installs the counter at import and
rewrites ``<file>`` with the running total every 50 ms, so the harness can read the count
before and after a workload without stopping the worker.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis.connection import AbstractConnection

_lock = threading.Lock()
_count = 0
_installed = False


def install() -> None:
    """Wrap ``send_packed_command`` once per process."""
    global _installed
    if _installed:
        return
    original: Callable[..., None] = AbstractConnection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        global _count
        with _lock:
            _count += 1
        original(self, command, check_health)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    _installed = True


def count() -> int:
    return _count


def publish_to(path: str, every: float = 0.05) -> None:
    """Keep ``path`` holding ``{"pid", "round_trips", "cpu_s"}`` of this process."""
    target = Path(path)

    def loop() -> None:
        while True:
            times = os.times()
            data = {"pid": os.getpid(), "round_trips": _count, "cpu_s": times.user + times.system}
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(target)
            time.sleep(every)

    threading.Thread(target=loop, name="bench-round-trips", daemon=True).start()


def read(path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data
