"""The web dashboard: runs, their DAGs and tasks, flow control and metrics, live.

An optional extra (``pip install 'hatchet-celery[dashboard]'``: Starlette, uvicorn,
Jinja2). Nothing in the core package imports it; ``hatchet-celery dashboard`` does, when
it runs. Every page reads through a ``Hatchet`` instance's feature clients, so the
dashboard sees exactly what ``hatchet.runs`` and the CLI see.

::

    from hatchet_celery.dashboard import create_app
    app = create_app(hatchet, read_only=True)        # any ASGI server can serve it

Layout: ``server.py`` (routes, actions, live events), ``auth.py`` (the bind rule and the
credentials), ``source.py`` (runs), ``overview.py`` (workflows, workers, crons, events,
trigger), ``flow.py`` (flow control), ``metrics.py``, ``celery_events.py`` (plain Celery
tasks), ``dag.py`` and ``plots.py`` (SVG), ``prom.py`` (``/metrics``), ``templates/`` and
``static/``.
"""

from hatchet_celery.dashboard.auth import Access, DashboardConfigError, check_bind
from hatchet_celery.dashboard.server import create_app

__all__ = ["Access", "DashboardConfigError", "check_bind", "create_app"]
