"""Flow control: the gates a ready task run passes before its message is published.

Conditions (``wait_for`` / ``skip_if`` / ``cancel_if``), workflow pause, concurrency
slots, rate-limit tokens, batch buffers and worker affinity; each gate parks what it
holds in a status of its own and publishes it later. Their order is written in
``_runtime/wiring.py``.
"""
