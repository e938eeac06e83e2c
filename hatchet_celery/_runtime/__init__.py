"""The engine: everything that touches Celery or Redis at run time (private).

Layers, each importing only those before it:

- ``core``: the engine, transitions, run creation, the listing indexes, transport
  differences, watchdog, waiter;
- ``ops``: cancel, replay, streams;
- ``waits``: waits, durable tasks, events;
- ``flow``: the gates (conditions, pause, concurrency, rate limits, batches, affinity);
- ``timing``: crons, scheduled runs, schedule deadlines;
- ``worker``: the Celery app, bootsteps, executor and background services;
- ``wiring``: the composition root (every gate and listener, in order) and ``registry``
  (one per configuration: declarations, the app, the engine built with the wiring).
"""
