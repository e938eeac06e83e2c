"""Incoming webhooks: ``hatchet.webhooks`` and the receiver, over a real HTTP server.

The receiver is the dashboard's (``create_app``, behind a dashboard token that webhooks do
not need), served by uvicorn on a free loopback port; events reach ``on_events`` tasks run
by the suite's in-process worker, on the real redis-server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hatchet_celery import ClientConfig, Context, DefaultFilter, EmptyModel, Hatchet
from hatchet_celery.clients.rest.models.v1_webhook_api_key_auth import V1WebhookAPIKeyAuth
from hatchet_celery.clients.rest.models.v1_webhook_auth_type import V1WebhookAuthType
from hatchet_celery.clients.rest.models.v1_webhook_basic_auth import V1WebhookBasicAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_algorithm import V1WebhookHMACAlgorithm
from hatchet_celery.clients.rest.models.v1_webhook_hmac_auth import V1WebhookHMACAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_encoding import V1WebhookHMACEncoding
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName
from hatchet_celery.exceptions import CelCompileError
from hatchet_celery.features.webhooks import WebhookNotFoundError
from hatchet_celery.webhooks.signatures import check, sign
from tests.apps import hatchet
from tests.dashboard.harness import DashboardServer

pytestmark = pytest.mark.usefixtures("worker")
GENERIC = V1WebhookSourceName.GENERIC
SEEN: dict[str, dict[str, Any]] = {}  # event id -> what the triggered task saw


@hatchet.task(name="wh-order", on_events=["wh:order"])
def wh_order(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    SEEN[ctx.triggering_event_id or ""] = {"input": ctx.input, "task": "order"}
    return {}


@hatchet.task(
    name="wh-scoped",
    on_events=["wh:scoped"],
    default_filters=[DefaultFilter(expression="true", scope="acme", payload={})],
)
def wh_scoped(input: EmptyModel, ctx: Context) -> dict[str, Any]:
    SEEN[ctx.triggering_event_id or ""] = {"input": ctx.input, "task": "scoped"}
    return {}


def _seen(event_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while event_id not in SEEN:
        assert time.monotonic() < deadline, f"no task ran for event {event_id}"
        time.sleep(0.02)
    return SEEN[event_id]


@pytest.fixture(scope="module")
def server() -> Iterator[DashboardServer]:
    from hatchet_celery.dashboard import create_app

    started = DashboardServer(create_app(hatchet, token="dash-token", celery_events=False))
    started.start()
    try:
        yield started
    finally:
        started.stop()


def _url(server: DashboardServer, name: str, tenant: str | None = None) -> str:
    return f"{server.url}/api/v1/stable/tenants/{tenant or hatchet.tenant_id}/webhooks/{name}"


def _key(suffix: str) -> str:
    return f"'{hatchet.config.apply_namespace('wh:')}' + {suffix}"


def _create(auth: Any, **options: Any) -> str:
    name = f"wh-{uuid.uuid4().hex[:10]}"
    options.setdefault("event_key_expression", _key("input.type"))
    hatchet.webhooks.create(
        source_name=options.pop("source_name", GENERIC), name=name, auth=auth, **options
    )
    return name


def _events_of(name: str) -> list[Any]:
    rows = hatchet.event.list(limit=1000).rows or []
    return [e for e in rows if e.triggering_webhook_name == name]


def _post(url: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else kwargs.pop("content", b"")
    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    return httpx.post(url, content=content, headers=headers, timeout=30, **kwargs)


BASIC = V1WebhookBasicAuth(username="user", password="secret")


def test_basic_auth_accepted_event_runs_the_task(server: DashboardServer) -> None:
    name = _create(BASIC)
    body = {"type": "order", "n": 1}
    reply = _post(_url(server, name), body, auth=("user", "secret"))
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["message"] == "ok"
    event_id = data["event"]["metadata"]["id"]
    assert data["event"]["key"] == "tests_wh:order"
    assert data["event"]["payload"] == body
    assert _seen(event_id) == {"input": body, "task": "order"}
    [event] = _events_of(name)
    assert event.metadata.id == event_id and event.additional_metadata == {}
    runs = hatchet.runs.list(additional_metadata={"hatchet__event_id": event_id}).rows
    assert [r.additional_metadata["hatchet__event_key"] for r in runs] == ["tests_wh:order"]


@pytest.mark.parametrize("auth", [("user", "wrong"), ("other", "secret"), ("", ""), None], ids=str)
def test_basic_auth_refused(server: DashboardServer, auth: Any) -> None:
    name = _create(BASIC)
    reply = _post(_url(server, name), {"type": "order"}, auth=auth)
    assert reply.status_code == 403
    assert reply.json()["errors"][0]["description"] in (
        "invalid basic auth credentials",
        "missing or invalid authorization header",
    )
    assert _events_of(name) == []  # the receiver answers after storing: nothing was


def test_api_key_auth(server: DashboardServer) -> None:
    name = _create(V1WebhookAPIKeyAuth(headerName="X-API-Key", apiKey="k-123"))
    assert (
        _post(_url(server, name), {"type": "x"}, headers={"x-api-key": "k-12"}).status_code == 403
    )
    assert _post(_url(server, name), {"type": "x"}).status_code == 403
    assert _events_of(name) == []
    ok = _post(_url(server, name), {"type": "x"}, headers={"X-API-Key": "k-123"})
    assert ok.status_code == 200
    assert [e.key for e in _events_of(name)] == ["tests_wh:x"]


@pytest.mark.parametrize("algorithm", list(V1WebhookHMACAlgorithm))
@pytest.mark.parametrize("encoding", list(V1WebhookHMACEncoding))
def test_hmac_auth(
    server: DashboardServer, algorithm: V1WebhookHMACAlgorithm, encoding: V1WebhookHMACEncoding
) -> None:
    auth = V1WebhookHMACAuth(
        algorithm=algorithm, encoding=encoding, signatureHeaderName="X-Sig", signingSecret="s3"
    )
    name = _create(auth)
    raw = json.dumps({"type": "signed"}).encode()
    digest = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}.get(
        algorithm.value, hashlib.md5
    )
    mac = hmac.new(b"s3", raw, digest).digest()
    signature = {
        "HEX": mac.hex(),
        "BASE64": base64.b64encode(mac).decode(),
        "BASE64URL": base64.urlsafe_b64encode(mac).decode(),
    }[encoding.value]
    url = _url(server, name)
    assert _post(url, content=raw, headers={"x-sig": "bad"}).status_code == 403
    assert _post(url, content=raw).status_code == 403
    assert _post(url, content=raw + b" ", headers={"x-sig": signature}).status_code == 403
    assert _events_of(name) == []
    assert _post(url, content=raw, headers={"x-sig": signature}).status_code == 200
    assert len(_events_of(name)) == 1


def test_scope_from_header_and_payload_reaches_the_scoped_filter(server: DashboardServer) -> None:
    by_header = _create(
        BASIC, event_key_expression=_key("'scoped'"), scope_expression="headers['x-scope']"
    )
    reply = _post(
        _url(server, by_header), {"type": "t"}, auth=("user", "secret"), headers={"X-Scope": "acme"}
    )
    event_id = reply.json()["event"]["metadata"]["id"]
    assert _seen(event_id)["task"] == "scoped"
    assert _events_of(by_header)[0].scope == "acme"

    # static payload wins over the body and is visible to the scope expression
    by_payload = _create(
        BASIC,
        event_key_expression=_key("'scoped'"),
        scope_expression="'ac' + input.tenant",
        static_payload={"tenant": "me", "source": "static"},
    )
    body = {"tenant": "other", "source": "body", "kept": True}
    reply = _post(_url(server, by_payload), body, auth=("user", "secret"))
    event_id = reply.json()["event"]["metadata"]["id"]
    seen = _seen(event_id)
    assert seen["input"] == {"tenant": "me", "source": "static", "kept": True}
    [event] = _events_of(by_payload)
    assert event.scope == "acme"


def test_scope_without_a_matching_filter_runs_nothing(server: DashboardServer) -> None:
    name = _create(BASIC, event_key_expression=_key("'scoped'"), scope_expression="input.s")
    reply = _post(_url(server, name), {"s": "nobody"}, auth=("user", "secret"))
    event_id = reply.json()["event"]["metadata"]["id"]
    assert hatchet.event.get(event_id).scope == "nobody"
    # the filter decision is taken in the push, before the receiver answered
    assert hatchet.event.get(event_id).triggered_runs == []


def test_errors_name_the_problem(server: DashboardServer) -> None:
    name = _create(BASIC, event_key_expression="input.n")
    creds = {"auth": ("user", "secret")}
    missing = _post(_url(server, "no-such-hook"), {}, **creds)
    assert missing.status_code == 404
    assert "webhook no-such-hook not found" in missing.json()["errors"][0]["description"]
    assert _post(_url(server, name, tenant=str(uuid.uuid4())), {}, **creds).status_code == 404
    bad_body = _post(_url(server, name), content=b"[1, 2]", **creds)
    assert (bad_body.status_code, "JSON object" in bad_body.text) == (400, True)
    not_string = _post(_url(server, name), {"n": 3}, **creds)
    assert not_string.status_code == 400
    assert "must evaluate to a string" in not_string.json()["errors"][0]["description"]
    no_field = _post(_url(server, name), {}, **creds)
    assert no_field.status_code == 400 and "event key expression" in no_field.text
    assert _events_of(name) == []


def test_form_body_and_no_event_in_the_answer(server: DashboardServer) -> None:
    name = _create(BASIC, return_event_as_response_payload=False)
    reply = httpx.post(
        _url(server, name),
        content=b"type=order&text=hello+there",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=("user", "secret"),
    )
    assert reply.status_code == 204 and reply.content == b""
    [event] = _events_of(name)
    assert event.payload == {"type": "order", "text": "hello there"}


def test_the_dashboard_token_still_guards_the_dashboard(server: DashboardServer) -> None:
    assert httpx.get(f"{server.url}/api/runs").status_code == 401
    headers = {"authorization": "Bearer dash-token"}
    assert httpx.get(f"{server.url}/api/runs", headers=headers).status_code == 200


def test_manage_webhooks() -> None:
    name = _create(BASIC, scope_expression="input.a", static_payload={"x": 1})
    got = hatchet.webhooks.get(name)
    assert (got.auth_type, got.scope_expression, got.static_payload) == (
        V1WebhookAuthType.BASIC,
        "input.a",
        {"x": 1},
    )
    assert got.tenant_id == hatchet.tenant_id
    assert "password" not in got.model_dump_json()
    updated = hatchet.webhooks.update(name, scope_expression="input.b")
    assert updated.scope_expression == "input.b"
    assert updated.event_key_expression == got.event_key_expression
    listed = hatchet.webhooks.list(webhook_names=[name]).rows or []
    assert [w.name for w in listed] == [name]
    assert (
        hatchet.webhooks.list(webhook_names=[name], source_names=[V1WebhookSourceName.SLACK]).rows
        == []
    )
    with pytest.raises(ValueError, match="already exists"):
        hatchet.webhooks.create(GENERIC, name, "'k'", BASIC)
    with pytest.raises(CelCompileError, match="scope expression"):
        hatchet.webhooks.update(name, scope_expression="inptu.b")
    with pytest.raises(CelCompileError, match="event key expression"):
        hatchet.webhooks.create(GENERIC, f"{name}-2", "(", BASIC)
    with pytest.raises(ValueError, match="signing secret"):
        hatchet.webhooks.create(V1WebhookSourceName.STRIPE, f"{name}-3", "'k'", BASIC)
    assert asyncio.run(hatchet.webhooks.aio_delete(name)).name == name
    with pytest.raises(WebhookNotFoundError):
        hatchet.webhooks.get(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_loopback_server_url_nobody_serves_is_served_by_the_creating_process() -> None:
    """What a script or Hatchet's own tests do: create, then post to ``server_url`` at once."""
    local = Hatchet(
        config=ClientConfig(namespace="wh_local", server_url=f"http://127.0.0.1:{_free_port()}")
    )
    local.webhooks.create(GENERIC, "hook", "'local:' + input.type", BASIC)
    try:
        url = f"{local.config.server_url}/api/v1/stable/tenants/{local.tenant_id}/webhooks/hook"
        reply = _post(url, {"type": "t"}, auth=("user", "secret"))
        assert reply.status_code == 200, reply.text
        assert local.event.get(reply.json()["event"]["metadata"]["id"]).key == "local:t"
        local.webhooks.create(GENERIC, "hook2", "'k'", BASIC)  # the same receiver serves it
        assert local.webhooks._receiver is not None
    finally:
        if local.webhooks._receiver is not None:
            local.webhooks._receiver.stop()
        for name in ("hook", "hook2"):
            local.webhooks.delete(name)


