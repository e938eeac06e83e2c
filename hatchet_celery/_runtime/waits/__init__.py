"""Waits: conditions met later, durable tasks and events.

``store`` registers a wait and satisfies it (one Lua script each, so an event and a
registration that race always meet); ``durable`` runs durable tasks (suspend, resume,
replay from checkpoints), with ``eviction`` and ``restore``; ``events`` stores pushed
events and triggers the workflows subscribed to them.
"""
