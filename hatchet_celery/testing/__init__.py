"""Helpers for testing code that uses hatchet_celery: a real redis-server to run against."""

from .redis_server import RedisServer

__all__ = ["RedisServer"]
