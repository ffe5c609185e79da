"""Cluster alerts under concurrency, against a real server: eight children of one class reported with the
same symptom at the same moment raise exactly one alert (an advisory lock per class and symptom
serialises the decision in PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from backend.childhealth.models import HealthClusterAlert
from backend.core.outbox import Event
from backend.enrolment.models import Application
from tests.live import live_server, scratch_database
from tests.world import World, execute

CHILDREN = 8


@pytest.fixture(scope="module")
def server(server_url, tmp_path_factory):
    with (
        scratch_database(server_url, demo=False) as url,
        live_server(url, tmp_path_factory.mktemp("cluster-race"), DB_POOL_SIZE="10", DB_MAX_OVERFLOW="10") as srv,
    ):
        yield srv


def test_simultaneous_reports_raise_one_alert(server):
    async def run() -> None:
        world = await World(server.database_url, slots_tomorrow=False).build()
        class_id = await world.care_class()
        for _ in range(CHILDREN):
            await world.placed_family(class_id)
        children = [
            row[0]
            for row in await execute(
                server.database_url, select(Application.child_id).where(Application.class_id == class_id)
            )
        ]
        headers = {"Authorization": f"Bearer {world.staff}"}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            answers = await asyncio.gather(
                *(
                    http.post(
                        f"/api/childhealth/classes/{class_id}/checks",
                        json={"child_id": str(child), "well": False, "symptoms": ["cough"]},
                        headers=headers,
                    )
                    for child in children
                )
            )
        assert [r.status_code for r in answers] == [201] * CHILDREN, [r.text for r in answers if r.status_code != 201]
        raised = [a for r in answers for a in r.json()["cluster_alert_ids"]]
        ((alerts,),) = await execute(
            server.database_url,
            select(func.count()).select_from(HealthClusterAlert).where(HealthClusterAlert.class_id == class_id),
        )
        ((events,),) = await execute(
            server.database_url, select(func.count()).select_from(Event).where(Event.type == "health_cluster.alert")
        )
        assert len(raised) == 1 and alerts == 1 and events == 1

    asyncio.run(run())
