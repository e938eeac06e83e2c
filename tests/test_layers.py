"""The structure of the package, as ``docs/architecture.md`` draws it: the runtime's layers
import only the layers before them, and declarations reach the runtime only through the
registry and the context's runtime port (no import cycle at all is checked by the lint
step, ``import_cycles.py``; this pins the direction)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hatchet_celery

PACKAGE = Path(hatchet_celery.__file__).parent
LAYERS = ("core", "ops", "waits", "flow", "timing", "worker")
# Declarations and the task context: no Redis, no Celery, no runtime internals.
DECLARATIONS = ("runnables", "context", "durable.py", "conditions.py", "labels.py", "rate_limit.py")
# What a declaration module may import from ``_runtime``: the registry (the front door
# ``Hatchet`` is built on) and the process event loop (``mock_run`` of async dependencies).
DECLARATION_DOORS = {"hatchet_celery._runtime.registry", "hatchet_celery._runtime.core.aio"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """Modules of the package imported when the module runs (module level or in a
    function), leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and getattr(test, "id", getattr(test, "attr", "")) == (
            "TYPE_CHECKING"
        ):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.startswith("hatchet_celery"):
                for alias in node.names:  # a submodule when one has that name, else the module
                    sub = f"{node.module}.{alias.name}"
                    found.append((node.lineno, sub if is_module(sub) else node.module))
        elif isinstance(node, ast.Import):
            found.extend(
                (node.lineno, a.name) for a in node.names if a.name.startswith("hatchet_celery")
            )
    return found


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "_runtime":
        return None
    return LAYERS.index(parts[2]) if parts[2] in LAYERS else len(LAYERS)


# ``_runtime/__init__.py`` only documents the layers.
RUNTIME_FILES = sorted(
    p
    for p in (PACKAGE / "_runtime").rglob("*.py")
    if p.parent.name != "_runtime" or p.name != "__init__.py"
)


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=lambda p: module_name(p))
def test_a_runtime_layer_imports_only_the_layers_before_it(path: Path) -> None:
    mine = layer_of(module_name(path))
    assert mine is not None
    upward = [
        f"line {line}: {target}"
        for line, target in runtime_imports(path)
        if (theirs := layer_of(target)) is not None and theirs > mine
    ]
    name = LAYERS[mine] if mine < len(LAYERS) else "root"
    assert upward == [], f"{module_name(path)} (layer {name}) imports a later layer"


def declaration_files() -> list[Path]:
    out: list[Path] = [PACKAGE / "hatchet.py"]
    for entry in DECLARATIONS:
        target = PACKAGE / entry
        out.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return out


@pytest.mark.parametrize("path", declaration_files(), ids=lambda p: module_name(p))
def test_declarations_reach_the_runtime_only_through_its_doors(path: Path) -> None:
    inside = [
        f"line {line}: {target}"
        for line, target in runtime_imports(path)
        if target.startswith("hatchet_celery._runtime")
        and target != "hatchet_celery._runtime"
        and not any(target == d or target.startswith(d + ".") for d in DECLARATION_DOORS)
    ]
    assert inside == []
