"""The core of the runtime: what every transition of a task run goes through.

The engine (store, extensions, dispatch through the gates, publishing), the outcomes
(``transitions``: one Lua script each, fenced by the claim token), run creation
(``client``), the watchdog of executing attempts and the waiter of results. Nothing here
imports a gate, a wait, a timer kind or the worker: they are built on top, and reach the
core's listeners through ``hooks.Extensions``.
"""
