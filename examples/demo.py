"""``make demo``: the embedded redis-server, a worker, the DAG example, its result.

Starts what is not running yet (the embedded redis-server in ``.hatchet_celery/`` unless
``HATCHET_CELERY_REDIS_URL`` is set, and one worker process), runs ``examples/dag.py``'s
workflow, prints the result, and stops what it started.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    from hatchet_celery._embedded import EmbeddedRedis
    from hatchet_celery._settings import Config
    from hatchet_celery.testing import WorkerProcess

    config = Config.from_env()
    embedded = None
    if not config.redis_url:
        embedded = EmbeddedRedis(config.data_dir)
        started_redis = not embedded.is_running()
        embedded.ensure_running()
    else:
        started_redis = False
    print("demo: starting a worker (hatchet.worker('demo-worker').start() in a subprocess)")
    worker = WorkerProcess("examples.dag:hatchet", name="demo-worker", slots=4, cwd=os.getcwd())
    try:
        worker.start(timeout=60)
        from examples.dag import dag_workflow

        started = time.time()
        result = dag_workflow.run()
        elapsed = time.time() - started
        print(f"demo: DAGWorkflow finished in {elapsed * 1000:.0f} ms with result:")
        print(json.dumps(result, indent=2))
        ok = result["step3"]["sum"] == (
            result["step1"]["random_number"] + result["step2"]["random_number"]
        )
        return 0 if ok else 1
    finally:
        worker.stop()
        print("demo: worker stopped")
        if embedded is not None and started_redis:
            embedded.stop()
            print("demo: embedded redis-server stopped")


if __name__ == "__main__":
    sys.exit(main())
