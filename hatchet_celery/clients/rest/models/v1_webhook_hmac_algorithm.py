"""Hash function of a webhook's HMAC signature."""

from enum import Enum


class V1WebhookHMACAlgorithm(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """The digest the sender signs the raw request body with."""

    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"
    MD5 = "MD5"
