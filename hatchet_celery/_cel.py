"""CEL expressions: compiled once at declaration, evaluated cheaply on the hot path.

Hatchet takes CEL for concurrency keys, rate-limit keys/units/limits, condition
expressions, event filters and idempotency keys. Two facts shape this module:

* A bad expression must fail where it is declared, so ``compile_cel`` parses with celpy
  and raises ``CelCompileError`` naming the declaration and the expression.
* celpy's tree-walking interpreter costs 100-300 us per evaluation, and a concurrency
  key or an event filter is evaluated for every run or event. Most real expressions are
  trivial (``input.user_id``, ``'constant'``, ``input.x == 'a'``), so the parse tree is
  inspected once and, when its shape allows, turned into a few plain-Python closures.

The fast path is an accelerator, never a second semantics: it computes an answer only for
cases whose outcome is certain (JSON scalars of the same type, present fields) and
otherwise *defers* to celpy. Errors in particular always come from celpy, so a missing field
or a type mismatch reads the same whichever path met it first.

Values cross the boundary as JSON: variables are dicts/lists/str/int/float/bool/None and
results come back the same way. Integers outside CEL's signed 64-bit range become doubles
(a JSON number is a double to most producers, Hatchet's Go engine included) rather than
failing the whole evaluation. Non-JSON values in a variable the expression names are an
evaluation error on the celpy path; the fast path only looks at the fields it reads, so it
cannot see them. The runtime always hands over JSON-decoded data, where this cannot arise.
"""

from __future__ import annotations

import datetime
import operator
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from hatchet_celery.exceptions import CelCompileError, HatchetCeleryError

__all__ = [
    "CelEvaluationError",
    "CelProgram",
    "cel_bool",
    "cel_int",
    "cel_key",
    "compile_cel",
]

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**63 - 1
_CACHE_SIZE: Final = 1024

# Names that celpy resolves as identifiers although they are not variables: type names
# (``type(x) == string``) and the protobuf package root for well-known types.
_BUILTIN_IDENTIFIERS: Final = frozenset(
    {"bool", "bytes", "double", "int", "uint", "string", "list", "map", "null_type", "type"}
    | {"google"}
)
# Comprehension macros bind their first argument as a local name inside the others.
_BINDING_MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})


