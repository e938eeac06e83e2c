"""How an incoming webhook proves where it comes from."""

from enum import Enum


class V1WebhookAuthType(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """The auth of a webhook: basic auth, an API key header or an HMAC signature header."""

    BASIC = "BASIC"
    API_KEY = "API_KEY"
    HMAC = "HMAC"
