"""The worker process on Celery: the app and its bootsteps, the consumer guard, the body of
every Hatchet Celery task (``executor``), what a running task's context may ask
(``task_runtime``), and the worker's background services."""
