"""Benchmarks: plain Celery and hatchet_celery side by side (``python -m benchmarks.run``)."""
