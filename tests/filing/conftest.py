from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.core.storage import LocalStorage


@pytest.fixture
def storage(app: Any, tmp_path: Path) -> Iterator[LocalStorage]:
    """The app's storage for this test: a LocalStorage on an empty temporary directory."""
    local = LocalStorage(tmp_path / "uploads")
    original = app.state["storage"]
    app.state["storage"] = local
    try:
        yield local
    finally:
        app.state["storage"] = original


@pytest.fixture
def app_settings(app: Any) -> Iterator[Any]:
    """Change the running app's settings for this test (restored afterwards)."""
    original = app.state.settings

    def use(**overrides: Any) -> Any:
        app.state.settings = dataclasses.replace(original, **overrides)
        return app.state.settings

    yield use
    app.state.settings = original
