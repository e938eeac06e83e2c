"""``hatchet.worker(...).start()`` on the user's app: the third way to run a worker."""

from proj.tasks import hatchet

if __name__ == "__main__":
    hatchet.worker("matrix-worker", slots=4).start()
