"""What ``runs.reset_durable_task`` returns: the branch the task run continues on."""

from hatchet_celery.clients.rest.models._base import RestModel


class V1BranchDurableTaskResponse(RestModel):
    """The durable task run, the node it was reset to and its new branch."""

    task_external_id: str
    node_id: int
    branch_id: int