class CelEvaluationError(HatchetCeleryError):
    """A compiled CEL expression failed on these variables (missing field, type mismatch)."""

    def __init__(self, expression: str, reason: str, *, what: str | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.what = what
        prefix = f"{what}: " if what else ""
        super().__init__(f"{prefix}CEL expression {expression!r} failed: {reason}")


class _Defer:
    """Sentinel: the fast path cannot vouch for this case; celpy must decide."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<defer to celpy>"


_DEFER: Final = _Defer()

_Tree = lark.Tree[lark.Token]
# A fast evaluator returns a plain Python value or ``_DEFER``.
_Fast = Callable[[Mapping[str, Any]], Any]


class CelProgram:
    """One compiled expression: celpy's interpreter plus, when possible, a fast evaluator.

    Programs are shared through the ``compile_cel`` cache, so they hold no per-use state
    and are safe to evaluate from many threads at once.
    """

    __slots__ = ("expression", "free_variables", "_fast", "_names", "_runner")

    def __init__(
        self,
        expression: str,
        runner: celpy.Runner,
        ast: _Tree,
        *,
        fast: bool,
    ) -> None:
        self.expression = expression
        self._runner = runner
        # Every identifier the text mentions: only these variables are converted for celpy,
        # so a large unrelated ``output`` or ``payload`` costs nothing.
        self._names = frozenset(_identifiers(ast))
        self.free_variables: frozenset[str] = frozenset(_free_identifiers(ast))
        self._fast: _Fast | None = _plan(ast) if fast else None

    def __repr__(self) -> str:
        path = "fast" if self._fast is not None else "celpy"
        return f"CelProgram({self.expression!r}, {path})"

    @property
    def has_fast_path(self) -> bool:
        """Whether evaluation may skip celpy (it still defers to celpy on unusual values)."""
        return self._fast is not None

    def evaluate(self, variables: Mapping[str, Any], *, what: str | None = None) -> Any:
        """Evaluate with top-level ``variables`` (JSON values); return a JSON value.

        ``what`` names the use (e.g. "concurrency key of workflow 'x'") in error messages,
        since one cached program can serve several declarations.
        """
        fast = self._fast
        if fast is not None:
            value = fast(variables)
            kind = type(value)
            if kind is str or kind is bool or kind is float or value is None:
                return value
            if kind is int and _INT_MIN <= value <= _INT_MAX:
                return value
        return self._evaluate_with_celpy(variables, what)

    def _evaluate_with_celpy(self, variables: Mapping[str, Any], what: str | None) -> Any:
        try:
            activation = {
                name: _to_cel(variables[name], name) for name in self._names if name in variables
            }
        except _ConversionError as exc:
            raise CelEvaluationError(self.expression, str(exc), what=what) from None
        try:
            result = self._runner.evaluate(activation)
        except CELEvalError as exc:
            raise CelEvaluationError(self.expression, _describe(exc), what=what) from None
        except Exception as exc:  # celpy lets some Python errors escape; same contract
            reason = f"{type(exc).__name__}: {exc}"
            raise CelEvaluationError(self.expression, reason, what=what) from None
        try:
            return _from_cel(result)
        except _ConversionError as exc:
            raise CelEvaluationError(self.expression, str(exc), what=what) from None


# --------------------------------------------------------------------------- compile


class _Compiler:
    """The shared celpy environment and the bounded program cache behind one lock.

    celpy's parser keeps the text being parsed on the instance, so parsing is serialised;
    that is cheap because every expression is parsed once.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        # Re-entrant: planning a new program folds its constants through ``constant()``.
        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[str, bool], CelProgram] = OrderedDict()
        self._env: celpy.Environment | None = None

    def program(self, expression: str, *, fast: bool, what: str) -> CelProgram:
        key = (expression, fast)
        with self._lock:
            program = self._cache.get(key)
            if program is not None:
                self._cache.move_to_end(key)
                return program
            program = self._compile(expression, fast=fast, what=what)
            self._cache[key] = program
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return program

    def constant(self, tree: _Tree) -> Any:
        """Evaluate a variable-free subtree once with celpy; ``_DEFER`` if it fails."""
        with self._lock:
            runner = self._environment().program(tree)
        try:
            return _from_cel(runner.evaluate({}))
        except Exception:  # an error must surface at run time, from celpy, as usual
            return _DEFER

    def _environment(self) -> celpy.Environment:
        if self._env is None:
            # celpy sets the recursion limit to 2500 unconditionally; never lower the
            # limit an application chose for itself.
            limit = sys.getrecursionlimit()
            self._env = celpy.Environment()
            sys.setrecursionlimit(max(limit, sys.getrecursionlimit()))
        return self._env

    def _compile(self, expression: str, *, fast: bool, what: str) -> CelProgram:
        env = self._environment()
        try:
            ast = env.compile(expression)
        except CELParseError as exc:
            where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
            context = str(exc.args[0]).rstrip("\n") if exc.args else ""
            message = f"{what}: CEL expression {expression!r} does not compile{where}"
            raise CelCompileError(f"{message}\n{context}" if context else message) from None
        return CelProgram(expression, env.program(ast), ast, fast=fast)


_COMPILER: Final = _Compiler(_CACHE_SIZE)


def compile_cel(
    expression: str,
    *,
    what: str,
    fast: bool = True,
    variables: Collection[str] | None = None,
) -> CelProgram:
    """Compile ``expression`` once (cached by its text) or raise ``CelCompileError``.

    ``what`` names the declaration for the error message. ``variables``, when given, lists
    the names this use provides (e.g. ``input`` and ``additional_metadata``), so a typo such
    as ``inptu.user_id`` fails at declaration instead of on the first run. ``fast=False``
    forces every evaluation through celpy, the reference the fast path is tested against.
    """
    if not isinstance(expression, str):
        raise CelCompileError(
            f"{what}: a CEL expression must be a string, got {type(expression).__name__} "
            f"{expression!r}"
        )
    if not expression.strip():
        raise CelCompileError(f"{what}: CEL expression {expression!r} is empty")
    try:
        program = _COMPILER.program(expression, fast=fast, what=what)
        free = program.free_variables
    except RecursionError:  # parser and planner recurse per nesting level
        shown = expression if len(expression) <= 80 else expression[:77] + "..."
        raise CelCompileError(
            f"{what}: CEL expression {shown!r} nests too deeply to compile"
        ) from None
    if variables is not None:
        unknown = sorted(free - set(variables) - _BUILTIN_IDENTIFIERS)
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            offered = ", ".join(sorted(variables)) or "none"
            raise CelCompileError(
                f"{what}: CEL expression {expression!r} refers to unknown variable(s) "
                f"{names}; available here: {offered}"
            )
    return program


