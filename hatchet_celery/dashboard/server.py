"""The Starlette application: pages, the JSON API, live run events, actions.

``create_app(hatchet)`` builds it from a ``Hatchet`` instance; every read goes through
that instance's feature clients (``source.py``, ``overview.py``, ``flow.py``, ``metrics.py``) and
every action is a runs API call (``hatchet.runs.cancel / replay / create``). Feature
clients are synchronous (redis-py), so handlers run them in Starlette's thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jinja2
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import hatchet_celery.dashboard.flow as flow
import hatchet_celery.dashboard.metrics as metrics
import hatchet_celery.dashboard.overview as overview
import hatchet_celery.dashboard.prom as prom
import hatchet_celery.dashboard.source as source
from hatchet_celery.dashboard.auth import Access, AuthMiddleware
from hatchet_celery.dashboard.celery_events import CeleryActivity
from hatchet_celery.exceptions import HatchetCeleryError, RunNotFoundError
from hatchet_celery.webhooks.receiver import receiver_routes

NAV = [
    ("/", "Runs"),
    ("/workflows", "Workflows"),
    ("/workers", "Workers"),
    ("/crons", "Crons & scheduled"),
    ("/events", "Events"),
    ("/flow", "Flow control"),
    ("/metrics-page", "Metrics"),
    ("/celery", "Celery tasks"),
]


@dataclass(frozen=True)
class Options:
    read_only: bool = False
    access: Access = Access()
    poll_interval: float = 0.5  # seconds between two looks at a run a page follows
    stream_seconds: float = 3600.0  # an event stream ends after this (the page reconnects)


def _environment(options: Options) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hatchet_celery.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.globals.update(
        nav=NAV,
        read_only=options.read_only,
        statuses=source.STATUSES,
        windows=list(source.WINDOWS),
        fmt_time=source.fmt_time,
    )
    return env


class Dashboard:
    """The handlers, bound to one ``Hatchet`` and one set of options."""

    def __init__(self, hatchet: Any, options: Options) -> None:
        self.hatchet = hatchet
        self.options = options
        self.env = _environment(options)
        self.celery = CeleryActivity(hatchet)

    def page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        html = self.env.get_template(template).render(path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    # --- runs ---------------------------------------------------------------------------------
    async def runs(self, request: Request) -> Response:
        filters = source.RunFilters.parse(request.query_params)
        started = time.perf_counter()
        data = await run_in_threadpool(source.list_runs, self.hatchet, filters)
        workflows = await run_in_threadpool(overview.workflow_names, self.hatchet)
        return self.page(
            request,
            "runs_table.html" if request.query_params.get("fragment") else "runs.html",
            filters=filters,
            data=data,
            workflows=workflows,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    async def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        view = await run_in_threadpool(source.run_view, self.hatchet, run_id)
        if view is None:
            return self.page(request, "missing.html", 404, what=f"run {run_id}")
        template = "run_main.html" if request.query_params.get("fragment") else "run.html"
        return self.page(request, template, run=view, message=request.query_params.get("msg"))

    async def run_events(self, request: Request) -> Response:
        """Server-sent events: the run's snapshot each time it changes, ``end`` once done."""
        run_id = request.path_params["run_id"]
        return StreamingResponse(
            self._snapshots(request, run_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _snapshots(self, request: Request, run_id: str) -> AsyncIterator[str]:
        last = ""
        until = time.monotonic() + self.options.stream_seconds
        yield "retry: 2000\n\n"
        while time.monotonic() < until and not await request.is_disconnected():
            snap = await run_in_threadpool(source.run_snapshot, self.hatchet, run_id)
            text = json.dumps(snap, sort_keys=True)
            if text != last:
                last = text
                yield f"event: run\ndata: {text}\n\n"
            if snap is None or snap["done"]:
                yield "event: end\ndata: {}\n\n"
                return
            await asyncio.sleep(self.options.poll_interval)

    # --- actions (absent with --read-only) ----------------------------------------------------
    async def cancel(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        form = await _form(request)
        target = str(form.get("task_run_id") or run_id)
        await run_in_threadpool(self.hatchet.runs.cancel, target)
        what = "task run cancelled" if target != run_id else "run cancelled"
        return RedirectResponse(f"/runs/{run_id}?msg={what.replace(' ', '+')}", 303)

    async def replay(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        await run_in_threadpool(self.hatchet.runs.replay, run_id)
        return RedirectResponse(f"/runs/{run_id}?msg=run+replayed", 303)

    async def trigger_form(self, request: Request) -> Response:
        workflow = request.query_params.get("workflow", "")
        return await self._trigger_page(request, workflow, "{}", "{}", [])

    async def _trigger_page(
        self,
        request: Request,
        workflow: str,
        input_text: str,
        meta_text: str,
        errors: list[dict[str, str]],
    ) -> Response:
        workflows = await run_in_threadpool(overview.workflow_names, self.hatchet)
        schema = await run_in_threadpool(overview.input_schema, self.hatchet, workflow)
        return self.page(
            request,
            "trigger.html",
            status=422 if errors else 200,
            workflows=workflows,
            workflow=workflow,
            input_text=input_text,
            meta_text=meta_text,
            errors=errors,
            schema=schema,
        )

    async def trigger(self, request: Request) -> Response:
        form = await _form(request)
        workflow = str(form.get("workflow") or "")
        input_text = str(form.get("input") or "{}")
        meta_text = str(form.get("metadata") or "{}")
        outcome = await run_in_threadpool(
            overview.trigger, self.hatchet, workflow, input_text, meta_text
        )
        if isinstance(outcome, list):
            return await self._trigger_page(request, workflow, input_text, meta_text, outcome)
        return RedirectResponse(f"/runs/{outcome}?msg=run+triggered", 303)

    # --- other pages --------------------------------------------------------------------------
    def simple_page(self, template: str, loader: Callable[[Any], Any]) -> Callable[..., Any]:
        async def handler(request: Request) -> Response:
            data = await run_in_threadpool(loader, self.hatchet)
            return self.page(request, template, data=data)

        return handler

    async def celery_page(self, request: Request) -> Response:
        return self.page(request, "celery.html", data=self.celery.snapshot())

    async def metrics_page(self, request: Request) -> Response:
        data = await run_in_threadpool(metrics.metrics, self.hatchet)
        return self.page(request, "metrics.html", data=data, plots=metrics.plots(data))

    async def prometheus(self, request: Request) -> Response:
        text = await run_in_threadpool(prom.exposition, self.hatchet)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def cron_delete(self, request: Request) -> Response:
        await run_in_threadpool(self.hatchet.cron.delete, request.path_params["cron_id"])
        return RedirectResponse("/crons", 303)

    async def scheduled_delete(self, request: Request) -> Response:
        await run_in_threadpool(self.hatchet.scheduled.delete, request.path_params["sched_id"])
        return RedirectResponse("/crons", 303)

    async def scheduled_create(self, request: Request) -> Response:
        return await self._create(request, overview.create_scheduled)

    async def cron_create(self, request: Request) -> Response:
        return await self._create(request, overview.create_cron)

    async def _create(self, request: Request, action: Callable[..., str | None]) -> Response:
        form = await _form(request)
        error = await run_in_threadpool(action, self.hatchet, form)
        if error:
            data = await run_in_threadpool(overview.crons, self.hatchet)
            return self.page(request, "crons.html", 422, data=data, error=error)
        return RedirectResponse("/crons", 303)

    # --- JSON API -----------------------------------------------------------------------------
    async def api_runs(self, request: Request) -> Response:
        filters = source.RunFilters.parse(request.query_params)
        return JSONResponse(await run_in_threadpool(source.list_runs, self.hatchet, filters))

    async def api_run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        view = await run_in_threadpool(source.run_view, self.hatchet, run_id)
        if view is None:
            return JSONResponse({"error": f"run {run_id!r} not found"}, 404)
        view.pop("svg")
        return JSONResponse(view)

    def api(self, loader: Callable[[Any], Any]) -> Callable[..., Any]:
        async def handler(request: Request) -> Response:
            return JSONResponse(_jsonable(await run_in_threadpool(loader, self.hatchet)))

        return handler

    async def api_celery(self, request: Request) -> Response:
        return JSONResponse(_jsonable(self.celery.snapshot()))

    async def api_cancel(self, request: Request) -> Response:
        await run_in_threadpool(self.hatchet.runs.cancel, request.path_params["run_id"])
        return JSONResponse({"ok": True})

    async def api_replay(self, request: Request) -> Response:
        await run_in_threadpool(self.hatchet.runs.replay, request.path_params["run_id"])
        return JSONResponse({"ok": True})

    async def api_trigger(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"errors": [{"field": "body", "message": "not JSON"}]}, 422)
        outcome = await run_in_threadpool(
            overview.trigger,
            self.hatchet,
            str(body.get("workflow") or ""),
            json.dumps(body.get("input") or {}),
            json.dumps(body.get("metadata") or {}),
        )
        if isinstance(outcome, list):
            return JSONResponse({"errors": outcome}, 422)
        return JSONResponse({"run_id": outcome}, 201)


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the pages' forms send nothing else;
    parsed here so the extra needs no multipart library)."""
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def routes(d: Dashboard) -> list[Route | Mount]:
    static = StaticFiles(packages=[("hatchet_celery.dashboard", "static")])
    found: list[Route | Mount] = [
        Route("/", d.runs),
        Route("/runs/{run_id}", d.run),
        Route("/runs/{run_id}/events", d.run_events),
        Route("/workflows", d.simple_page("workflows.html", overview.workflows)),
        Route("/workers", d.simple_page("workers.html", overview.workers)),
        Route("/crons", d.simple_page("crons.html", overview.crons)),
        Route("/events", d.simple_page("events.html", overview.events)),
        Route("/flow", d.simple_page("flow.html", flow.flow_control)),
        Route("/metrics-page", d.metrics_page),
        Route("/celery", d.celery_page),
        Route("/metrics", d.prometheus),
        Route("/api/runs", d.api_runs),
        Route("/api/runs/{run_id}", d.api_run),
        Route("/api/workflows", d.api(overview.workflows)),
        Route("/api/workers", d.api(overview.workers)),
        Route("/api/crons", d.api(overview.crons)),
        Route("/api/events", d.api(overview.events)),
        Route("/api/flow", d.api(flow.flow_control)),
        Route("/api/metrics", d.api(metrics.metrics)),
        Route("/api/celery", d.api_celery),
        Mount("/static", static, name="static"),
    ]
    if not d.options.read_only:
        found += [
            Route("/runs/{run_id}/cancel", d.cancel, methods=["POST"]),
            Route("/runs/{run_id}/replay", d.replay, methods=["POST"]),
            Route("/trigger", d.trigger_form, methods=["GET"]),
            Route("/trigger", d.trigger, methods=["POST"]),
            Route("/crons/new", d.cron_create, methods=["POST"]),
            Route("/scheduled/new", d.scheduled_create, methods=["POST"]),
            Route("/crons/{cron_id}/delete", d.cron_delete, methods=["POST"]),
            Route("/scheduled/{sched_id}/delete", d.scheduled_delete, methods=["POST"]),
            Route("/api/runs/{run_id}/cancel", d.api_cancel, methods=["POST"]),
            Route("/api/runs/{run_id}/replay", d.api_replay, methods=["POST"]),
            Route("/api/trigger", d.api_trigger, methods=["POST"]),
        ]
    return found


def _lifespan(dashboard: Dashboard, celery_events: bool) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if celery_events:
            dashboard.celery.start()
        try:
            yield
        finally:
            dashboard.celery.stop()

    return lifespan


def create_app(
    hatchet: Any,
    *,
    read_only: bool = False,
    token: str | None = None,
    basic_auth: str | None = None,
    poll_interval: float = 0.5,
    celery_events: bool = True,
) -> Any:
    """The dashboard as an ASGI application for ``hatchet`` (serve it with uvicorn)."""
    options = Options(
        read_only=read_only,
        access=Access.of(token, basic_auth),
        poll_interval=poll_interval,
    )
    dashboard = Dashboard(hatchet, options)

    async def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, 404)
        return dashboard.page(request, "missing.html", 404, what=str(exc))

    async def failed(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return PlainTextResponse(exc.detail, exc.status_code)
        message = str(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, 400)
        return dashboard.page(request, "missing.html", 400, what=message)

    app = Starlette(
        routes=routes(dashboard),
        exception_handlers={
            RunNotFoundError: not_found,
            HatchetCeleryError: failed,
            ValidationError: failed,
            ValueError: failed,
        },
    )
    app.state.dashboard = dashboard
    # Each webhook authenticates its own requests: the receiver is outside the dashboard's auth.
    return Starlette(
        routes=[*receiver_routes(hatchet), Mount("", app=AuthMiddleware(app, options.access))],
        lifespan=_lifespan(dashboard, celery_events),
    )


__all__ = ["Dashboard", "Options", "create_app"]
