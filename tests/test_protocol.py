"""The Redis protocol written once: statuses shared by Python and Lua, and the key table of
``_keys.py`` naming exactly the keys its methods build."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from hatchet_celery import _keys
from hatchet_celery._keys import Keys
from hatchet_celery._protocol import FINAL_TASK, TERMINAL, RunStatus, TaskStatus
from hatchet_celery._runtime.core.run_index import STATUS_RANK

LUA = Path(_keys.__file__).parent / "lua"
# Uppercase words the scripts use that are not statuses: gate decisions, concurrency
# strategies, idempotency and cron methods, Redis arguments and a sentinel.
OTHER_WORDS = {
    "QUEUE",
    "SKIP",
    "CANCEL",
    "CREATE",
    "CANCEL_IN_PROGRESS",
    "CANCEL_NEWEST",
    "CANCEL_QUEUED_EXCEPT_NEWEST",
    "CANCEL_QUEUED_EXCEPT_OLDEST",
    "TTL",
    "API",  # a cron's method (made through hatchet.cron), beside DEFAULT (declared)
    "STATUS",
    "LIMIT",
    "WITHSCORES",
    "MISSING",
}


def lua_words() -> dict[str, set[str]]:
    """Uppercase string literals of every script, but the Redis commands it calls (directly
    or through ``_lib.lua``'s ``call_in_chunks``)."""
    found: dict[str, set[str]] = {}
    for path in sorted(LUA.glob("*.lua")):
        text = re.sub(r"(?:redis\.p?call|call_in_chunks)\(\s*'[A-Z]+'", "", path.read_text())
        for word in re.findall(r"'([A-Z][A-Z_]{2,})'", text):
            found.setdefault(word, set()).add(path.name)
    return found


def test_every_status_a_script_writes_or_compares_is_a_protocol_status() -> None:
    statuses = {s.value for s in TaskStatus} | {s.value for s in RunStatus}
    unknown = {w: files for w, files in lua_words().items() if w not in statuses | OTHER_WORDS}
    assert unknown == {}, f"add them to hatchet_celery/_protocol.py (or OTHER_WORDS): {unknown}"
    used = set(lua_words())
    # the scripts do write the statuses the enums declare (the enums are not a wish list)
    assert {"QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "BLOCKED"} <= used


def test_the_final_sets_of_lua_and_python_are_one() -> None:
    lib = (LUA / "_lib.lua").read_text()
    final = re.search(r"local FINAL_TASK = \{(.*?)\}", lib, re.S)
    assert final is not None
    assert set(re.findall(r"([A-Z_]+) = true", final.group(1))) == set(FINAL_TASK)
    rank = re.search(r"local STATUS_RANK = \{(.*?)\}", lib, re.S)
    assert rank is not None
    ranks = {name: int(n) for name, n in re.findall(r"([A-Z_]+) = (\d+)", rank.group(1))}
    assert set(ranks) == {s.value for s in RunStatus}
    assert ranks == STATUS_RANK  # the status index's bands, scored in Lua and read in Python
    assert {"COMPLETED", "FAILED", "CANCELLED"} == set(TERMINAL) < set(FINAL_TASK)


def test_statuses_compare_and_print_as_the_strings_redis_holds() -> None:
    assert TaskStatus.WAIT_RATE_LIMIT == "WAIT_RATE_LIMIT"
    assert str(RunStatus.CANCELLED) == "CANCELLED"
    assert "QUEUED" in {TaskStatus.QUEUED}


def built_keys() -> set[str]:
    """Every key ``Keys`` builds, with its parameters as ``<name>`` placeholders."""
    keys = Keys("PFX", "ns")
    out: set[str] = set()
    for name, member in inspect.getmembers(Keys):
        if name.startswith("_") or name in {"base", "run_prefix"}:
            continue
        built = getattr(keys, name)
        if isinstance(built, str):
            value = built
        elif callable(built) and hasattr(member, "fields"):  # a key with parameters
            value = built(*[f"<{p}>" for p in member.fields])
        else:
            continue
        out.add(value.replace(keys.base, "P", 1))
    return out


def documented_keys() -> set[str]:
    doc = _keys.__doc__ or ""
    return set(re.findall(r"^``(P:[^`]*)``", doc, re.M))


def test_the_key_table_names_exactly_the_keys_the_methods_build() -> None:
    assert documented_keys() == built_keys()