# --------------------------------------------------------------------------- helpers


def cel_key(program: CelProgram, variables: Mapping[str, Any], *, what: str | None = None) -> str:
    """Evaluate to a group key: strings as they are, numbers and booleans rendered stably.

    ``true``/``false`` follow CEL's spelling; floats use Python's shortest round-trip form,
    so the same value always lands in the same group.
    """
    value = program.evaluate(variables, what=what)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    raise CelEvaluationError(
        program.expression,
        f"a key must be a string, number or bool, got {_json_type(value)} {value!r}",
        what=what,
    )


def cel_bool(program: CelProgram, variables: Mapping[str, Any], *, what: str | None = None) -> bool:
    """Evaluate a condition or filter; anything but a bool is an error, not truthiness."""
    value = program.evaluate(variables, what=what)
    if isinstance(value, bool):
        return value
    raise CelEvaluationError(
        program.expression, f"expected a bool, got {_json_type(value)} {value!r}", what=what
    )


def cel_int(
    program: CelProgram | int, variables: Mapping[str, Any], *, what: str | None = None
) -> int:
    """Evaluate a count (units, limits, max runs); integral doubles count as integers.

    JSON producers often write ``2.0`` for two, so an integral double is accepted; a
    fractional one or a bool is an error. A count declared as a constant is itself.
    """
    if isinstance(program, int):
        return program
    value = program.evaluate(variables, what=what)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise CelEvaluationError(
        program.expression, f"expected an integer, got {_json_type(value)} {value!r}", what=what
    )


def _json_type(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "double", str: "string", list: "list"}
    if value is None:
        return "null"
    return names.get(type(value), "map" if isinstance(value, dict) else type(value).__name__)


# --------------------------------------------------------------------------- conversion


class _ConversionError(Exception):
    """A value with no JSON/CEL counterpart."""


def _to_cel(value: Any, where: str) -> Any:
    """Plain JSON value -> celpy value; ``where`` locates a bad value in the message."""
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        if _INT_MIN <= value <= _INT_MAX:
            return celtypes.IntType(value)
        return celtypes.DoubleType(float(value))
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if value is None:
        return None
    if isinstance(value, Mapping):
        return celtypes.MapType(
            {_cel_key(k, where): _to_cel(v, f"{where}.{k}") for k, v in value.items()}
        )
    if isinstance(value, list | tuple):
        return celtypes.ListType([_to_cel(v, f"{where}[{i}]") for i, v in enumerate(value)])
    raise _ConversionError(f"{where} is of type {type(value).__name__}, which is not JSON")


def _cel_key(key: Any, where: str) -> Any:
    if isinstance(key, str):
        return celtypes.StringType(key)
    if isinstance(key, bool):
        return celtypes.BoolType(key)
    if isinstance(key, int) and _INT_MIN <= key <= _INT_MAX:
        return celtypes.IntType(key)
    raise _ConversionError(f"{where} has a map key {key!r} that CEL cannot index")


