"""CEL: one table of cases, run on the fast path and on celpy, which must agree exactly.

celpy is the reference. Each case also states which path is expected to serve it, so a
fast path that silently deferred everything (and so trivially agreed) would fail here.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hatchet_celery import _cel
from hatchet_celery._cel import (
    CelEvaluationError,
    CelProgram,
    cel_bool,
    cel_int,
    cel_key,
    compile_cel,
)
from hatchet_celery.exceptions import CelCompileError, DeclarationError, HatchetCeleryError

FAST = "fast"  # answered without celpy
DEFER = "defer"  # has a fast plan, but these values make it hand over to celpy
CELPY = "celpy"  # no fast plan: always celpy


@dataclass(frozen=True)
class Error:
    """An expected evaluation error; ``fragment`` must appear in the message."""

    fragment: str


@dataclass(frozen=True)
class Case:
    expression: str
    variables: dict[str, Any]
    expected: Any
    path: str
    note: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        return f"{self.expression} | {self.note or self.variables}"


NAN = float("nan")

CASES = [
    # Literals (constant expressions are folded once at compile time).
    Case("'constant'", {}, "constant", FAST, "concurrency from_int default"),
    Case('"x"', {}, "x", FAST),
    Case("42", {}, 42, FAST),
    Case("-7", {}, -7, FAST),
    Case("true", {}, True, FAST),
    Case("false", {}, False, FAST),
    Case("1.5", {}, 1.5, FAST),
    Case("null", {}, None, FAST),
    Case("'a' + 'b'", {}, "ab", FAST, "folded"),
    Case("-0.0 == 0.0", {}, True, FAST, "folded"),
    Case("'\\x41\\u00e9'", {}, "Aé", FAST, "escapes as celpy reads them"),
    Case("1 / 0", {}, Error("divide by zero"), CELPY, "errors are never folded"),
    Case("9223372036854775807 + 1", {}, Error("overflow"), CELPY),
    # Field chains: concurrency and rate-limit keys.
    Case("input.group", {"input": {"group": "g1"}}, "g1", FAST),
    Case("input.digit", {"input": {"digit": "3", "name": "x"}}, "3", FAST),
    Case("input.digit", {"input": {"digit": 3}}, 3, FAST),
    Case("input.user_id", {"input": {"user_id": "abc"}}, "abc", FAST),
    Case(
        "additional_metadata.tenant",
        {"input": {}, "additional_metadata": {"tenant": "acme"}},
        "acme",
        FAST,
    ),
    Case("input.a.b", {"input": {"a": {"b": 1}}}, 1, FAST),
    Case('input["k"]', {"input": {"k": "v"}}, "v", FAST),
    Case("input['a'].b", {"input": {"a": {"b": False}}}, False, FAST),
    Case("input.items[1]", {"input": {"items": ["x", "y"]}}, "y", FAST),
    Case("input.ratio", {"input": {"ratio": 0.25}}, 0.25, FAST),
    Case("input.maybe", {"input": {"maybe": None}}, None, FAST),
    Case("event_key", {"event_key": "user:created"}, "user:created", FAST),
    Case("input.a", {"input": {"a": {"b": [1, None]}}}, {"b": [1, None]}, DEFER, "container"),
    Case("input", {"input": {"x": [1.5, "s"]}}, {"x": [1.5, "s"]}, DEFER, "container"),
    Case("input.id", {"input": {"id": 2**64}}, float(2**64), DEFER, "beyond int64"),
    # Field chains that fail: every error comes from celpy, whichever path met it.
    Case("input.missing", {"input": {"user_id": "abc"}}, Error("no such member"), DEFER),
    Case("additional_metadata.group", {"additional_metadata": {}}, Error("'group'"), DEFER),
    Case("input['missing']", {"input": {}}, Error("no such key: 'missing'"), DEFER),
    Case("input.items[5]", {"input": {"items": [1]}}, Error("out of range"), DEFER),
    Case("input.a.b", {"input": {"a": 5}}, Error("does not support field selection"), DEFER),
    Case("input.a.b", {"input": {"a": None}}, Error("does not support field selection"), DEFER),
    Case("input.x", {"input": ["x"]}, Error("does not support field selection"), DEFER),
    Case("input.user_id", {}, Error("undeclared reference to 'input'"), DEFER),
    Case("nope.x", {"input": {}}, Error("undeclared reference to 'nope'"), DEFER),
    # Comparisons: conditions, filters.
    Case("input.user_id == 'abc'", {"input": {"user_id": "abc"}}, True, FAST),
    Case("input.user_id == 'abc'", {"input": {"user_id": "xyz"}}, False, FAST),
    Case("input.should_skip == true", {"input": {"should_skip": True}}, True, FAST),
    Case("input.should_skip == true", {"input": {"should_skip": False}}, False, FAST),
    Case("output.random_number > 50", {"output": {"random_number": 73}}, True, FAST),
    Case("output.random_number > 50", {"output": {"random_number": 12}}, False, FAST),
    Case("output.random_number > 50", {"output": {"random_number": 50.5}}, True, DEFER),
    Case(
        "payload.x == input.x",
        {"input": {"x": "a"}, "payload": {"x": "a"}, "additional_metadata": {}},
        True,
        FAST,
        "filter payload",
    ),
    Case("event_key == 'user:created'", {"event_key": "user:created"}, True, FAST),
    Case("event_key != 'user:created'", {"event_key": "user:deleted"}, True, FAST),
    Case("'abc' == input.user_id", {"input": {"user_id": "abc"}}, True, FAST),
    Case("input.n >= 3", {"input": {"n": 3}}, True, FAST),
    Case("input.n <= 2", {"input": {"n": 3}}, False, FAST),
    Case("input.n < -1", {"input": {"n": -2}}, True, FAST),
    Case("input.f == 1.5", {"input": {"f": 1.5}}, True, FAST),
    Case("input.f == input.f", {"input": {"f": NAN}}, False, FAST, "NaN"),
    Case("input.f != input.f", {"input": {"f": NAN}}, True, FAST, "NaN"),
    Case("input.f >= 1.0", {"input": {"f": NAN}}, False, FAST, "NaN"),
    Case("input.s < 'f'", {"input": {"s": "é"}}, False, FAST, "code point order"),
    Case("input.b < true", {"input": {"b": False}}, True, FAST),
    Case("input.x == 1", {"input": {"x": 1.0}}, Error("no matching overload"), DEFER),
    Case("input.x == 'a'", {"input": {"x": 1}}, Error("'==' applied to '(int, string)'"), DEFER),
    Case("input.x < 'b'", {"input": {"x": None}}, Error("no matching overload"), DEFER),
    Case("input.x != 'a'", {"input": {"x": None}}, True, DEFER, "null vs string"),
    Case("input.x == 1", {"input": {"x": True}}, True, DEFER, "celpy: bool is an int"),
    Case("input.id == 1", {"input": {"id": 2**64}}, Error("no matching overload"), DEFER),
    Case("input.missing == 'a'", {"input": {}}, Error("no such member"), DEFER),
    # && and ||, with CEL's error-absorbing short circuits.
    Case("input.x == 'a' && input.n > 2", {"input": {"x": "a", "n": 3}}, True, FAST),
    Case("input.x == 'a' || input.n > 2", {"input": {"x": "b", "n": 1}}, False, FAST),
    Case("false && input.missing == 'a'", {"input": {}}, False, FAST),
    Case("true || input.missing == 'a'", {"input": {}}, True, FAST),
    Case("input.flag && input.other", {"input": {"flag": True, "other": True}}, True, FAST),
    Case("input.missing == 'a' && false", {"input": {}}, False, DEFER, "error && false"),
    Case("input.missing == 'a' || true", {"input": {}}, True, DEFER, "error || true"),
    Case("input.x == 'a' && input.missing", {"input": {"x": "a"}}, Error("no such"), DEFER),
    Case("input.a || input.b", {"input": {"a": False, "b": 1}}, 1, DEFER, "celpy quirk"),
    # Only celpy.
    Case("input.units * 2", {"input": {"units": 3}}, 6, CELPY, "rate limit units"),
    Case("size(input.items) > 2", {"input": {"items": [1, 2, 3]}}, True, CELPY),
    Case("size(input.items) > 2", {"input": {"items": [1]}}, False, CELPY),
    Case("input.items.exists(i, i > 2)", {"input": {"items": [1, 3]}}, True, CELPY),
    Case("has(input.x)", {"input": {}}, False, CELPY),
    Case("!input.flag", {"input": {"flag": False}}, True, CELPY),
    Case("input.n > 1 ? 'big' : 'small'", {"input": {"n": 2}}, "big", CELPY),
    Case("'k-' + input.user_id", {"input": {"user_id": "u1"}}, "k-u1", CELPY),
    Case("input.t in ['a', 'b']", {"input": {"t": "b"}}, True, CELPY),
    Case("duration('90s')", {}, "90s", CELPY, "no JSON scalar to fold"),
    Case("timestamp('2024-01-02T03:04:05Z')", {}, "2024-01-02T03:04:05Z", CELPY),
    Case("b'x'", {}, Error("no JSON form"), CELPY),
    Case("type(1)", {}, Error("no JSON form"), CELPY),
    Case("input.units * 2", {"input": {"units": "x"}}, Error("no matching overload"), CELPY),
]


def _same(a: Any, b: Any) -> bool:
    """Equal values of identical types (1 is not 1.0 or True), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _outcome(program: CelProgram, variables: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", program.evaluate(variables)
    except CelEvaluationError as exc:
        return "error", str(exc)


@pytest.fixture
def no_celpy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make any evaluation that reaches celpy fail loudly."""

    def refuse(self: CelProgram, variables: Any, what: Any) -> Any:
        raise AssertionError(f"{self.expression!r} reached celpy")

    monkeypatch.setattr(CelProgram, "_evaluate_with_celpy", refuse)
    yield


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "celpy"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_gives_expected_outcome(case: Case, fast: bool) -> None:
    program = compile_cel(case.expression, what="test case", fast=fast)
    if isinstance(case.expected, Error):
        with pytest.raises(CelEvaluationError) as caught:
            program.evaluate(case.variables)
        assert case.expected.fragment in str(caught.value)
        assert repr(case.expression) in str(caught.value)
        assert caught.value.expression == case.expression
    else:
        result = program.evaluate(case.variables)
        assert _same(result, case.expected), (result, case.expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fast_path_and_celpy_agree(case: Case) -> None:
    fast = _outcome(compile_cel(case.expression, what="t", fast=True), case.variables)
    slow = _outcome(compile_cel(case.expression, what="t", fast=False), case.variables)
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]), (fast, slow)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_case_takes_its_declared_path(case: Case) -> None:
    program = compile_cel(case.expression, what="t")
    assert program.has_fast_path == (case.path != CELPY)
    assert not compile_cel(case.expression, what="t", fast=False).has_fast_path


@pytest.mark.parametrize("case", [c for c in CASES if c.path == FAST], ids=lambda c: c.id)
def test_fast_cases_never_reach_celpy(case: Case, no_celpy: None) -> None:
    result = compile_cel(case.expression, what="t").evaluate(case.variables)
    assert _same(result, case.expected)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "a", "b", "é", "abc"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abk"), inner),
    max_leaves=6,
)
_FAST_SHAPES = [
    "input.a",
    "input.a.b",
    "input['k']",
    "input.a[0]",
    "input.a == input.b",
    "input.a < input.b",
    "input.a >= 'b'",
    "input.a != 1",
    "input.a > 1.5",
    "input.a == true",
    "input.a && input.b",
    "input.a == 'a' || input.b > 2",
    "input.a < input.b && input.b != false",
]
# Compiled at import: the first compile raises the recursion limit (celpy needs 2500),
# which hypothesis reports if it happens inside a property test.
_FAST_PROGRAMS = {
    e: (compile_cel(e, what="t", fast=True), compile_cel(e, what="t", fast=False))
    for e in _FAST_SHAPES
}


@settings(max_examples=400, deadline=None)
@given(
    expression=st.sampled_from(_FAST_SHAPES),
    value=st.dictionaries(st.sampled_from("abk"), _JSON),
)
def test_fast_path_agrees_with_celpy_on_arbitrary_json(
    expression: str, value: dict[str, Any]
) -> None:
    # Beyond the table: whatever JSON arrives, a fast plan either matches celpy or defers.
    variables = {"input": value}
    fast_program, celpy_program = _FAST_PROGRAMS[expression]
    assert fast_program.has_fast_path
    fast, slow = _outcome(fast_program, variables), _outcome(celpy_program, variables)
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]), (fast, slow)


def test_unrelated_variables_are_not_converted() -> None:
    # Only the variables an expression names cross into CEL, so a huge or odd ``output``
    # costs nothing when the expression reads ``input``.
    variables = {"input": {"n": 2}, "output": object()}
    assert compile_cel("input.n * 2", what="t").evaluate(variables) == 4


def test_non_json_value_in_a_named_variable_is_an_evaluation_error() -> None:
    program = compile_cel("input", what="t", fast=False)
    with pytest.raises(CelEvaluationError, match=r"input\.when is of type object"):
        program.evaluate({"input": {"when": object()}})


# --------------------------------------------------------------------------- compile


@pytest.mark.parametrize("expression", ["input.", "input.x ==", "a b", "(input.x", "'open"])
def test_syntax_error_names_the_declaration_and_the_expression(expression: str) -> None:
    what = "concurrency expression of workflow 'orders'"
    with pytest.raises(CelCompileError) as caught:
        compile_cel(expression, what=what)
    message = str(caught.value)
    assert what in message
    assert repr(expression) in message
    assert isinstance(caught.value, DeclarationError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("expression", ["", "   ", "\n"])
def test_empty_expression_is_rejected(expression: str) -> None:
    with pytest.raises(CelCompileError, match="is empty") as caught:
        compile_cel(expression, what="rate limit key of task 'send'")
    assert "rate limit key of task 'send'" in str(caught.value)


def test_non_string_expression_is_rejected() -> None:
    with pytest.raises(CelCompileError, match="must be a string"):
        compile_cel(5, what="max_runs of workflow 'x'")  # type: ignore[arg-type]


def test_unknown_variable_is_a_declaration_error() -> None:
    with pytest.raises(CelCompileError) as caught:
        compile_cel("inptu.user_id", what="key", variables=["input", "additional_metadata"])
    message = str(caught.value)
    assert "'inptu'" in message
    assert "additional_metadata, input" in message


@pytest.mark.parametrize(
    "expression",
    [
        "input.items.all(item, item > 0)",
        "input.items.map(x, x * 2).exists(y, y > input.n)",
        "type(input.x) == string",
        "has(additional_metadata.tenant)",
    ],
)
def test_macro_locals_and_type_names_are_not_unknown_variables(expression: str) -> None:
    compile_cel(expression, what="t", variables=["input", "additional_metadata"])


def test_free_variables_exclude_macro_locals() -> None:
    program = compile_cel("input.items.exists(x, x == payload.v)", what="t")
    assert program.free_variables == {"input", "payload"}


# --------------------------------------------------------------------------- cache


def test_cache_returns_the_same_program() -> None:
    first = compile_cel("input.cache_me", what="a")
    assert compile_cel("input.cache_me", what="another declaration") is first
    assert compile_cel("input.cache_me", what="a", fast=False) is not first


def test_concurrent_compiles_share_one_program() -> None:
    expression = "input.concurrent_compile == 'x'"
    barrier = threading.Barrier(8)

    def compile_it(_: int) -> CelProgram:
        barrier.wait()
        return compile_cel(expression, what="t")

    with ThreadPoolExecutor(8) as pool:
        programs = list(pool.map(compile_it, range(8)))
    assert all(p is programs[0] for p in programs)


def test_cache_is_bounded_and_keeps_recent_programs() -> None:
    compiler = _cel._Compiler(size=2)
    a = compiler.program("input.a", fast=True, what="t")
    b = compiler.program("input.b", fast=True, what="t")
    assert compiler.program("input.a", fast=True, what="t") is a  # a is now most recent
    compiler.program("input.c", fast=True, what="t")  # evicts b
    assert compiler.program("input.a", fast=True, what="t") is a
    assert compiler.program("input.b", fast=True, what="t") is not b


def test_a_higher_recursion_limit_is_kept() -> None:
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(9000)
    try:
        _cel._Compiler(size=1).program("input.x", fast=True, what="t")
        assert sys.getrecursionlimit() == 9000
    finally:
        sys.setrecursionlimit(before)


def test_programs_evaluate_concurrently() -> None:
    fast = compile_cel("input.user_id", what="t")
    slow = compile_cel("'u-' + input.user_id", what="t")

    def both(i: int) -> tuple[Any, Any]:
        variables = {"input": {"user_id": str(i)}}
        return fast.evaluate(variables), slow.evaluate(variables)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(both, range(200)))
    assert results == [(str(i), f"u-{i}") for i in range(200)]


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "key"),
    [("g1", "g1"), (3, "3"), (-2, "-2"), (True, "true"), (False, "false"), (2.5, "2.5")],
)
def test_cel_key_renders_scalars_stably(value: Any, key: str) -> None:
    assert cel_key(compile_cel("input.k", what="t"), {"input": {"k": value}}) == key


@pytest.mark.parametrize("value", [None, [1], {"a": 1}])
def test_cel_key_rejects_non_scalars(value: Any) -> None:
    with pytest.raises(CelEvaluationError, match="a key must be"):
        cel_key(compile_cel("input.k", what="t"), {"input": {"k": value}})


def test_cel_bool_requires_a_bool() -> None:
    program = compile_cel("input.flag", what="t")
    assert cel_bool(program, {"input": {"flag": True}}) is True
    with pytest.raises(CelEvaluationError, match="expected a bool, got string 'yes'"):
        cel_bool(program, {"input": {"flag": "yes"}})
    with pytest.raises(CelEvaluationError, match="expected a bool, got int 1"):
        cel_bool(program, {"input": {"flag": 1}})


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (2.0, 2), (-1, -1)])
def test_cel_int_accepts_integers_and_integral_doubles(value: Any, expected: int) -> None:
    result = cel_int(compile_cel("input.units", what="t"), {"input": {"units": value}})
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [2.5, True, "3", None])
def test_cel_int_rejects_other_values(value: Any) -> None:
    with pytest.raises(CelEvaluationError, match="expected an integer"):
        cel_int(compile_cel("input.units", what="t"), {"input": {"units": value}})


def test_evaluation_error_names_the_use_and_is_a_package_error() -> None:
    program = compile_cel("input.user_id", what="t")
    with pytest.raises(CelEvaluationError) as caught:
        cel_key(program, {"input": {}}, what="concurrency key of workflow 'orders'")
    error = caught.value
    assert isinstance(error, HatchetCeleryError)
    assert str(error).startswith("concurrency key of workflow 'orders': ")
    assert "'input.user_id'" in str(error)
    assert error.what == "concurrency key of workflow 'orders'"
    assert "in activation" not in error.reason  # celpy's variable dump is cut off
