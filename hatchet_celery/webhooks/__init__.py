"""Incoming webhooks: HTTP requests from other systems turned into events.

A webhook is declared with ``hatchet.webhooks.create`` (``features/webhooks.py``); its
requests arrive at ``POST {server_url}/api/v1/stable/tenants/{tenant_id}/webhooks/{name}``.
The receiver checks the request's auth, reads the body, evaluates the webhook's CEL
expressions over ``input`` (the body) and ``headers``, and pushes the event through the same
path as ``hatchet.event.push``, so ``on_events`` workflows, filters and scopes apply.

Layout: ``definition.py`` (a stored webhook and its checks), ``signatures.py`` (auth
checks, pure), ``ingest.py`` (a request to an event, HTTP-framework free), ``receiver.py``
(the Starlette routes and ASGI app: the ``webhooks`` extra), ``local.py`` (a receiver
started on demand for a loopback ``server_url``).

Nothing here imports Starlette at package import, so the core works without the extra.
"""
