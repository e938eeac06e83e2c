"""A workflow for scheduled runs served by a subprocess worker that tests restart."""

import time

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="sched_worker"))


class Note(BaseModel):
    text: str


delayed = hatchet.workflow(name="SchedWorkerDelayed", input_validator=Note)


@delayed.task()
def stamp(input: Note, ctx: Context) -> dict[str, object]:
    return {"text": input.text, "ran_at": time.time()}
