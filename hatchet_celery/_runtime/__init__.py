"""The engine: everything that touches Celery or Redis at run time (private)."""
