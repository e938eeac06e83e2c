"""REST API classes at the paths of ``hatchet_sdk.clients.rest.api``."""