# --- providers' signature schemes (pure: the clock is passed in) ---------------------------
SECRET_AUTH = V1WebhookHMACAuth(
    algorithm=V1WebhookHMACAlgorithm.SHA256,
    encoding=V1WebhookHMACEncoding.HEX,
    signatureHeaderName="Stripe-Signature",
    signingSecret="whsec",
)
NOW = 1_700_000_000.0
BODY = b'{"type": "payment_intent.succeeded"}'


def test_stripe_signature() -> None:
    good = sign(b"1700000000." + BODY, "whsec", SECRET_AUTH.algorithm, SECRET_AUTH.encoding)
    stripe = V1WebhookSourceName.STRIPE
    header = {"stripe-signature": f"t=1700000000,v1=bad,v1={good}"}
    assert check(stripe, SECRET_AUTH, header, BODY, NOW) is None
    assert check(stripe, SECRET_AUTH, header, BODY, NOW + 601).status == 400  # type: ignore[union-attr]
    tampered = check(stripe, SECRET_AUTH, header, BODY + b" ", NOW)
    assert tampered is not None and tampered.status == 403
    assert check(stripe, SECRET_AUTH, {}, BODY, NOW).status == 400  # type: ignore[union-attr]


def test_slack_signature() -> None:
    auth = SECRET_AUTH.model_copy(update={"signature_header_name": "X-Slack-Signature"})
    good = "v0=" + sign(b"v0:1700000000:" + BODY, "whsec", auth.algorithm, auth.encoding)
    headers = {"x-slack-request-timestamp": "1700000000", "x-slack-signature": good}
    slack = V1WebhookSourceName.SLACK
    assert check(slack, auth, headers, BODY, NOW) is None
    assert check(slack, auth, headers, BODY, NOW + 301).status == 403  # type: ignore[union-attr]
    assert check(slack, auth, {**headers, "x-slack-signature": "v0=00"}, BODY, NOW) is not None


