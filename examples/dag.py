"""A DAG in Hatchet style: two roots, a join, and a task after the join.

Run a worker:   celery -A examples.dag worker --pool threads
        or:     hatchet-celery worker examples.dag:hatchet
Trigger it:     python -m examples.dag
"""

import random

from pydantic import BaseModel

from hatchet_celery import Context, EmptyModel, Hatchet

hatchet = Hatchet()


class StepOutput(BaseModel):
    random_number: int


class RandomSum(BaseModel):
    sum: int


dag_workflow = hatchet.workflow(name="DAGWorkflow")


@dag_workflow.task()
def step1(input: EmptyModel, ctx: Context) -> StepOutput:
    return StepOutput(random_number=random.randint(1, 100))


@dag_workflow.task()
async def step2(input: EmptyModel, ctx: Context) -> StepOutput:
    return StepOutput(random_number=random.randint(1, 100))


@dag_workflow.task(parents=[step1, step2])
async def step3(input: EmptyModel, ctx: Context) -> RandomSum:
    one = ctx.task_output(step1).random_number
    two = ctx.task_output(step2).random_number
    return RandomSum(sum=one + two)


@dag_workflow.task(parents=[step1, step3])
def step4(input: EmptyModel, ctx: Context) -> dict[str, str]:
    return {"step4": f"step1 gave {ctx.task_output(step1).random_number}"}


# ``celery -A examples.dag worker`` finds this Celery app.
celery_app = hatchet.celery_app


def main() -> None:
    result = dag_workflow.run()
    print(result)


if __name__ == "__main__":
    main()
