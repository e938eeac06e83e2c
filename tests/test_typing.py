"""The public surface is typed for users: ``mypy --strict`` checks a user's program
(``tests/typing/user_program.py``): results inferred from the tasks' annotations (awaited for
``async def``), wrong inputs rejected (its ``type: ignore`` lines must each silence an error:
strict mode reports an unused one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_users_program_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    program = ROOT / "tests" / "typing" / "user_program.py"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(program)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found in 1 source file" in proc.stdout
