"""Time: crons fired by celery beat, scheduled runs, and schedule deadlines enforced by any
process (waiter, pump or beat)."""
