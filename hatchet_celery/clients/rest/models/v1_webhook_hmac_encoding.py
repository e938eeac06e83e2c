"""Text encoding of a webhook's HMAC signature."""

from enum import Enum


class V1WebhookHMACEncoding(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """How the signature digest is written in its header."""

    HEX = "HEX"
    BASE64 = "BASE64"
    BASE64URL = "BASE64URL"
