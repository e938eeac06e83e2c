"""An app for ``hatchet-celery worker tests.apps.ops_cli:hatchet`` in the CLI tests."""

from hatchet_celery import ClientConfig, Context, EmptyModel, Hatchet

hatchet = Hatchet(config=ClientConfig(namespace="ops_cli"))


@hatchet.task(name="ops_cli_hello")
def ops_cli_hello(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"hello": ctx.worker_id}