def _from_cel(value: Any) -> Any:
    """celpy value -> plain JSON value (timestamps and durations as RFC 3339 / '1.5s').

    Checks the Python base types, not celpy's classes: some celpy operations (string
    concatenation, for one) return plain ``str`` rather than ``StringType``.
    """
    if isinstance(value, bool | celtypes.BoolType):  # before int: both subclass int
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if value is None or isinstance(value, celtypes.NullType):
        return None
    if isinstance(value, list | tuple):
        return [_from_cel(item) for item in value]
    if isinstance(value, Mapping):
        return {_from_cel(k): _from_cel(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
        return f"{int(seconds) if seconds.is_integer() else seconds}s"
    if isinstance(value, type):
        kind = f"the type {_CEL_TYPE_NAMES.get(value.__name__, value.__name__)}"
    else:
        kind = f"a {_CEL_TYPE_NAMES.get(type(value).__name__, type(value).__name__)} value"
    raise _ConversionError(f"the result is {kind}, which has no JSON form")


# celpy's messages name its Python classes and grammar rules; name CEL's types instead.
_CEL_TYPE_NAMES: Final = {
    "BoolType": "bool",
    "BytesType": "bytes",
    "DoubleType": "double",
    "DurationType": "google.protobuf.Duration",
    "IntType": "int",
    "ListType": "list",
    "MapType": "map",
    "NoneType": "null_type",
    "StringType": "string",
    "TimestampType": "google.protobuf.Timestamp",
    "UintType": "uint",
}
_OPERATOR_RULES: Final = {
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}
_CLASS_RE: Final = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")
_RULE_RE: Final = re.compile(r"Token\('RULE', '(\w+)'\)")
_VALUE_RE: Final = re.compile(r"\b(?:Int|Uint|Double|String|Bool)Type\(([^()]*)\)")


def _describe(error: CELEvalError) -> str:
    """A readable reason from celpy's error (message, exception type, details)."""
    args = error.args
    message = str(args[0]) if args else "evaluation failed"
    message = message.split(" (in activation", 1)[0]  # drops a dump of every variable
    details = args[2] if len(args) > 2 else None
    first = details[0] if isinstance(details, tuple) and details else None
    detail = "" if first is None else str(first)
    if message == "no such key" and detail:
        message = f"no such key: {_from_cel_repr(first)}"
    elif detail and detail not in message and not message.startswith("found no matching"):
        message = f"{message} ({detail})"
    message = _RULE_RE.sub(lambda m: repr(_OPERATOR_RULES.get(m[1], m[1])), message)
    message = _VALUE_RE.sub(lambda m: m[1], message)
    return _CLASS_RE.sub(lambda m: _CEL_TYPE_NAMES.get(m[1], m[1]), message)


def _from_cel_repr(value: Any) -> str:
    try:
        return repr(_from_cel(value))
    except _ConversionError:
        return repr(value)


# --------------------------------------------------------------------------- the tree


# Precedence levels that wrap every operand in a one-child node, and parentheses.
_PASS_THROUGH: Final = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication"}
    | {"unary", "member", "primary", "paren_expr"}
)


def _unwrap(node: _Tree) -> _Tree:
    """Skip the one-child precedence levels the grammar wraps around every operand."""
    while node.data in _PASS_THROUGH and len(node.children) == 1:
        child = node.children[0]
        if not isinstance(child, lark.Tree):
            break
        node = child
    return node


def _subtree(node: _Tree, index: int) -> _Tree | None:
    """Child ``index`` if it is a subtree (tokens and absent children give None)."""
    children = node.children
    child = children[index] if -len(children) <= index < len(children) else None
    return child if isinstance(child, lark.Tree) else None


def _identifiers(tree: _Tree) -> set[str]:
    """Every name used as an identifier anywhere (a superset of the free variables)."""
    return {
        str(node.children[0])
        for node in tree.iter_subtrees()
        if node.data in ("ident", "dot_ident") and node.children
    }


def _free_identifiers(tree: _Tree) -> set[str]:
    """Identifiers not bound by a comprehension macro: the variables the caller must give."""
    node = _unwrap(tree)
    if node.data in ("ident", "dot_ident"):
        return {str(node.children[0])}
    bound = _macro_variable(node)
    member, arguments = _subtree(node, 0), _subtree(node, 2)
    if bound is not None and member is not None and arguments is not None:
        names = _free_identifiers(member)
        for argument in arguments.children[1:]:
            if isinstance(argument, lark.Tree):
                names |= _free_identifiers(argument) - {bound}
        return names
    names = set()
    for child in node.children:
        if isinstance(child, lark.Tree):
            names |= _free_identifiers(child)
    return names


def _macro_variable(node: _Tree) -> str | None:
    """The local name ``x`` of ``list.all(x, ...)``-style macros, else None."""
    if node.data != "member_dot_arg" or len(node.children) != 3:
        return None
    if str(node.children[1]) not in _BINDING_MACROS:
        return None
    arguments = _subtree(node, 2)
    first = _subtree(arguments, 0) if arguments is not None else None
    if first is None or arguments is None or len(arguments.children) < 2:
        return None
    first = _unwrap(first)
    return str(first.children[0]) if first.data == "ident" else None


# --------------------------------------------------------------------------- fast path

_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "relation_eq": operator.eq,
    "relation_ne": operator.ne,
    "relation_lt": operator.lt,
    "relation_le": operator.le,
    "relation_gt": operator.gt,
    "relation_ge": operator.ge,
}
# Pairs of the same one of these types compare in Python exactly as in celpy (checked
# against celpy for NaN, signed zero and non-ASCII text in tests/test_cel.py). Mixed
# pairs (int vs double, null vs string) follow CEL overload rules: celpy decides.
_COMPARABLE: Final = frozenset({str, int, float, bool})


