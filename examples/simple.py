"""The smallest Hatchet program: one standalone task.

Run a worker:   celery -A examples.simple worker --pool threads
        or:     hatchet-celery worker examples.simple:hatchet
Trigger it:     python -m examples.simple
"""

from hatchet_celery import Context, EmptyModel, Hatchet

hatchet = Hatchet()


@hatchet.task()
def simple(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"result": "Hello, world!"}


@hatchet.durable_task()
async def simple_durable(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"result": "Hello, world!"}


# ``celery -A examples.simple worker`` finds this Celery app.
celery_app = hatchet.celery_app


def main() -> None:
    print(simple.run())


if __name__ == "__main__":
    main()
