"""Feature clients of ``Hatchet`` (``hatchet.runs``, ``hatchet.logs``, ...)."""
