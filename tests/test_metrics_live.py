"""/metrics on a real server with two worker processes (issue 19 §4): every worker's requests are in
every scrape, whichever worker answers it (prometheus-client's multiprocess mode, set up by
`python -m backend serve`)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.live import live_server, scratch_database

ROUTE = "/api/units"
REQUESTS = 60


def _count(body: str, route: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "dq_http_requests_total" and s.labels.get("route") == route
    )


def test_two_workers_are_counted_together(server_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path, startup_s=120, WORKERS="2", METRICS_TOKEN="t" * 40) as server,
    ):
        for _ in range(REQUESTS):  # a new connection each time: the kernel spreads them over both workers
            assert httpx.get(server.base_url + ROUTE, headers={"Connection": "close"}).status_code == 200
        port = server.base_url.rsplit(":", 1)[1]
        metrics_dir = next(tmp_path.glob("var-*")) / "metrics" / port
        writers = {p.stem.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) == 2, f"expected both workers to have counted requests, files: {writers}"
        for _ in range(6):  # several scrapes, answered by either worker: each sees all requests
            page = httpx.get(server.base_url + "/metrics", headers={"Connection": "close"})
            assert page.status_code == 200  # from loopback: allowed by default
            assert _count(page.text, ROUTE) == REQUESTS
        assert "dq_db_pool_in_use" in page.text and "dq_websockets_open" in page.text
        # The token works as well, and nothing is open to a wrong one (loopback aside, which is allowed).
        assert (
            httpx.get(server.base_url + "/metrics", headers={"Authorization": "Bearer " + "t" * 40}).status_code == 200
        )
