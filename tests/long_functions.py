"""Production functions over 80 lines without a ``# long: <why>`` comment (run by `make lint`, and by
tests/test_architecture.py). The comment goes on the ``def`` line, its signature, or the line above it.

    python tests/long_functions.py     # lists them; exit 1 if there are any
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_LINES = 80
BACKEND = Path(__file__).resolve().parent.parent / "backend"


def long_functions(root: Path = BACKEND, max_lines: int = MAX_LINES) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length <= max_lines:
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            body_start = node.body[0].lineno
            head = lines[first - 2 : body_start - 1] if first >= 2 else lines[: body_start - 1]
            if not any("# long:" in line for line in head):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def main() -> int:
    found = long_functions()
    for entry in found:
        print(entry)
    if found:
        print(f"{len(found)} function(s) over {MAX_LINES} lines without a '# long: why' comment", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
