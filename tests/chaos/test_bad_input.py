"""Case 6: hostile and malformed input gets a clear error, kills no worker and is never
executed as code.

- trigger inputs and event payloads: any JSON (and some non-JSON) value, generated;
- CEL and cron expressions: generated text and hand-picked attacks;
- raw Celery messages straight onto a worker's queue: malformed JSON, wrong argument
  types and counts, an unknown task, an 8 MB body, pickle and YAML content types whose
  payload would create a file if it were ever deserialised.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import time
import uuid
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hatchet_celery._cel import CelEvaluationError, compile_cel
from hatchet_celery._cron import next_tick, parse_cron
from hatchet_celery.exceptions import DeclarationError, HatchetCeleryError
from tests.chaos.apps.workflows import Step
from tests.chaos.conftest import client_for, scale, timeout
from tests.chaos.invariants import FINAL, statuses, wait_final
from tests.chaos.load import record_figures

EXAMPLES = scale(60, 600)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# inputs shaped like the model, with each field sometimes of the wrong type
step_like = (
    st.fixed_dictionaries(
        {},
        optional={
            "ms": st.integers(-10, 10**12) | json_values,
            "fail_first": st.booleans() | json_values,
            "key": st.text() | json_values,
        },
    )
    | json_values
)


def _count(redis: Any, key: str) -> int:
    return int(redis.zcard(key))


# --- trigger inputs ---------------------------------------------------------------------------
@timeout(120, 600)
def test_trigger_inputs_are_validated_before_anything_is_created(chaos_redis) -> None:
    hatchet, wf = client_for(chaos_redis.url, namespace="chaos_fuzz")
    keys = hatchet._registry.engine().keys
    redis = chaos_redis.client(decode_responses=True)
    seen = {"accepted": 0, "refused": 0}

    @FUZZ
    @given(value=step_like)
    def check(value: Any) -> None:
        before = _count(redis, keys.runs)
        # Hatchet's rules: None means the defaults, a string is JSON text of the input
        try:
            raw = {} if value is None else json.loads(value) if isinstance(value, str) else value
            Step.model_validate(raw)
        except ValueError:  # pydantic.ValidationError and json.JSONDecodeError
            valid = False
        else:
            valid = True
        if valid:
            ref = wf.dag.run_no_wait(value)
            assert redis.hget(keys.run(ref.workflow_run_id), "wf") == wf.dag.name
            assert _count(redis, keys.runs) == before + 1
            seen["accepted"] += 1
        else:
            with pytest.raises(ValueError) as err:
                wf.dag.run_no_wait(value)
            if isinstance(err.value, pydantic.ValidationError):
                assert "Step" in str(err.value)  # names the model and the field
            assert _count(redis, keys.runs) == before  # nothing was created
            seen["refused"] += 1

    check()
    assert seen["refused"] > 0 and seen["accepted"] > 0
    record_figures("fuzz_trigger_inputs", examples=sum(seen.values()), **seen)


# --- CEL ------------------------------------------------------------------------------------
ATTACKS = [
    '__import__("os").system("touch {marker}")',
    "input.__class__.__mro__[1].__subclasses__()",
    'open("{marker}", "w")',
    'exec("import os; os.system(\\"touch {marker}\\")")',
    'input["__class__"]',
    "(" * 5000 + "1" + ")" * 5000,
    "1" + " + 1" * 20000,
    '"' + "a" * 1_000_000 + '"',
    'input.key.matches("(a+)+$")',
]


@timeout(120, 600)
def test_cel_expressions_fail_clearly_and_never_run_python(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    outcomes = {"compiled": 0, "refused": 0}
    for attack in ATTACKS:
        started = time.time()
        try:
            program = compile_cel(attack.format(marker=marker), what="attack", variables=("input",))
        except DeclarationError as exc:  # CelCompileError names the expression
            assert "CEL" in str(exc) or "expression" in str(exc)
            outcomes["refused"] += 1
        else:
            outcomes["compiled"] += 1
            with contextlib.suppress(CelEvaluationError):
                program.evaluate({"input": {"key": "a" * 30 + "!"}})
        assert time.time() - started < 10, attack[:60]
    assert not marker.exists(), "a CEL expression ran Python"

    @FUZZ
    @given(text=st.text(max_size=80))
    def check(text: str) -> None:
        try:
            program = compile_cel(text, what="fuzz", variables=("input", "additional_metadata"))
        except DeclarationError:
            return
        with contextlib.suppress(CelEvaluationError):
            program.evaluate({"input": {"key": "k"}, "additional_metadata": {}})

    check()
    record_figures("fuzz_cel", attacks=len(ATTACKS), examples=EXAMPLES, **outcomes)


# --- cron -----------------------------------------------------------------------------------
cron_field = st.one_of(
    st.sampled_from(["*", "*/0", "*/1", "0", "59", "60", "-1", "1-0", "L", "W", "?", "#", ""]),
    st.integers(-5, 100).map(str),
    st.text(alphabet="0123456789*/-,LW#?", max_size=6),
)


def _in_range(low: int, high: int) -> st.SearchStrategy[str]:
    n = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        n.map(str),
        st.integers(1, high).map(lambda k: f"*/{k}"),
        st.tuples(n, n).map(lambda ab: f"{min(ab)}-{max(ab)}"),
    )


# well-formed 5-field expressions (many valid, some never firing: 31 February...)
cron_fields = st.tuples(
    _in_range(0, 59), _in_range(0, 23), _in_range(1, 31), _in_range(1, 12), _in_range(0, 6)
).map(" ".join)
cron_text = st.one_of(
    cron_fields,
    st.lists(cron_field, min_size=0, max_size=7).map(" ".join),
    st.text(max_size=40),
    st.sampled_from(["@yearly", "@reboot", "@every 5s", "0 0 30 2 *", "0 0 31 4 *"]),
)


@timeout(120, 600)
def test_cron_expressions_fail_clearly_and_never_hang() -> None:
    from datetime import UTC, datetime

    outcomes = {"valid": 0, "refused": 0}

    @FUZZ
    @given(text=cron_text)
    def check(text: str) -> None:
        started = time.time()
        try:
            spec = parse_cron(text)
        except DeclarationError as exc:
            assert repr(text) in str(exc) or "cron" in str(exc)
            outcomes["refused"] += 1
        else:
            next_tick(spec, datetime(2030, 1, 1, tzinfo=UTC))
            outcomes["valid"] += 1
        assert time.time() - started < 5, text

    check()
    for never in ("0 0 30 2 *", "0 0 31 4 *"):  # 30 February, 31 April: never fire
        with pytest.raises(DeclarationError, match="never fires"):
            parse_cron(never)
    record_figures("fuzz_cron", examples=EXAMPLES, **outcomes)


# --- event payloads and raw messages, against a worker ----------------------------------------
def _publish_raw(app: Any, queue: str, task: str, body: bytes, content_type: str) -> None:
    headers = {"lang": "py", "task": task, "id": str(uuid.uuid4()), "retries": 0}
    headers["root_id"] = headers["id"]
    with app.connection_for_write() as conn:
        conn.Producer().publish(
            body,
            exchange="",
            routing_key=queue,
            headers=headers,
            content_type=content_type,
            content_encoding="utf-8",
            retry=True,
        )


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> Any:
        import os

        return (os.system, (f"touch {self.marker}",))


@timeout(120, 300)
def test_hostile_messages_and_payloads_leave_the_worker_standing(
    chaos_redis, cluster_factory, tmp_path: Path
) -> None:
    hatchet, wf = client_for(chaos_redis.url)
    keys = hatchet._registry.engine().keys
    app = hatchet.celery_app
    queue = app.conf.task_default_queue
    redis = chaos_redis.client(decode_responses=True)
    cluster = cluster_factory(chaos_redis.url, size=1, slots=8)
    worker = cluster.workers[0]
    task_a = f"hatchet.{wf.dag.name}.a"
    marker = tmp_path / "pwned"
    json_body = lambda args, kwargs=None: json.dumps(  # noqa: E731
        [args, kwargs or {}, {"callbacks": None, "errbacks": None, "chain": None}]
    ).encode()
    messages = [
        (task_a, b"{not json", "application/json"),
        (task_a, b"\xff\xfe\x00", "application/json"),
        (task_a, json_body([]), "application/json"),  # too few arguments
        (task_a, json_body(["r", "a", 0, "extra"]), "application/json"),  # too many
        (task_a, json_body([123, None, {"$ne": 1}]), "application/json"),  # wrong types
        (task_a, json_body([{"run": 1}, ["a"], "0"]), "application/json"),
        (task_a, json_body(["r", "a", 0], {"evil": "__import__('os')"}), "application/json"),
        ("hatchet.nobody.nothing", json_body(["r", "a", 0]), "application/json"),
        (task_a, json_body(["x" * 8_000_000, "a", 0]), "application/json"),  # 8 MB
        (task_a, pickle.dumps(_Evil(marker)), "application/x-python-serialize"),
        (
            task_a,
            f"!!python/object/apply:os.system ['touch {marker}']".encode(),
            "application/x-yaml",
        ),
    ]
    for name, body, content_type in messages:
        _publish_raw(app, queue, name, body, content_type)
    # event payloads: anything JSON, including ones that do not fit the workflow's input
    payloads = [
        {},
        {"ms": "not a number"},
        {"ms": 10**30},
        {"key": "\u0000\ud7ff" * 100},
        {"nested": [[[[[]]]]] * 50},
        {"ms": 1, "key": "x" * 100_000},
    ]
    for payload in payloads:
        hatchet.event.push("chaos:event", payload)
    with pytest.raises((TypeError, ValueError, HatchetCeleryError)):
        hatchet.event.push("chaos:event", {"f": object()})  # not JSON: refused at the push
    # the worker goes on serving
    ok = wf.dag.run_no_wait(Step(ms=1))
    event_runs = list(redis.zrange(keys.index("wf", wf.event.name), 0, -1))
    assert len(event_runs) == len(payloads)
    final = wait_final(redis, keys, [ok.workflow_run_id, *event_runs], timeout=60)
    assert final[ok.workflow_run_id] == "COMPLETED"
    assert all(st in FINAL for st in statuses(redis, keys, event_runs).values()), final
    log = worker.log_tail(100000)
    assert worker.proc is not None and worker.proc.poll() is None, log[-3000:]
    assert not marker.exists(), "a message payload was executed"
    failed = [r for r, st in statuses(redis, keys, event_runs).items() if st == "FAILED"]
    assert failed, "the payload {'ms': 'not a number'} should fail its run"
    for run_id in failed:
        assert "does not fit Step" in str(redis.hget(keys.run(run_id), "e:on_event"))
    refusals = {
        "malformed JSON": "Can't decode message body",
        "wrong arguments": "malformed message for",
        "missing arguments": "missing 3 required positional arguments",
        "pickle": "untrusted content of type pickle",
        "yaml": "untrusted content of type yaml",
        # a Hatchet message for a task this worker does not serve is handed back, not dropped
        "unknown task": "does not serve task hatchet.nobody.nothing",
    }
    for what, text in refusals.items():
        assert text in log, f"no clear error for the {what} message:\n{log[-3000:]}"
    record_figures(
        "hostile_messages",
        messages=len(messages),
        event_payloads=len(payloads),
        worker_alive=True,
        executed=marker.exists(),
    )
