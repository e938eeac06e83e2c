"""One webhook request to one event, independent of the HTTP framework.

The steps, in Hatchet's order: find the webhook (404: unknown tenant or name), answer a
Slack URL-verification challenge, check the auth (``signatures.check``), read the body (a
JSON object, or form fields; 400 otherwise), merge the webhook's static payload over it
(static values win), evaluate the event key expression and the scope expression over
``input`` (that payload) and ``headers`` (lower-cased names, first value), and push the
event. The event carries the webhook's name, which ``hatchet.event.list`` shows as
``triggering_webhook_name``.

The event goes through ``_runtime.waits.events.push``, as ``hatchet.event.push`` does, so
``on_events`` workflows, filters, scopes and waits see it like any other event. The key is
used as the expression gives it (not namespaced), as Hatchet's engine does: write the
namespace into the expression when there is one. The answer is 200 with the event
(``return_event_as_response_payload``, the default) or 204; a failure to store the event is
an error (500), so the sender retries and nothing is lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from hatchet_celery._cel import CelEvaluationError, compile_cel
from hatchet_celery._runtime.timing.crons import tenant_id
from hatchet_celery._runtime.waits.events import EventIn, push
from hatchet_celery.clients.rest.models.v1_webhook_response import V1WebhookResponse
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName
from hatchet_celery.features.events import WEBHOOK_NAME_KEY
from hatchet_celery.webhooks.definition import (
    WEBHOOK_CEL_VARIABLES,
    StoredWebhook,
    WebhookNotFoundError,
)
from hatchet_celery.webhooks.signatures import check

if TYPE_CHECKING:
    from hatchet_celery._runtime.registry import Registry

log = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Reply:
    """The receiver's answer: a status and a JSON body (None: no body)."""

    status: int
    body: dict[str, Any] | None = None


def error(status: int, message: str) -> Reply:
    """Hatchet's error shape: ``{"errors": [{"description": ...}]}``."""
    return Reply(status, {"errors": [{"description": message}]})


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def receive(
    registry: Registry,
    tenant: str,
    name: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> Reply:
    """Turn a request to webhook ``name`` into an event; ``headers`` keyed in lower case."""
    served = tenant_id(registry.config.namespace)
    if tenant != served:
        return error(404, f"tenant {tenant} is not served here (this is {served})")
    clients = registry.features()
    try:
        stored = clients.webhooks.load(name)
    except WebhookNotFoundError:
        return error(404, f"webhook {name} not found for tenant {tenant}")
    request = stored.request
    try:
        challenge = _slack_challenge(request.source_name, body)
        if challenge is not None:
            return Reply(200, V1WebhookResponse(challenge=challenge).model_dump(exclude_none=True))
        rejection = check(request.source_name, request.auth, headers, body, now)
        if rejection is not None:
            log.info("hatchet_celery: webhook %r refused: %s", name, rejection.message)
            return error(rejection.status, rejection.message)
        payload = {**_payload(request.source_name, headers, body), **(request.static_payload or {})}
        key, scope = _key_and_scope(stored, payload, dict(headers))
    except _Refused as refused:
        return refused.reply
    event = EventIn(key=key, payload=payload, metadata={WEBHOOK_NAME_KEY: name}, scope=scope)
    pushed = push(registry, [event])[0]
    if request.return_event_as_response_payload is False:
        return Reply(204)
    listed = clients.event.get(pushed.event_id)
    response = V1WebhookResponse(message="ok", event=listed)
    return Reply(200, response.model_dump(mode="json", by_alias=True, exclude_none=True))


def _slack_challenge(source: V1WebhookSourceName, body: bytes) -> str | None:
    if source is not V1WebhookSourceName.SLACK:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    challenge = doc.get("challenge") if isinstance(doc, dict) else None
    return challenge if isinstance(challenge, str) and challenge else None


def _payload(
    source: V1WebhookSourceName, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    """The request body as the event payload: a JSON object, or form fields."""
    if FORM in headers.get("content-type", ""):
        return _form(source, body)
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise _Refused(error(400, "failed to unmarshal request body: expected a JSON object"))
    return doc


def _form(source: V1WebhookSourceName, body: bytes) -> dict[str, Any]:
    """Form fields (first value of each); Slack interactions carry JSON in ``payload``."""
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, UnicodeDecodeError):
        raise _Refused(error(400, "Failed to parse form data")) from None
    fields: dict[str, Any] = {}
    for k, v in pairs:
        fields.setdefault(k, v)
    if source is V1WebhookSourceName.SLACK and fields.get("payload"):
        try:
            doc = json.loads(fields["payload"])
        except ValueError:
            raise _Refused(error(400, "Failed to unmarshal payload parameter as JSON")) from None
        if not isinstance(doc, dict):
            raise _Refused(error(400, "Failed to unmarshal payload parameter as JSON"))
        return doc
    if source not in (V1WebhookSourceName.GENERIC, V1WebhookSourceName.SLACK):
        raise _Refused(
            error(
                400, f"form-encoded requests are not supported for webhook source: {source.value}"
            )
        )
    return fields


def _evaluate(expression: str, what: str, variables: dict[str, Any]) -> str:
    try:
        program = compile_cel(expression, what=what, variables=WEBHOOK_CEL_VARIABLES)
        value = program.evaluate(variables, what=what)
    except (CelEvaluationError, ValueError) as exc:
        raise _Refused(error(400, f"Failed to evaluate {what}: {exc}")) from None
    if not isinstance(value, str):
        raise _Refused(error(400, f"{what} must evaluate to a string, got {value!r}"))
    return value


def _key_and_scope(
    stored: StoredWebhook, payload: dict[str, Any], headers: dict[str, str]
) -> tuple[str, str | None]:
    request = stored.request
    variables = {"input": payload, "headers": headers}
    key = _evaluate(request.event_key_expression, "event key expression", variables)
    if not key:
        raise _Refused(error(400, "Event key evaluated to an empty string"))
    scope = None
    if request.scope_expression:
        scope = _evaluate(request.scope_expression, "scope expression", variables)
    return key, scope


__all__ = ["Reply", "error", "receive"]
