"""First load on a slow phone link (issue 19 §2, issue 26 §6): bytes on the wire, FCP, LCP and time until
the first screen is usable, for `/` (找托育) and an institution's page, with the uncompressed baseline
in the same run.

Two servers, as `make run` serves them, on one database with the Daqing demo data:

* **compressed** — the default: precompressed PWA files (brotli), API answers gzipped;
* **baseline** — ``COMPRESSION=false``: the same files and answers, uncompressed.

Each visit is a fresh Chromium profile (empty cache, no service worker yet) through DevTools network
throttling: 1.6 Mbps down, 750 kbps up, 150 ms round trip. Measured in the page:

* **FCP** — ``first-contentful-paint``; **LCP** — the last ``largest-contentful-paint`` entry;
* **usable** — when the first screen shows its data (the list of nearby institutions on `/`, the
  institution's name on its page): the app has mounted, its handlers are attached, its data is in;
* **KB before usable** — ``transferSize`` (bytes on the wire, headers included) of the document and
  every resource that finished by then; **KB total** — the same once the network is idle.

The service worker (issue 26 §6): the same visit to the compressed server with service workers blocked
is the baseline of "the precache must not slow the first visit"; the table also says when the app asked
to register its worker, which must be after the first screen was usable.

Also printed: gzip (level 6) against brotli (quality 4 and 5) on the nearby-search JSON, size and time
per answer — the measurement behind the API's choice of gzip (backend/core/compression.py).

    .venv/bin/python bench/first_load.py            # 3 visits per page and server (median)
    .venv/bin/python bench/first_load.py --smoke    # one visit to `/`, no throttling: seconds

Needs the built PWA (`make pwa`) and Debian's chromium (`make browser`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
from common import ROOT, fresh_database, served

from backend.core.config import Settings

CHROMIUM = "/usr/bin/chromium"
DOWN_BPS, UP_BPS, RTT_MS = 1_600_000, 750_000, 150
AIM_KB, AIM_FCP_MS = 200, 1800
SAERTU = {"latitude": 46.63, "longitude": 125.11}

# Recorded in the page from its first byte: paint entries, LCP, when the ready selector first matched,
# and when the app asked to register its service worker.
PROBE = """
window.__lcp = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__lcp = e.startTime;
}).observe({ type: 'largest-contentful-paint', buffered: true });
window.__ready = null;
const __selector = %r;
const __check = () => {
  if (window.__ready === null && document.querySelector(__selector)) window.__ready = performance.now();
};
new MutationObserver(__check).observe(document, { childList: true, subtree: true });
window.__swAt = null;
if (navigator.serviceWorker) {
  const register = navigator.serviceWorker.register.bind(navigator.serviceWorker);
  navigator.serviceWorker.register = (...args) => {
    if (window.__swAt === null) window.__swAt = performance.now();
    return register(...args);
  };
}
"""

COLLECT = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const ready = window.__ready;
  const bytes = (until) => (nav.responseEnd <= until ? nav.transferSize : 0) +
    resources.filter((r) => r.responseEnd <= until).reduce((n, r) => n + r.transferSize, 0);
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    ready, fcp: fcp ? fcp.startTime : null, lcp: window.__lcp || null, swAt: window.__swAt,
    before: bytes(ready), total: bytes(Infinity), requests: resources.length + 1,
  };
}"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="visits per page and server (the median is printed)")
    parser.add_argument("--smoke", action="store_true", help="one unthrottled visit to / per server: seconds")
    parser.add_argument("--keep", action="store_true", help="reuse an already seeded bench database")
    return parser.parse_args(argv)


async def database(keep: bool) -> str:
    from backend.demo.seed import seed

    url = await fresh_database("bench_first_load", keep=keep)
    if not keep:
        await seed(url, Settings.from_env())
    return url


@contextlib.asynccontextmanager
async def server(url: str, var: Path, **env: str) -> Any:
    settings = Settings.from_env()  # the seed's keys, so the servers read what it wrote
    async with served(url, SECRET_KEY=settings.secret_key, VAR_DIR=str(var), MAINTENANCE_INTERVAL_S="0", **env) as base:
        yield base


def visit(browser: Any, base: str, path: str, ready: str, *, throttle: bool, service_workers: str) -> dict[str, Any]:
    context = browser.new_context(
        base_url=base,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation=SAERTU,
        permissions=["geolocation"],
        service_workers=service_workers,
        bypass_csp=True,  # Playwright's wait_for_function evaluates with eval, which the app's policy forbids
    )
    try:
        page = context.new_page()
        page.add_init_script(PROBE % ready)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if throttle:
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": RTT_MS,
                    "downloadThroughput": DOWN_BPS / 8,
                    "uploadThroughput": UP_BPS / 8,
                },
            )
        page.goto(path, wait_until="commit", timeout=120_000)
        page.wait_for_function("window.__ready !== null", timeout=120_000, polling=50)
        page.wait_for_load_state("networkidle", timeout=120_000)
        return page.evaluate(COLLECT)
    finally:
        context.close()


def median(rows: list[dict[str, Any]], key: str) -> float:
    values = sorted(r[key] for r in rows if r[key] is not None)  # (bench/statistics.py shadows the stdlib's)
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def api_compression(base: str) -> None:
    """gzip-6 against brotli-4/5 on the nearby JSON (uncompressed from the baseline server)."""
    body = httpx.get(
        base + "/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11, "radius_m": 20000, "limit": 50}
    ).content
    print(f"\nAPI answer: GET /api/institutions/nearby (50 results), {len(body) / 1024:.1f} KB raw")
    print(f"{'codec':<12} {'KB':>7} {'ratio':>7} {'µs/answer':>10}")
    codecs = {
        "gzip-6": lambda b: gzip.compress(b, compresslevel=6),
        "brotli-4": lambda b: brotli.compress(b, quality=4),
        "brotli-5": lambda b: brotli.compress(b, quality=5),
    }
    for name, fn in codecs.items():
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            out = fn(body)
        per = (time.perf_counter() - start) / n * 1e6
        print(f"{name:<12} {len(out) / 1024:>7.1f} {len(out) / len(body):>7.3f} {per:>10.0f}")


def pages(smoke: bool, institution: str) -> Iterator[tuple[str, str, str]]:
    yield "/", "/", ".find-care__list li, .find-care .van-empty"
    if not smoke:
        yield "institution", f"/institutions/{institution}", ".inst__name"


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    for needed, missing in (
        (Path(CHROMIUM), f"{CHROMIUM} is missing: `make browser` installs it"),
        (ROOT / "pwa" / "dist" / "index.html.br", "the PWA is not built with its precompressed files: run `make pwa`"),
    ):
        if not await asyncio.to_thread(needed.exists):
            raise SystemExit(missing)
    runs = 1 if args.smoke else args.runs
    throttle = not args.smoke
    url = await database(args.keep)
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            server(url, Path(tmp) / "compressed") as compressed,
            server(url, Path(tmp) / "baseline", COMPRESSION="false") as baseline,
        ):
            near = (
                await asyncio.to_thread(
                    httpx.get, compressed + "/api/institutions/nearby", params={"lat": 46.63, "lng": 125.11}
                )
            ).json()
            institution = near["items"][0]["id"] if near["items"] else "00000000-0000-0000-0000-000000000000"

            def measure() -> dict[tuple[str, str], list[dict[str, Any]]]:
                results: dict[tuple[str, str], list[dict[str, Any]]] = {}
                with sync_playwright() as p:
                    browser = p.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                    )
                    try:
                        for label, path, ready in pages(args.smoke, institution):
                            for name, base, sw in (
                                ("compressed", compressed, "allow"),
                                ("baseline", baseline, "allow"),
                                ("compressed, no SW", compressed, "block"),
                            ):
                                if args.smoke and sw == "block":
                                    continue
                                results[(label, name)] = [
                                    visit(browser, base, path, ready, throttle=throttle, service_workers=sw)
                                    for _ in range(runs)
                                ]
                    finally:
                        browser.close()
                return results

            results = await asyncio.to_thread(measure)
            condition = (
                f"throttled {DOWN_BPS / 1e6:g} Mbps down / {UP_BPS / 1e3:g} kbps up / {RTT_MS} ms RTT"
                if throttle
                else "no throttling (smoke)"
            )
            print(f"\nFirst load, fresh profile, {condition}; median of {runs} visit(s)")
            header = (
                f"{'page':<12} {'server':<18} {'KB before usable':>16} {'KB total':>9} {'FCP ms':>7} "
                f"{'LCP ms':>7} {'usable ms':>9} {'SW asked ms':>11}"
            )
            print(header)
            for (label, name), rows in results.items():
                print(
                    f"{label:<12} {name:<18} {median(rows, 'before') / 1024:>16.1f} {median(rows, 'total') / 1024:>9.1f} "
                    f"{median(rows, 'fcp'):>7.0f} {median(rows, 'lcp'):>7.0f} {median(rows, 'ready'):>9.0f} "
                    f"{median(rows, 'swAt'):>11.0f}"
                )
            print()
            for label, _path, _ready in pages(args.smoke, institution):
                c, b = results[(label, "compressed")], results[(label, "baseline")]
                print(
                    f"{label}: compressed/baseline  bytes before usable {median(c, 'before') / median(b, 'before'):.2f}×, "
                    f"FCP {median(c, 'fcp') / median(b, 'fcp'):.2f}×, usable {median(c, 'ready') / median(b, 'ready'):.2f}×"
                    f"   (aims: ≤ {AIM_KB} KB before usable: {median(c, 'before') / 1024:.0f} KB; "
                    f"FCP ≤ {AIM_FCP_MS} ms: {median(c, 'fcp'):.0f} ms)"
                )
                if (label, "compressed, no SW") in results:
                    n = results[(label, "compressed, no SW")]
                    print(
                        f"{label}: with service worker / without  usable {median(c, 'ready') / median(n, 'ready'):.2f}×, "
                        f"bytes before usable {median(c, 'before') / median(n, 'before'):.2f}× "
                        f"(the worker is asked for at {median(c, 'swAt'):.0f} ms, after usable at {median(c, 'ready'):.0f} ms)"
                    )
            api_compression(baseline)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
