"""The Redis key layout: the only module that formats a key name.

Everything lives under ``<prefix>:<namespace>`` so the package can share a Redis with an
existing deployment, and two namespaces on one Redis never see each other's state.

Layout (``P`` = ``<prefix>:<namespace>``):

===================================  ======  ==============================================
key                                  type    holds
===================================  ======  ==============================================
``P:run:<run_id>``                   hash    one workflow run: run fields and, per task,
                                             ``<f>:<task>`` fields (status, attempt, claim,
                                             ids, times, output, error, fan-in counter)
``P:runs``                           zset    run ids by creation time (listing, retention)
``P:timers``                         zset    JSON timer entries by due time (one mechanism
                                             for retries, redispatch, sleeps, schedules)
``P:leases``                         zset    ``run|task|claim`` of running tasks by expiry
``P:done``                           channel run ids published when a run finishes
``P:logs:<task_run_id>``             list    ``ctx.log`` lines
``P:workflows``                      hash    workflow name -> shape JSON (registered by
                                             workers, read by processes without the code)
``P:workers``                        hash    worker id -> worker JSON (heartbeats)
===================================  ======  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str
    namespace: str

    @property
    def base(self) -> str:
        ns = self.namespace.rstrip("_") or "default"
        return f"{self.prefix}:{ns}"

    def run(self, run_id: str) -> str:
        return f"{self.base}:run:{run_id}"

    @property
    def runs(self) -> str:
        return f"{self.base}:runs"

    @property
    def timers(self) -> str:
        return f"{self.base}:timers"

    @property
    def leases(self) -> str:
        return f"{self.base}:leases"

    @property
    def done_channel(self) -> str:
        return f"{self.base}:done"

    def logs(self, task_run_id: str) -> str:
        return f"{self.base}:logs:{task_run_id}"

    @property
    def workflows(self) -> str:
        return f"{self.base}:workflows"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def run_prefix(self) -> str:
        """Prefix handed to Lua scripts that must address runs named inside a message."""
        return f"{self.base}:run:"
