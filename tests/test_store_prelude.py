"""Each Lua script is loaded with the ``_lib.lua`` helpers it uses, not the whole file."""

from __future__ import annotations

import re
from typing import Any

from hatchet_celery._store import _read_lua, prelude, script_names

DEFINED = re.compile(r"^local (?:function )?(\w+)", re.MULTILINE)


def _helpers(name: str) -> set[str]:
    return set(DEFINED.findall(prelude(_read_lua("_lib"), _read_lua(name))))


def test_a_script_gets_the_helpers_it_calls_and_theirs() -> None:
    # claim.lua calls watchdog_member and index_status; index_status needs status_score,
    # which needs STATUS_RANK. Nothing of the concurrency gates comes along.
    assert _helpers("claim") == {"watchdog_member", "index_status", "status_score", "STATUS_RANK"}


def test_every_script_compiles_with_its_prelude(redis_client: Any) -> None:
    lib = _read_lua("_lib")
    for name in script_names():
        body = _read_lua(name)
        redis_client.script_load(prelude(lib, body) + "\n" + body)  # raises on a syntax error
