"""Is this request from the webhook's sender? Hatchet's rules, as pure functions.

``GENERIC``, ``GITHUB`` and ``LINEAR`` webhooks use the auth they were created with: basic
auth, an API key header, or an HMAC of the raw body in a header (a ``sha256=``-style prefix
on the signature is ignored). ``STRIPE``, ``SLACK`` and ``SVIX`` requests carry their
provider's signed timestamp, checked with the webhook's HMAC signing secret.

A refusal is a ``Rejection``: 403 for missing or wrong credentials, 400 for a request whose
signature header cannot be read (as Hatchet answers). Secrets are compared in constant time.
``now`` is passed in, so the timestamp windows are tested without a clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hatchet_celery.clients.rest.models.v1_webhook_api_key_auth import V1WebhookAPIKeyAuth
from hatchet_celery.clients.rest.models.v1_webhook_basic_auth import V1WebhookBasicAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_algorithm import V1WebhookHMACAlgorithm
from hatchet_celery.clients.rest.models.v1_webhook_hmac_auth import V1WebhookHMACAuth
from hatchet_celery.clients.rest.models.v1_webhook_hmac_encoding import V1WebhookHMACEncoding
from hatchet_celery.clients.rest.models.v1_webhook_source_name import V1WebhookSourceName

DIGESTS: dict[V1WebhookHMACAlgorithm, Callable[..., Any]] = {
    V1WebhookHMACAlgorithm.SHA1: hashlib.sha1,
    V1WebhookHMACAlgorithm.SHA256: hashlib.sha256,
    V1WebhookHMACAlgorithm.SHA512: hashlib.sha512,
    V1WebhookHMACAlgorithm.MD5: hashlib.md5,
}
SLACK_WINDOW = 5 * 60.0  # a Slack timestamp older than this is refused
STRIPE_WINDOW = 10 * 60.0
SVIX_WINDOW = 5 * 60.0  # either way
_PREFIXES = ("sha1=", "sha256=", "sha512=", "md5=")


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused, and the HTTP status that says so."""

    status: int
    message: str


def sign(
    body: bytes, secret: str, algorithm: V1WebhookHMACAlgorithm, encoding: V1WebhookHMACEncoding
) -> str:
    """The HMAC of ``body`` with ``secret``, written as ``encoding`` says."""
    digest = hmac.new(secret.encode(), body, DIGESTS[V1WebhookHMACAlgorithm(algorithm)]).digest()
    encoding = V1WebhookHMACEncoding(encoding)
    if encoding is V1WebhookHMACEncoding.HEX:
        return digest.hex()
    if encoding is V1WebhookHMACEncoding.BASE64:
        return base64.b64encode(digest).decode()
    return base64.urlsafe_b64encode(digest).decode()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _unprefixed(signature: str) -> str:
    signature = signature.strip()
    for prefix in _PREFIXES:
        signature = signature.removeprefix(prefix)
    return signature


