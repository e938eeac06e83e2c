"""Which system sends a webhook (it decides how the request is authenticated)."""

from enum import Enum


class V1WebhookSourceName(str, Enum):  # noqa: UP042 - str() as in Hatchet
    """The sender of a webhook: ``GENERIC``, ``GITHUB`` and ``LINEAR`` use the webhook's own
    auth; ``STRIPE``, ``SLACK`` and ``SVIX`` check their provider's signature scheme."""

    GENERIC = "GENERIC"
    GITHUB = "GITHUB"
    STRIPE = "STRIPE"
    SLACK = "SLACK"
    LINEAR = "LINEAR"
    SVIX = "SVIX"
