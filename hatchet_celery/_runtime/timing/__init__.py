"""Time: the timer pump and its table of kinds (every delay), task-run timers (retry
dispatch, watchdog), crons fired by celery beat, scheduled runs, and schedule deadlines
enforced by any process (waiter, pump or beat)."""
