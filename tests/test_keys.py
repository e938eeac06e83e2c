"""The Redis key layout is a protocol shared with the Lua scripts and with data already
in Redis: every key name ``Keys`` builds is pinned here, byte for byte (one sample each)."""

from __future__ import annotations

from typing import Any

from hatchet_celery._keys import Keys

# name -> (arguments, the key built from them under prefix "hc" and namespace "team_")
EXPECTED: dict[str, tuple[tuple[str, ...], str]] = {
    "base": ((), "hc:team"),
    "run": (("R",), "hc:team:run:R"),
    "runs": ((), "hc:team:runs"),
    "timers": ((), "hc:team:timers"),
    "leases": ((), "hc:team:leases"),
    "done_channel": ((), "hc:team:done"),
    "logs": (("T",), "hc:team:logs:T"),
    "workflows": ((), "hc:team:workflows"),
    "workers": ((), "hc:team:workers"),
    "run_prefix": ((), "hc:team:run:"),
    "crons": ((), "hc:team:crons"),
    "cron_names": ((), "hc:team:crons:names"),
    "crons_declared": ((), "hc:team:crons:declared"),
    "crons_version": ((), "hc:team:crons:version"),
    "cron_fired": ((), "hc:team:crons:fired"),
    "cron_recent": (("C",), "hc:team:crons:recent:C"),
    "scheduled": (("S",), "hc:team:sched:S"),
    "scheduled_index": ((), "hc:team:scheds"),
    "status_index": ((), "hc:team:ix:status"),
    "index": (("wf", "V"), "hc:team:ix:wf:V"),
    "index_registry": ((), "hc:team:ix:keys"),
    "task_runs": ((), "hc:team:truns"),
    "stream": (("R",), "hc:team:stream:R"),
    "stream_channel": (("R",), "hc:team:stream:R:new"),
    "event_data": ((), "hc:team:ev:data"),
    "events": ((), "hc:team:ev:all"),
    "events_by_key": (("K",), "hc:team:ev:key:K"),
    "event_waiters": (("K",), "hc:team:ev:wait:K"),
    "event_subscriptions": ((), "hc:team:ev:subs"),
    "event_filters": ((), "hc:team:ev:filters"),
    "webhooks": ((), "hc:team:webhooks"),
    "conc_state": (("G",), "hc:team:conc:G"),
    "conc_queue": (("G",), "hc:team:conc:G:q"),
    "conc_held": (("G",), "hc:team:conc:G:h"),
    "rate_limit": (("K",), "hc:team:rl:K"),
    "rate_limits": ((), "hc:team:rl:keys"),
    "idempotency": (("K",), "hc:team:idem:K"),
    "paused": ((), "hc:team:paused"),
    "paused_tasks": (("W",), "hc:team:paused:W"),
    "batch_buffer": (("W", "T", "G"), "hc:team:bq:W:T:G"),
    "batch_buffer_bytes": (("W", "T", "G"), "hc:team:bqb:W:T:G"),
    "batch_running": (("W", "T", "G"), "hc:team:bqr:W:T:G"),
    "batch": (("B",), "hc:team:batch:B"),
}


def _built(keys: Keys, name: str, args: tuple[str, ...]) -> Any:
    member = getattr(keys, name)
    return member(*args) if args else member


def test_every_key_name_is_pinned() -> None:
    keys = Keys("hc", "team_")
    built = {name: _built(keys, name, args) for name, (args, _) in EXPECTED.items()}
    assert built == {name: key for name, (_, key) in EXPECTED.items()}
    public = {name for name in dir(Keys) if not name.startswith("_")}
    assert public - {"prefix", "namespace"} == set(EXPECTED), "a new key needs a sample here"


def test_an_empty_namespace_is_default() -> None:
    assert Keys("hc", "").run("R") == "hc:default:run:R"
    assert Keys("hc", "___").timers == "hc:default:timers"
