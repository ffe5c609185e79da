"""The PWA's generated API types (pwa/src/api/schema.d.ts) match the API as it is now: a change to a
request or response schema that is not regenerated (`make api-types`) fails here, and then the PWA's
type-check shows every screen the change touches."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from backend.core.config import REPO_ROOT

PWA = REPO_ROOT / "pwa"


def test_generated_api_types_are_current(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not (PWA / "node_modules" / ".bin" / "openapi-typescript").exists() or shutil.which("npx") is None:
        pytest.fail("the PWA's npm packages are not installed: run `make pwa` (make test does it)")
    document = tmp_path / "openapi.json"
    printed = subprocess.run(
        [sys.executable, "-m", "backend", "openapi"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path / "var"), "PYTHONWARNINGS": "ignore"},
    )
    document.write_bytes(printed.stdout)
    generated = tmp_path / "schema.d.ts"
    subprocess.run(
        ["npx", "openapi-typescript", str(document), "-o", str(generated)],
        cwd=PWA,
        capture_output=True,
        check=True,
    )
    committed = (PWA / "src" / "api" / "schema.d.ts").read_text()
    assert generated.read_text() == committed, "pwa/src/api/schema.d.ts is stale: run `make api-types`"
