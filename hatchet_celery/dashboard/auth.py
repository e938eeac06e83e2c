"""Who may open the dashboard: loopback by default, a token or basic auth elsewhere.

``check_bind`` is the rule the command applies before it listens: a host that is not a
loopback address needs a token or basic-auth credentials. ``AuthMiddleware`` enforces
them on every request (pages, JSON API, the event streams and ``/metrics``):

- a token is accepted as ``Authorization: Bearer <token>``, as the ``hc_dashboard``
  cookie, or once as ``?token=<token>`` (which sets the cookie and redirects to the same
  URL without it, so the token does not stay in the address bar or in links);
- basic auth is the usual ``Authorization: Basic`` header (the browser asks for it).

Actions are POSTs; a POST whose ``Origin`` names another site is refused, and the cookie
is ``SameSite=Strict``, so another page cannot make a logged-in browser cancel runs.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from hatchet_celery.exceptions import HatchetCeleryError

COOKIE = "hc_dashboard"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DashboardConfigError(HatchetCeleryError, ValueError):
    """The dashboard's options do not make a safe server (e.g. a public bind, no auth)."""


@dataclass(frozen=True)
class Access:
    """The credentials the server asks for; none at all means open (loopback only)."""

    token: str | None = None
    basic: tuple[str, str] | None = None

    @classmethod
    def of(cls, token: str | None, basic_auth: str | None) -> Access:
        basic = None
        if basic_auth:
            user, sep, password = basic_auth.partition(":")
            if not sep or not user or not password:
                raise DashboardConfigError("--basic-auth takes USER:PASSWORD (both non-empty)")
            basic = (user, password)
        if token is not None and not token.strip():
            raise DashboardConfigError("--token must not be empty")
        return cls(token=token or None, basic=basic)

    @property
    def required(self) -> bool:
        return self.token is not None or self.basic is not None


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, access: Access) -> None:
    """Refuse to serve a non-loopback address without a token or basic auth."""
    if not is_loopback(host) and not access.required:
        raise DashboardConfigError(
            f"refusing to serve the dashboard on {host!r} without credentials: it shows "
            "inputs and outputs and can cancel runs. Pass --token TOKEN or "
            "--basic-auth USER:PASSWORD, or bind a loopback address (--host 127.0.0.1)."
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class AuthMiddleware:
    """Checks the credentials of ``access`` on every HTTP request (see the module doc)."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if scope["method"] == "POST" and not _same_origin(headers):
            await _plain(send, 403, "cross-site request refused")
            return
        if not self.access.required:
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        token = self.access.token
        if token is not None and _equal(query.get("token"), token):
            await _set_cookie_and_redirect(send, scope, token)
            return
        if self._allowed(headers):
            await self.app(scope, receive, send)
            return
        challenge = [(b"www-authenticate", b'Basic realm="hatchet-celery"')]
        await _plain(
            send,
            401,
            "authentication required: open the dashboard with ?token=TOKEN, "
            "send 'Authorization: Bearer TOKEN', or log in with basic auth",
            challenge if self.access.basic else [],
        )

    def _allowed(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        token, basic = self.access.token, self.access.basic
        if token is not None:
            if scheme.lower() == "bearer" and _equal(value.strip(), token):
                return True
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(headers.get("cookie", ""))
            if COOKIE in cookie and _equal(cookie[COOKIE].value, token):
                return True
        if basic is not None and scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return _equal(user, basic[0]) & _equal(password, basic[1])
        return False


def _equal(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")


async def _plain(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _set_cookie_and_redirect(send: Send, scope: Scope, token: str) -> None:
    query = [
        (k, v)
        for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        if k != "token"
    ]
    target = scope.get("root_path", "") + scope["path"] + ("?" + urlencode(query) if query else "")
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", target.encode()),
                (b"set-cookie", cookie.encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


__all__ = ["Access", "AuthMiddleware", "DashboardConfigError", "check_bind", "is_loopback"]
