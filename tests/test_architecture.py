"""The code's own rules, checked by tools `make lint` also runs: every import declared in pyproject.toml
(deptry)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_import_is_declared() -> None:
    """deptry: no import of a package pyproject.toml does not declare (nor one only another brings)."""
    result = run("deptry", ".")
    assert result.returncode == 0, result.stdout + result.stderr
