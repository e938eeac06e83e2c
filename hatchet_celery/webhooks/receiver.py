"""The webhook receiver as Starlette routes and an ASGI app (the ``webhooks`` extra).

``POST /api/v1/stable/tenants/{tenant_id}/webhooks/{name}`` is Hatchet's path, so a sender
configured for Hatchet only changes the host. Each webhook authenticates its own requests,
so these routes sit outside the dashboard's token or basic auth: ``hatchet-celery
dashboard`` serves them beside its pages (``dashboard/server.py``), and
``create_receiver(hatchet)`` is the receiver alone, to mount in any ASGI server or web
framework (a public endpoint that shows nothing else)::

    from hatchet_celery.webhooks.receiver import create_receiver
    app = create_receiver(hatchet)            # uvicorn module:app

``GET /hatchet-celery/webhook-receiver`` answers which store a receiver writes to, so a
process can tell its own receiver from another one on the same port (``local.py``).
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hatchet_celery.webhooks.ingest import Reply, error, receive

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

RECEIVE_PATH = "/api/v1/stable/tenants/{tenant_id}/webhooks/{name}"
IDENTITY_PATH = "/hatchet-celery/webhook-receiver"
MAX_BODY = 4 * 1024 * 1024  # a sender's request larger than this is refused (413)


def store_identity(registry: Registry) -> str:
    """A short digest naming the Redis and key space a receiver writes events to."""
    engine = registry.engine()
    run_id = engine.store.redis.info("server").get("run_id", "")
    return hashlib.sha256(f"{run_id}|{engine.keys.base}".encode()).hexdigest()[:16]


async def _body(request: Request) -> bytes | None:
    """The raw body (signatures are over these bytes), or None when it is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _response(reply: Reply) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status)
    return JSONResponse(reply.body, reply.status)


def receiver_routes(hatchet: Any) -> list[Route]:
    """The receiver's routes for ``hatchet`` (a ``Hatchet``: its tenant, its store)."""
    return registry_routes(hatchet._registry)


def registry_routes(registry: Registry) -> list[Route]:
    """The receiver's routes for the store and namespace of ``registry``."""

    async def webhook(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return _response(error(413, f"request body larger than {MAX_BODY} bytes"))
        # first value of each header, names lower-cased, as the CEL ``headers`` map holds
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), value)
        reply = await run_in_threadpool(
            receive,
            registry,
            request.path_params["tenant_id"],
            request.path_params["name"],
            headers,
            body,
            time.time(),
        )
        return _response(reply)

    async def identity(request: Request) -> Response:
        return JSONResponse({"store": await run_in_threadpool(store_identity, registry)})

    return [
        Route(RECEIVE_PATH, webhook, methods=["POST"]),
        Route(IDENTITY_PATH, identity, methods=["GET"]),
    ]


def create_receiver(hatchet: Any) -> Starlette:
    """The receiver alone, as an ASGI app, for ``hatchet`` (a ``Hatchet``)."""
    return Starlette(routes=receiver_routes(hatchet))


__all__ = [
    "IDENTITY_PATH",
    "RECEIVE_PATH",
    "create_receiver",
    "receiver_routes",
    "registry_routes",
    "store_identity",
]
