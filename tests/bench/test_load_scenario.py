"""The load scenario's tooling (bench/load/) is importable and its arguments parse; it is never run here
(a timed run does not belong in the suite: see BENCHMARKS.md, `make bench-load`)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _runner():
    spec = importlib.util.spec_from_file_location("bench_load_run", ROOT / "bench" / "load" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_are_the_issue_scenario():
    args = _runner().parse_args([])
    assert (args.parents, args.staff, args.listeners, args.seconds) == (200, 50, 500, 60)
    assert args.baseline_users == 10
    assert args.workers == 1


def test_arguments_parse_and_bad_ones_are_refused(capsys):
    run = _runner()
    args = run.parse_args(
        ["--parents", "5", "--staff", "2", "--listeners", "10", "--seconds", "20", "--quiet-seconds", "4"]
    )
    assert (args.parents, args.staff, args.listeners, args.seconds, args.quiet_seconds) == (5, 2, 10, 20, 4)
    for bad in (["--parents", "0"], ["--seconds", "10", "--quiet-seconds", "5"], ["--baseline-users", "2"]):
        with pytest.raises(SystemExit):
            run.parse_args(bad)
    assert "error" in capsys.readouterr().err


def test_baseline_keeps_the_proportions():
    split = _runner().split
    assert split(10, 200, 50, 500) == (3, 1, 6)
    assert sum(split(30, 200, 50, 500)) == 30
    assert min(split(3, 200, 50, 500)) == 1


def test_locustfile_loads_with_its_four_users():
    """In a subprocess: locust monkey-patches the process with gevent on import."""
    env = {**os.environ, "LOAD_PARENTS": "1", "LOAD_STAFF": "1", "LOAD_LISTENERS": "1"}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for user in ("Parent", "Staff", "Listener", "HealthProbe"):
        assert user in out.stdout
