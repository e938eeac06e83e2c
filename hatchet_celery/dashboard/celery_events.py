"""The plain Celery tasks page: the app's ``@app.task`` activity from Celery events."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class CeleryActivity:
    """The app's plain ``@app.task`` activity, from Celery events (workers started with
    ``-E`` / ``worker_send_task_events``). Hatchet tasks (``hatchet.*``) are left out:
    the runs pages show them. Kept in memory, newest first, the last ``keep`` tasks."""

    def __init__(self, hatchet: Any, keep: int = 500) -> None:
        self.hatchet = hatchet
        self.tasks: dict[str, dict[str, Any]] = {}
        self.order: deque[str] = deque(maxlen=keep)
        self.lock = threading.Lock()
        self.seen_events = 0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._receiver: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hc-dashboard-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        receiver = self._receiver
        if receiver is not None:
            receiver.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        app = self.hatchet.celery_app
        while not self._stop.is_set():
            try:
                with app.connection_for_read() as conn:
                    self._receiver = app.events.Receiver(conn, handlers={"*": self.on_event})
                    self.error = ""
                    self._receiver.capture(limit=None, timeout=1.0, wakeup=False)
            except Exception as exc:  # broker away, timeout: look again shortly
                if not self._stop.is_set() and not isinstance(exc, TimeoutError):
                    self.error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(1.0)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", ""))
        if not kind.startswith("task-"):
            return
        uuid = str(event.get("uuid", ""))
        with self.lock:
            self.seen_events += 1
            task = self.tasks.get(uuid)
            if task is None:
                # only an event that names the task (received, sent) starts a row: the
                # later ones do not say whether it is a Hatchet task
                name = str(event.get("name") or "")
                if not name or name.startswith("hatchet."):
                    return
                task = self.tasks[uuid] = {"id": uuid, "name": name, "args": "", "result": ""}
                if len(self.order) == self.order.maxlen:
                    self.tasks.pop(self.order[0], None)
                self.order.append(uuid)
            elif task["name"].startswith("hatchet."):
                return
            task["state"] = kind[5:].upper()
            task[kind[5:]] = float(event.get("timestamp") or time.time())
            for key in ("args", "result", "exception", "hostname", "runtime"):
                if event.get(key) is not None:
                    task[key] = event[key]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            rows = [dict(self.tasks[u]) for u in reversed(self.order) if u in self.tasks]
        return {"tasks": rows, "seen_events": self.seen_events, "error": self.error}


__all__ = ["CeleryActivity"]
