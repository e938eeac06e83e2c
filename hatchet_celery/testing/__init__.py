"""A testing kit for hatchet_celery and its users: a real redis-server, real workers."""

from .clock import use_clock
from .redis_server import RedisServer
from .waiting import WaitTimeout, wait_for_task_status
from .workers import WorkerProcess, in_process_worker

__all__ = [
    "RedisServer",
    "WaitTimeout",
    "WorkerProcess",
    "in_process_worker",
    "use_clock",
    "wait_for_task_status",
]
