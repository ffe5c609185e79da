"""The transaction rule (backend/core/tx.py): the route handler commits; every other commit is a named
exception that calls its helper. This test reads backend/ and fails on a ``commit()`` anywhere else."""

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"

# Middlewares that commit the request's transaction themselves (their module docstrings say why).
MIDDLEWARES = {
    # A staff or officer read of children's data: its audit entry commits before the response starts.
    "core/audit.py",
    # A WebSocket handshake redeems its single-use ticket in a short session of its own.
    "accounts/middleware.py",
}


def is_route_module(path: Path) -> bool:
    return path.name == "routes.py" or path.name.endswith("_routes.py")


def commit_lines(tree: ast.AST) -> list[int]:
    """Where ``<anything>.commit(...)`` is called."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def commits(path: Path) -> list[int]:
    return commit_lines(ast.parse(path.read_text(), filename=str(path)))


def test_commits_only_in_handlers_and_named_helpers() -> None:
    outside = []
    for path in sorted(BACKEND.rglob("*.py")):
        relative = path.relative_to(BACKEND).as_posix()
        if is_route_module(path) or relative in MIDDLEWARES or relative == "core/tx.py":
            continue
        outside += [f"backend/{relative}:{line}" for line in commits(path)]
    assert not outside, (
        "commit() outside route handlers: use the helper of backend/core/tx.py that names why "
        f"(or commit in the handler): {outside}"
    )


def test_every_helper_only_commits() -> None:
    """Each helper of core/tx.py is one commit: the name is the reason, the behaviour is the same."""
    tree = ast.parse((BACKEND / "core" / "tx.py").read_text())
    helpers = [node for node in tree.body if isinstance(node, ast.AsyncFunctionDef)]
    assert helpers
    for helper in helpers:
        assert helper.name.startswith("commit_"), helper.name
        body = [s for s in helper.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert len(body) == 1 and commit_lines(body[0]), helper.name


def test_the_helpers_called_exist() -> None:
    from backend.core import tx

    called = {
        node.attr
        for path in BACKEND.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "tx"
    }
    assert called, "no helper of core/tx.py is called"
    assert not {name for name in called if not hasattr(tx, name)}


def test_the_scan_sees_a_commit(tmp_path: Path) -> None:
    """The scan itself: a commit in a service, under any name, is found."""
    service = tmp_path / "service.py"
    service.write_text("async def f(session):\n    x = 1\n    await session.commit()\n")
    assert commits(service) == [3]
