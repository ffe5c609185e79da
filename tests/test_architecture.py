"""The code's own rules, checked by the tools `make lint` also runs: every import declared in pyproject.toml
(deptry), the layering contracts (import-linter, configured in pyproject.toml), no long function without
a reason (tests/long_functions.py), and no private module of a dependency imported."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_every_import_is_declared() -> None:
    """deptry: no import of a package pyproject.toml does not declare (nor one only another brings)."""
    result = run("deptry", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layering_contracts_hold() -> None:
    """import-linter: core imports no domain, no import cycles, domains in one direction, routes are the app's."""
    result = run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_long_function_without_a_reason() -> None:
    """No production function over 80 lines without a ``# long: why`` comment (tests/long_functions.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "long_functions.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_name_every_package() -> None:
    """A new package of backend/ must take its place in the contracts, or they would not look at it."""
    contracts = {
        c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    }
    packages = {
        f"backend.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "backend").iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")
    }
    forbidden = set(contracts["core"]["forbidden_modules"])
    assert packages - {"backend.core", "backend.__main__"} == forbidden
    layered = {m.strip() for layer in contracts["domains"]["layers"] for m in layer.split("|")}
    assert packages - {"backend.core"} == layered
    unpackaged = [
        p.name
        for p in (ROOT / "backend").iterdir()
        if p.is_dir() and p.name != "__pycache__" and not (p / "__init__.py").exists()
    ]
    assert not unpackaged, f"packages without __init__.py are invisible to import-linter: {unpackaged}"


def test_no_private_module_of_a_dependency_is_imported() -> None:
    """Only a dependency's public API: no ``from litestar._parsers import …`` (it may change in any release)."""
    private = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "backend" and any(part.startswith("_") for part in parts[1:]):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not private, private
