"""A receiver started on demand when ``server_url`` is a loopback address nobody serves.

``server_url`` (``HATCHET_CLIENT_SERVER_URL``) says where senders reach the receiver. Its
default, ``http://127.0.0.1:8080``, is where ``hatchet-celery dashboard`` and ``hatchet-celery
dev`` listen by default. When a process creates a webhook and that loopback address has no
listener, the process serves the receiver there itself, on a daemon thread, for as long as it
runs: a script or a test can create a webhook and post to it at once, as with a local Hatchet.

Nothing is started for any other address (that is a deployment: the dashboard or the
mounted receiver serves it), nor when the listener found is another store's receiver (a
warning says so), nor without the ``webhooks`` extra (a warning names it).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

log = logging.getLogger(__name__)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _address(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of a loopback http URL, else None."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        return None
    return parts.hostname, parts.port or 80


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _identity_at(url: str) -> str | None:
    from hatchet_celery.webhooks.receiver import IDENTITY_PATH

    try:
        with urllib.request.urlopen(url.rstrip("/") + IDENTITY_PATH, timeout=5) as answer:
            return str(json.loads(answer.read())["store"])
    except (OSError, ValueError, KeyError):
        return None


@dataclass
class LocalReceiver:
    """A receiver this process serves on a daemon thread."""

    server: Any
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def ensure_receiver(registry: Registry, running: LocalReceiver | None) -> LocalReceiver | None:
    """Serve the receiver at ``server_url`` from this process if it is local and free.

    ``running``: the receiver this process started before (kept by the caller,
    ``hatchet.webhooks``); returns the one to keep.
    """
    address = _address(registry.config.server_url)
    if address is None or (running is not None and running.thread.is_alive()):
        return running
    if _listening(*address):
        _check_identity(registry)
        return None
    return _serve(registry, *address)


def _check_identity(registry: Registry) -> None:
    try:
        from hatchet_celery.webhooks.receiver import store_identity
    except ImportError:
        return
    url = registry.config.server_url
    if _identity_at(url) != store_identity(registry):
        log.warning(
            "hatchet_celery: %s is served by something other than this store's webhook "
            "receiver; requests posted there will not reach this Redis. Set "
            "HATCHET_CLIENT_SERVER_URL to where this store's receiver listens.",
            url,
        )


def _serve(registry: Registry, host: str, port: int) -> LocalReceiver | None:
    try:
        import uvicorn
        from starlette.applications import Starlette

        from hatchet_celery.webhooks.receiver import registry_routes
    except ImportError as exc:
        log.warning(
            "hatchet_celery: no webhook receiver at %s: pip install 'hatchet-celery[webhooks]' "
            "(missing: %s), or serve one with hatchet-celery dashboard",
            registry.config.server_url,
            exc.name,
        )
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        log.warning(
            "hatchet_celery: cannot serve the webhook receiver on %s:%s: %s", host, port, exc
        )
        return None
    # Bound and listening before the thread starts: a request sent right away waits in the
    # backlog until uvicorn accepts it.
    app = Starlette(routes=registry_routes(registry))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="hc-webhooks", daemon=True
    )
    thread.start()
    log.info("hatchet_celery: serving the webhook receiver at %s", registry.config.server_url)
    return LocalReceiver(server, thread)


__all__ = ["LocalReceiver", "ensure_receiver"]
