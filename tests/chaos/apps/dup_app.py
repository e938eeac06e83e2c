"""The chaos workflows on a user's own Celery app whose Redis transport redelivers any
message left unacked for more than one second (``visibility_timeout=1``): every task that
runs longer is delivered again while it runs. ``Hatchet(app=...)`` leaves the app's
settings alone, which is how a misconfigured deployment would look."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

from hatchet_celery import ClientConfig, Hatchet
from tests.chaos.apps.workflows import Declared, declare, log_outcomes

VISIBILITY = 1


def build(url: str) -> tuple[Any, Hatchet, Declared]:
    app = Celery("chaos_dup", broker=url, set_as_current=False)
    app.conf.update(
        # kombu scans for messages past their visibility timeout every interval x throttle
        # seconds (100 s by default): every second here.
        broker_transport_options={
            "visibility_timeout": VISIBILITY,
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        },
        task_default_queue="chaos_dup",
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    hatchet = Hatchet(config=ClientConfig(namespace="chaos_dup", redis_url=url), app=app)
    return app, hatchet, declare(hatchet)


app, hatchet, declared = build(os.environ.get("HATCHET_CELERY_REDIS_URL", ""))
log_outcomes(hatchet)
