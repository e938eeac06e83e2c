"""Worker target of the chaos suite: every workflow of ``workflows.py`` on a ``Hatchet``
built from the environment, and the outcome log (so a test counts outcomes per task run)."""

from __future__ import annotations

import os

from hatchet_celery import ClientConfig, Hatchet
from tests.chaos.apps.workflows import declare, log_outcomes

hatchet = Hatchet(config=ClientConfig(namespace=os.environ.get("CHAOS_NAMESPACE", "chaos")))
declared = declare(hatchet)
log_outcomes(hatchet)
