"""``hatchet-celery dashboard MODULE:ATTR``: serve the web dashboard (``hatchet_celery/dashboard``).

The dashboard is an optional extra: Starlette, uvicorn and Jinja2 are imported here, when
the command runs, so ``import hatchet_celery`` never needs them.
"""

from __future__ import annotations

import socket
from typing import Any

import click

from hatchet_celery.cli._common import (
    EXIT_USAGE,
    CliError,
    handle_errors,
    registry_of,
    target_object,
)

MISSING = (
    "the dashboard needs its extra: pip install 'hatchet-celery[dashboard]' "
    "(Starlette, uvicorn, Jinja2); missing: {name}"
)


def _hatchet(ctx: click.Context, target: str | None) -> Any:
    """The ``Hatchet`` whose feature clients the dashboard reads through."""
    from hatchet_celery.hatchet import Hatchet

    obj = target_object(ctx, target, "")
    if isinstance(obj, Hatchet):
        return obj
    return Hatchet._on_registry(registry_of(obj))


def build(
    hatchet: Any,
    host: str,
    token: str | None,
    basic_auth: str | None,
    read_only: bool,
) -> Any:
    """The ASGI app, after the bind rule (a non-loopback host needs credentials)."""
    try:
        from hatchet_celery.dashboard import Access, DashboardConfigError, check_bind, create_app
    except ImportError as exc:
        raise CliError(MISSING.format(name=exc.name or exc), EXIT_USAGE) from exc
    try:
        check_bind(host, Access.of(token, basic_auth))
        return create_app(hatchet, read_only=read_only, token=token, basic_auth=basic_auth)
    except DashboardConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket: connections wait in its backlog until the server accepts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def start_background(registry: Any, host: str = "127.0.0.1", port: int = 8080) -> str | None:
    """Serve the dashboard of ``registry`` on a daemon thread (``hatchet-celery dev``): its
    URL, or ``None`` (and a hint on stderr) when the extra is not installed. A busy port
    falls back to a free one."""
    import threading

    from hatchet_celery.hatchet import Hatchet

    try:
        import uvicorn

        from hatchet_celery.dashboard import create_app
    except ImportError as exc:
        click.echo(f"hatchet-celery dev: no dashboard: {MISSING.format(name=exc.name)}", err=True)
        return None
    try:
        sock = _listen(host, port)
    except OSError:
        sock = _listen(host, 0)
    app = create_app(Hatchet._on_registry(registry))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="hc-dashboard", daemon=True
    )
    thread.start()
    return url_of(host, sock.getsockname()[1])


@click.command()
@click.argument("target", required=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    default=None,
    envvar="HATCHET_CELERY_DASHBOARD_TOKEN",
    help="Require this token (Bearer header, or open the URL once with ?token=...).",
)
@click.option(
    "--basic-auth",
    default=None,
    metavar="USER:PASSWORD",
    envvar="HATCHET_CELERY_DASHBOARD_BASIC_AUTH",
    help="Require HTTP basic auth with these credentials.",
)
@click.option("--read-only", is_flag=True, help="Hide every action (cancel, replay, trigger).")
@click.pass_context
@handle_errors
def dashboard(
    ctx: click.Context,
    target: str | None,
    host: str,
    port: int,
    token: str | None,
    basic_auth: str | None,
    read_only: bool,
) -> None:
    """Serve the web dashboard of TARGET (MODULE:ATTR of a Hatchet) on HOST:PORT.

    Loopback only unless --token or --basic-auth is given.
    """
    app = build(_hatchet(ctx, target), host, token, basic_auth, read_only)
    try:
        import uvicorn
    except ImportError as exc:
        raise CliError(MISSING.format(name="uvicorn"), EXIT_USAGE) from exc
    try:
        sock = _listen(host, port)
    except OSError as exc:
        raise CliError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_USAGE
        ) from exc
    # the socket is bound here, so --port 0 prints the port the system chose
    click.echo(f"hatchet-celery dashboard: {url_of(host, sock.getsockname()[1])}", err=True)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])


__all__ = ["build", "dashboard", "start_background", "url_of"]
