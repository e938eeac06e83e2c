"""Workflows the tests run, declared at import (as a user module would)."""

from hatchet_celery import ClientConfig, Hatchet

# A namespace (and so a queue) of its own, apart from examples/ on the default namespace.
hatchet = Hatchet(config=ClientConfig(namespace="tests"))

