"""A worker as listed by ``hatchet.workers``."""

from datetime import datetime

from hatchet_celery.clients.rest.models.api_resource_meta import Resource
from hatchet_celery.clients.rest.models.worker_label import WorkerLabel
from hatchet_celery.clients.rest.models.worker_slot_config import WorkerSlotConfig
from hatchet_celery.clients.rest.models.worker_status import WorkerStatus
from hatchet_celery.clients.rest.models.worker_type import WorkerType


class Worker(Resource):
    """A worker (``metadata.id`` is the worker id); ``slot_config`` is keyed by slot type."""

    name: str
    type: WorkerType = WorkerType.SELFHOSTED
    last_heartbeat_at: datetime | None = None
    last_listener_established: datetime | None = None
    actions: list[str] | None = None
    status: WorkerStatus | None = None
    slot_config: dict[str, WorkerSlotConfig] | None = None
    dispatcher_id: str | None = None
    labels: list[WorkerLabel] | None = None
    webhook_url: str | None = None
    webhook_id: str | None = None
    operator_id: str | None = None
    evicted_durable_task_count: int | None = None
