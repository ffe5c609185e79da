"""Shared pieces of the benchmarks: percentiles, a server started as `make run` serves, a bench database."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backend.core import migrate, pgserver  # noqa: E402
from backend.core.config import Settings  # noqa: E402


def add_smoke(parser: argparse.ArgumentParser, **tiny: object) -> None:
    """Give a benchmark ``--smoke``: the same code at a tiny size (seconds), which ``make bench-smoke``
    runs in CI so that no script rots. ``tiny`` maps argument names to their smoke values; they are
    applied after parsing, overriding anything else given."""
    parser.add_argument("--smoke", action="store_true", help="a tiny run (seconds) that only proves the script works")
    parser.set_defaults(_smoke_values=tiny)


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """``parser.parse_args`` with ``--smoke`` applied (see ``add_smoke``)."""
    args = parser.parse_args(argv)
    if getattr(args, "smoke", False):
        for name, value in args._smoke_values.items():
            setattr(args, name, value)
    return args


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fresh_database(name: str, *, keep: bool = False) -> str:
    """A migrated database ``name`` on the embedded server (or DATABASE_URL's server); recreated unless ``keep``."""
    settings = Settings.from_env()
    server = (
        pgserver.with_database(settings.database_url, "postgres")
        if settings.database_url
        else pgserver.start_embedded(settings.var_dir / "pg", stop_at_exit=False)
    )
    url = pgserver.with_database(server, name)
    if not keep:
        await pgserver.drop_database(server, name)
        await pgserver.create_database(server, name)
        await asyncio.to_thread(migrate.upgrade, url)
    return url


@contextlib.asynccontextmanager
async def served(database_url: str, **env: str) -> AsyncIterator[str]:
    """`python -m backend serve` (one uvicorn worker) on a free port; yields its base URL."""
    environment = {
        "DATABASE_URL": database_url,
        "WORKERS": "1",
        "LOG_LEVEL": "WARNING",
        "SEED_DEMO": "false",
        **env,
    }
    async with _serving(lambda port: [sys.executable, "-m", "backend", "serve"], environment) as base:
        yield base


@contextlib.asynccontextmanager
async def served_bare(app: str, **env: str) -> AsyncIterator[str]:
    """A bare ASGI baseline ``app`` (``module:attribute`` under bench/bare/) on uvicorn as ``make run`` runs
    the project (uvloop, httptools, one worker, no access log); yields its base URL."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", app, "--app-dir", str(ROOT / "bench" / "bare"), "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    async with _serving(command, env) as base:
        yield base


SERVED_PIDS: dict[str, int] = {}  # base URL -> pid of each server started here (for CPU and memory figures)


@contextlib.asynccontextmanager
async def _serving(command, env: dict[str, str]) -> AsyncIterator[str]:
    """Start ``command(port)`` on a free port with ``env``, wait until /health answers 200."""
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "PYTHONWARNINGS": "ignore", **env}
    proc = subprocess.Popen(command(port), cwd=ROOT, env=environment)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError("server exited")
                try:
                    async with http.get(base + "/health") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("server did not become healthy")
        SERVED_PIDS[base] = proc.pid
        yield base
    finally:
        SERVED_PIDS.pop(base, None)
        proc.terminate()
        proc.wait(timeout=10)


# --- profiling a served process (py-spy) ----------------------------------------------------------------


@contextlib.asynccontextmanager
async def profiled(pid: int | None, output: Path | None, *, rate: int = 250) -> AsyncIterator[None]:
    """Sample the process ``pid`` with py-spy while the block runs, writing its raw samples (one
    collapsed stack per line with its count, flame-graph input) to ``output``. Does nothing when
    ``output`` is None. ``--nonblocking``: the server is not paused to be sampled, so the figures
    measured meanwhile stay honest."""
    if pid is None or output is None:
        yield
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--nonblocking"]
    proc = subprocess.Popen(  # noqa: ASYNC220
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes what it sampled and exits
        await asyncio.to_thread(proc.wait, 30)


def _frame(frame: str) -> str:
    """'handle (litestar/routes/http.py:201)' -> 'handle (litestar/routes/http.py)'; site-packages cut."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    path = path.replace(str(ROOT) + "/", "")
    return f"{name} ({path})" if path else name


def profile_summary(raw: Path, top: int = 15) -> list[str]:
    """The top entries of a py-spy raw profile: by own samples (the function itself was running) and by
    inclusive samples (it was on the stack), each as a share of all samples of the main thread."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if "(" in f]  # the thread's name frame has none
        if not frames:
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return [f"{raw}: no samples"]
    lines = [f"{raw.name}: {total:,} samples", "  own %  function (file)"]
    lines += [f"  {100 * n / total:5.1f}  {name}" for name, n in own.most_common(top)]
    lines.append("  incl %  function (file)")
    lines += [f"  {100 * n / total:5.1f}  {name}" for name, n in inclusive.most_common(top)]
    return lines
