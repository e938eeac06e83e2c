"""The README is the front door: its commands and configuration table must stay true."""

from __future__ import annotations

from pathlib import Path

from hatchet_celery._settings import CLIENT_SETTINGS, markdown_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_configuration_tables_are_generated_from_the_settings() -> None:
    assert markdown_table() in README
    assert markdown_table(CLIENT_SETTINGS) in README


def test_ci_runs_make_test() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci
