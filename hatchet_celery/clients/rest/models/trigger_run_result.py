"""What triggering a cron by hand returns."""

from hatchet_celery.clients.rest.models._base import RestModel


class TriggerRunResult(RestModel):
    """The id of the run just created (``externalId`` on the wire)."""

    external_id: str
