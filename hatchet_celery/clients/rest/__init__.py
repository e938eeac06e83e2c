"""REST-shaped models, importable from the same paths as in ``hatchet_sdk.clients.rest``."""
