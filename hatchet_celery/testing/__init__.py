"""A testing kit for hatchet_celery and its users: a real redis-server, real workers."""

from .redis_server import RedisServer
from .workers import WorkerProcess, in_process_worker

__all__ = ["RedisServer", "WorkerProcess", "in_process_worker"]
