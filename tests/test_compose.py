"""docker-compose.yml and the Dockerfile only name things that exist in this repository.

Docker is not needed to run these checks: they catch the usual rot (a renamed example module,
a moved scheduler class, a Dockerfile COPY of a deleted file) without building an image.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("redis", "worker", "beat", "flower")
APP_SERVICES = ("worker", "beat", "flower")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def command_args(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def option(args: list[str], short: str, long: str) -> str | None:
    """The value of ``-A x`` / ``--app x`` / ``--app=x`` in a command line."""
    for i, arg in enumerate(args):
        if arg in (short, long) and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
    return None


def module_file(dotted: str) -> Path | None:
    """The repository file that ``import dotted`` loads, or None."""
    base = REPO.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_the_four_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(SERVICES) <= set(services)
    assert services["redis"]["image"].startswith("redis:7")
    assert "--appendonly" in command_args(services["redis"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_this_repo(services: dict[str, dict[str, Any]], name: str) -> None:
    build = services[name]["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (REPO / build["context"]).resolve()
    assert context.is_dir()
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()
    assert environment(services[name])["HATCHET_CELERY_REDIS_URL"] == "redis://redis:6379/0"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_celery_commands_name_modules_of_this_repo(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    args = command_args(services[name])
    assert args[0] == "celery"
    app = option(args, "-A", "--app")
    assert app is not None, f"{name}: no -A in {args}"
    module = app.partition(":")[0]
    assert module_file(module), f"{name}: celery -A {app}: no {module} module in the repo"
    scheduler = option(args, "-S", "--scheduler")
    if scheduler is not None:
        module, sep, attr = scheduler.partition(":")
        if not sep:
            module, _, attr = scheduler.rpartition(".")
        path = module_file(module)
        assert path, f"{name}: -S {scheduler}: no {module} module in the repo"
        assert attr in path.read_text(), f"{name}: -S {scheduler}: no {attr} in {path}"


def test_dockerfile_copies_files_that_exist() -> None:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    assert any(line.startswith("FROM python:3.11-slim") for line in lines)
    assert any("pip install ." in line for line in lines)
    copies = [shlex.split(line)[1:-1] for line in lines if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            if not source.startswith("--"):
                assert (REPO / source).exists(), f"Dockerfile copies {source}, which is missing"