def test_slack_url_verification_is_answered_without_an_event(server: DashboardServer) -> None:
    auth = SECRET_AUTH.model_copy(update={"signature_header_name": "X-Slack-Signature"})
    name = _create(auth, source_name=V1WebhookSourceName.SLACK)
    reply = _post(_url(server, name), {"type": "url_verification", "challenge": "c-42"})
    assert (reply.status_code, reply.json()) == (200, {"challenge": "c-42"})
    assert _events_of(name) == []


def test_svix_signature() -> None:
    key = b"svix-key-bytes"
    auth = SECRET_AUTH.model_copy(
        update={"signing_secret": "whsec_" + base64.b64encode(key).decode()}
    )
    mac = hmac.new(key, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": "v1,AAAA v1," + base64.b64encode(mac).decode(),
    }
    svix = V1WebhookSourceName.SVIX
    assert check(svix, auth, headers, BODY, NOW) is None
    assert check(svix, auth, headers, BODY, NOW - 301).status == 400  # type: ignore[union-attr]
    assert check(svix, auth, headers, BODY + b"x", NOW).status == 403  # type: ignore[union-attr]


# --- the README's example, as shown ---------------------------------------------------------
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SEND = """
import hashlib, hmac, json, httpx
body = json.dumps({"action": "opened", "pull_request": {"number": 7},
                   "repository": {"full_name": "acme/app"}}).encode()
mac = hmac.new(b"gh-secret", body, hashlib.sha256).hexdigest()
headers = {"x-github-event": "pull_request", "x-hub-signature-256": "sha256=" + mac,
           "content-type": "application/json"}
reply = httpx.post(url, content=body, headers=headers, timeout=30)
print(json.dumps([reply.status_code, reply.json()]))
"""


def test_readme_example_receives_a_signed_github_request() -> None:
    section = README.split("## Incoming webhooks", 1)[1]
    snippet = section.split("```python", 1)[1].split("```", 1)[0]
    env = {
        **os.environ,
        "HATCHET_CLIENT_SERVER_URL": f"http://127.0.0.1:{_free_port()}",
        "HATCHET_CLIENT_NAMESPACE": "readme_wh",
        "GITHUB_WEBHOOK_SECRET": "gh-secret",
    }
    done = subprocess.run(
        [sys.executable, "-c", snippet + SEND], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    status, answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 200, answer
    assert answer["event"]["key"] == "github:pull_request:opened"
    readme = Hatchet(config=ClientConfig(namespace="readme_wh"))
    assert readme.event.get(answer["event"]["metadata"]["id"]).scope == "acme/app"
    readme.webhooks.delete("github")