def _plan(tree: _Tree) -> _Fast | None:
    """A fast evaluator for ``tree``, or None when only celpy will do."""
    node = _unwrap(tree)
    if not _identifiers(node):
        value = _COMPILER.constant(node)
        if value is _DEFER or type(value) not in (str, int, float, bool, type(None)):
            return None
        return lambda variables: value
    if node.data in ("ident", "member_dot", "member_index"):
        return _plan_path(node)
    if node.data == "relation" and len(node.children) == 2:
        return _plan_comparison(node)
    if node.data in ("conditionaland", "conditionalor") and len(node.children) == 2:
        return _plan_logic(node)
    return None


def _plan_path(node: _Tree) -> _Fast | None:
    """``input.a.b`` / ``input["a"]`` / ``input.items[0]``: a walk through dicts and lists."""
    steps: list[str | int] = []
    while node.data != "ident":
        member = _subtree(node, 0)
        if member is None or len(node.children) != 2:
            return None
        if node.data == "member_dot":
            steps.append(str(node.children[1]))
        elif node.data == "member_index":
            index_tree = _subtree(node, 1)
            index = _COMPILER.constant(index_tree) if index_tree is not None else _DEFER
            if type(index) is int and 0 <= index <= _INT_MAX or type(index) is str:
                steps.append(index)
            else:
                return None
        else:
            return None
        node = _unwrap(member)
    root = str(node.children[0])
    path = tuple(reversed(steps))

    def walk(variables: Mapping[str, Any]) -> Any:
        value = variables.get(root, _DEFER)
        for step in path:
            if isinstance(step, str):
                if type(value) is not dict:
                    return _DEFER
                value = value.get(step, _DEFER)
                if value is _DEFER:
                    return _DEFER
            elif type(value) is list and step < len(value):
                value = value[step]
            else:
                return _DEFER
        return value

    return walk


def _plan_comparison(node: _Tree) -> _Fast | None:
    """``<operand> <op> <operand>`` over same-typed JSON scalars."""
    rule, right_tree = _subtree(node, 0), _subtree(node, 1)
    if rule is None or right_tree is None or len(rule.children) != 1:
        return None
    compare = _COMPARISONS.get(str(rule.data))
    left_tree = _subtree(rule, 0)
    if compare is None or left_tree is None:
        return None
    left, right = _plan(left_tree), _plan(right_tree)
    if left is None or right is None:
        return None

    def comparison(variables: Mapping[str, Any]) -> Any:
        a = left(variables)
        b = right(variables)
        kind = type(a)
        if kind is not type(b) or kind not in _COMPARABLE:
            return _DEFER  # also covers either side being _DEFER
        if kind is int and not (_INT_MIN <= a <= _INT_MAX and _INT_MIN <= b <= _INT_MAX):
            return _DEFER  # celpy sees these as doubles
        return compare(a, b)

    return comparison


def _plan_logic(node: _Tree) -> _Fast | None:
    """``&&`` / ``||`` of fast bool operands, short-circuiting as CEL does.

    CEL's ``false && error`` is false and ``true || error`` is true, so a decisive left
    operand settles the result; a left operand that is not a bool defers the whole
    expression (celpy then applies CEL's commutative error rules).
    """
    left_tree, right_tree = _subtree(node, 0), _subtree(node, 1)
    left = _plan(left_tree) if left_tree is not None else None
    right = _plan(right_tree) if right_tree is not None else None
    if left is None or right is None:
        return None
    decisive = node.data == "conditionalor"  # the left value that settles the result

    def logic(variables: Mapping[str, Any]) -> Any:
        a = left(variables)
        if a is decisive:
            return decisive
        if a is not (not decisive):
            return _DEFER
        b = right(variables)
        return b if type(b) is bool else _DEFER

    return logic
