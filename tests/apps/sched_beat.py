"""A Celery app with a per-second declared cron, for real ``celery beat`` processes.

``celery -A tests.apps.sched_beat beat [-S hatchet_celery.beat:Scheduler]``: the beat
imports this module (as it would a user's project), registers the declared cron and
fires it. A namespace of its own keeps its crons and runs apart from other tests.
"""

from pydantic import BaseModel

from hatchet_celery import ClientConfig, Context, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="sched_beat"))


class Tick(BaseModel):
    label: str = "unset"


every_second = hatchet.workflow(
    name="SchedBeatEverySecond",
    input_validator=Tick,
    on_crons=["* * * * * *"],
    cron_input=Tick(label="declared"),
)


@every_second.task()
def record(input: Tick, ctx: Context) -> dict[str, str]:
    return {"label": input.label}


app = hatchet.celery_app
