"""Workflows the tests run, declared at import (as a user module would)."""

from hatchet_celery import Hatchet

hatchet = Hatchet()

