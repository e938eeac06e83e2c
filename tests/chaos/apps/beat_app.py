"""A per-second declared cron for real ``celery beat`` processes of the chaos suite
(``celery -A tests.chaos.apps.beat_app beat``), on the Redis named by the environment."""

from __future__ import annotations

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="chaos_beat"))
every_second = hatchet.workflow(name="ChaosEverySecond", on_crons=["* * * * * *"])


@every_second.task()
def tick(input: EmptyModel, ctx: Context) -> None:
    return None


app = hatchet.celery_app
