"""Where a worker's time per task goes: wall-clock spans of the parts of one task run.

A worker started with ``BENCH_STEPCLOCK=<file>`` wraps, at import, the calls every task
run makes and keeps ``{span: [calls, seconds]}`` in ``<file>`` (rewritten every 50 ms):

- ``task``: the Celery task body, ``task_prerun`` to ``task_postrun`` (the executor);
- ``script:<name>``: each Lua script call, round trip included (``claim``, ``complete``);
- ``user function``: ``executor.invoke``;
- ``dispatch``: ``Engine.dispatch`` (gates and the publish of the released children).

Only attributes present in every version of the package are wrapped, so the same file
measures an older checkout (the "before" column of docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_spans: dict[str, list[float]] = {}
_started: dict[int, float] = {}


def add(span: str, seconds: float) -> None:
    with _lock:
        entry = _spans.setdefault(span, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds


def _timed(span: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            add(span(*args, **kwargs), time.perf_counter() - start)

    return wrapper


def install() -> None:
    from celery.signals import task_postrun, task_prerun

    from hatchet_celery import _store

    try:  # the runtime's layout by concern
        from hatchet_celery._runtime.core import engine
        from hatchet_celery._runtime.worker import executor
    except ImportError:  # an older checkout (flat _runtime)
        from hatchet_celery._runtime import engine, executor  # type: ignore[no-redef]

    _store.Store.script = _timed(  # type: ignore[method-assign]
        lambda _self, name, *a, **k: f"script:{name}", _store.Store.script
    )
    executor.invoke = _timed(lambda *a, **k: "user function", executor.invoke)
    engine.Engine.dispatch = _timed(  # type: ignore[method-assign]
        lambda *a, **k: "dispatch", engine.Engine.dispatch
    )

    @task_prerun.connect(weak=False)  # type: ignore[untyped-decorator]
    def _begin(task_id: str = "", **_kw: Any) -> None:
        _started[hash(task_id)] = time.perf_counter()

    @task_postrun.connect(weak=False)  # type: ignore[untyped-decorator]
    def _end(task_id: str = "", task: Any = None, **_kw: Any) -> None:
        began = _started.pop(hash(task_id), None)
        if began is not None:
            side = "hatchet" if str(getattr(task, "name", "")).startswith("hatchet.") else "celery"
            add(f"task:{side}", time.perf_counter() - began)


def snapshot() -> dict[str, list[float]]:
    with _lock:
        return {k: list(v) for k, v in _spans.items()}


def publish_to(path: str, every: float = 0.05) -> None:
    target = Path(path)

    def loop() -> None:
        while True:
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(snapshot()))
            tmp.replace(target)
            time.sleep(every)

    threading.Thread(target=loop, name="bench-stepclock", daemon=True).start()


def read(path: str | Path) -> dict[str, list[float]]:
    data: dict[str, list[float]] = json.loads(Path(path).read_text())
    return data


def minus(after: dict[str, list[float]], before: dict[str, list[float]]) -> dict[str, list[float]]:
    out = {}
    for span, (calls, seconds) in after.items():
        b_calls, b_seconds = before.get(span, [0, 0.0])
        if calls - b_calls:
            out[span] = [calls - b_calls, seconds - b_seconds]
    return out