def check(
    source: V1WebhookSourceName,
    auth: V1WebhookBasicAuth | V1WebhookAPIKeyAuth | V1WebhookHMACAuth,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> Rejection | None:
    """None when the request is authentic; ``headers`` are keyed in lower case."""
    if source is V1WebhookSourceName.STRIPE:
        return _stripe(_hmac_auth(auth), headers, body, now)
    if source is V1WebhookSourceName.SLACK:
        return _slack(_hmac_auth(auth), headers, body, now)
    if source is V1WebhookSourceName.SVIX:
        return _svix(_hmac_auth(auth), headers, body, now)
    if isinstance(auth, V1WebhookBasicAuth):
        return _basic(auth, headers)
    if isinstance(auth, V1WebhookAPIKeyAuth):
        given = headers.get(auth.header_name.lower(), "")
        if not given:
            return Rejection(403, f"missing or invalid api key header: {auth.header_name}")
        if not _same(given, auth.api_key):
            return Rejection(403, f"invalid api key: {auth.header_name}")
        return None
    given = headers.get(auth.signature_header_name.lower(), "")
    if not given:
        return Rejection(403, f"missing or invalid signature header: {auth.signature_header_name}")
    expected = sign(body, auth.signing_secret, auth.algorithm, auth.encoding)
    if not _same(_unprefixed(given), _unprefixed(expected)):
        return Rejection(403, "invalid HMAC signature")
    return None


def _hmac_auth(auth: Any) -> V1WebhookHMACAuth:
    if not isinstance(auth, V1WebhookHMACAuth):  # create() refuses this; a stored relic
        raise ValueError("this sender's signature is checked with an HMAC signing secret")
    return auth


def _basic(auth: V1WebhookBasicAuth, headers: Mapping[str, str]) -> Rejection | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if scheme.lower() != "basic" or ":" not in decoded:
        return Rejection(403, "missing or invalid authorization header")
    username, _, password = decoded.partition(":")
    if not (_same(username, auth.username) & _same(password, auth.password)):
        return Rejection(403, "invalid basic auth credentials")
    return None


def _timestamp(raw: str) -> float | None:
    try:
        return float(int(raw.strip()))
    except ValueError:
        return None


def _stripe(
    auth: V1WebhookHMACAuth, headers: Mapping[str, str], body: bytes, now: float
) -> Rejection | None:
    """``t=<unix>,v1=<hex>``: the HMAC of ``<t>.<body>``."""
    header = auth.signature_header_name
    parts: dict[str, list[str]] = {}
    for item in headers.get(header.lower(), "").split(","):
        name, sep, value = item.partition("=")
        if sep:
            parts.setdefault(name.strip(), []).append(value.strip())
    stamp, signatures = (parts.get("t") or [""])[0], parts.get("v1") or []
    if not stamp or not signatures:
        return Rejection(400, f"missing or invalid signature header: {header}")
    when = _timestamp(stamp)
    if when is None:
        return Rejection(400, "invalid timestamp in signature header")
    if when < now - STRIPE_WINDOW:
        return Rejection(400, "timestamp in signature header is out of range")
    expected = sign(
        stamp.encode() + b"." + body, auth.signing_secret, auth.algorithm, auth.encoding
    )
    if not any(_same(_unprefixed(s), expected) for s in signatures):
        return Rejection(403, "invalid HMAC signature")
    return None


def _slack(
    auth: V1WebhookHMACAuth, headers: Mapping[str, str], body: bytes, now: float
) -> Rejection | None:
    """``X-Slack-Request-Timestamp`` and ``v0=<hmac of v0:<ts>:<body>>``."""
    stamp = headers.get("x-slack-request-timestamp", "")
    if not stamp:
        return Rejection(403, "missing or invalid timestamp header: X-Slack-Request-Timestamp")
    when = _timestamp(stamp)
    if when is None:
        return Rejection(403, "invalid timestamp in header")
    if when < now - SLACK_WINDOW:
        return Rejection(403, "timestamp in header is out of range")
    given = headers.get(auth.signature_header_name.lower(), "")
    if not given:
        return Rejection(403, f"missing or invalid signature header: {auth.signature_header_name}")
    base = f"v0:{int(when)}:".encode() + body
    expected = "v0=" + sign(base, auth.signing_secret, auth.algorithm, auth.encoding)
    if not _same(given.strip(), expected):
        return Rejection(403, "invalid HMAC signature")
    return None


def _svix(
    auth: V1WebhookHMACAuth, headers: Mapping[str, str], body: bytes, now: float
) -> Rejection | None:
    """Svix (``svix-*`` or ``webhook-*`` headers): base64 HMAC-SHA256 of ``id.ts.body``
    with the base64 key after ``whsec_``; the signature header lists ``v1,<sig>`` entries."""
    found = [
        headers.get(f"{p}-{n}", "")
        for p in ("svix", "webhook")
        for n in ("id", "signature", "timestamp")
    ]
    msg_id, signatures, stamp = found[:3] if all(found[:3]) else found[3:]
    if not (msg_id and signatures and stamp):
        return Rejection(400, "missing or invalid headers")
    when = _timestamp(stamp)
    if when is None or abs(now - when) > SVIX_WINDOW:
        return Rejection(400, "invalid timestamp header")
    try:
        key = base64.b64decode(auth.signing_secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        return Rejection(500, "the webhook's Svix signing secret is not base64")
    signed = f"{msg_id}.{int(when)}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and _same(value, expected):
            return None
    return Rejection(403, "invalid SVIX signature")


__all__ = ["Rejection", "check", "sign"]
