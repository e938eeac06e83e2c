"""The worker's HTTP health check (``ClientConfig.healthcheck``), as Hatchet's worker serves.

``GET /health`` answers ``{"status": "HEALTHY" | "STARTING" | "UNHEALTHY", "slots": {...}}``,
200 when healthy and 503 otherwise: STARTING until Celery reports the worker ready,
HEALTHY while it consumes, UNHEALTHY once it drains (SIGTERM) or stopped. ``GET /metrics``
gives the same in Prometheus' text format. A port that cannot be bound is logged, and the
worker runs without the health check.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from celery import signals
from celery.worker import state as celery_state

from hatchet_celery._runtime.core.process import PROCESS

log = logging.getLogger(__name__)


class HealthServer:
    """Serves the health of this process's worker on ``address:port`` from a thread."""

    def __init__(self, address: str, port: int, slots: dict[str, int]) -> None:
        self.address, self.port, self.slots = address, port, slots
        self.ready = False
        self.stopped = False
        self._server: ThreadingHTTPServer | None = None

    def _on_ready(self, **_: Any) -> None:
        self.ready = True

    def status(self) -> str:
        if self.stopped or PROCESS.draining:
            return "UNHEALTHY"
        return "HEALTHY" if self.ready else "STARTING"

    def slot_usage(self) -> dict[str, dict[str, int]]:
        used = len(celery_state.active_requests)
        return {
            pool: {"used": used if pool == "default" else 0, "limit": limit}
            for pool, limit in self.slots.items()
        }

    def metrics(self) -> str:
        usage = self.slot_usage()
        gauges = [
            (
                "hatchet_worker_listener_health",
                "Listener health (1 healthy, 0 unhealthy)",
                [("", int(self.status() == "HEALTHY"))],
            ),
            (
                "hatchet_worker_used_slots",
                "Slots in use",
                [(f'{{slot_pool="{p}"}}', u["used"]) for p, u in usage.items()],
            ),
            (
                "hatchet_worker_slot_limit",
                "Slots",
                [(f'{{slot_pool="{p}"}}', u["limit"]) for p, u in usage.items()],
            ),
        ]
        lines: list[str] = []
        for name, help_text, samples in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{labels} {value}" for labels, value in samples]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path == "/health":
                    status = health.status()
                    body = json.dumps({"status": status, "slots": health.slot_usage()})
                    self._send(200 if status == "HEALTHY" else 503, body, "application/json")
                elif path == "/metrics":
                    self._send(200, health.metrics(), "text/plain; version=0.0.4")
                else:
                    self._send(404, json.dumps({"error": "not found"}), "application/json")

            def _send(self, code: int, body: str, kind: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("healthcheck: " + format, *args)

        signals.worker_ready.connect(self._on_ready, weak=False)
        try:
            self._server = ThreadingHTTPServer((self.address, self.port), Handler)
        except OSError as exc:
            log.error(
                "hatchet_celery: cannot serve the worker health check on %s:%s: %s",
                self.address,
                self.port,
                exc,
            )
            return
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, name="hatchet-celery-health", daemon=True
        )
        thread.start()
        log.info("hatchet_celery: health check on http://%s:%s/health", self.address, self.port)

    def stop(self) -> None:
        self.stopped = True
        signals.worker_ready.disconnect(self._on_ready)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


__all__ = ["HealthServer"]
