"""The import API: upload → dry-run report → annotated report → apply; history, export, audit, authz."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.core.audit import AuditEntry
from backend.core.authz import Role
from backend.imports.tables import FileFormat, read_table
from backend.institutions.models import Institution
from tests.imports.helpers import HEADER, inst_file, inst_row, uscc

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def upload(client, headers, content, *, kind="institutions", crs="gcj02", name="备案名单.xlsx"):
    return await client.post(
        f"/api/imports/{kind}", params={"crs": crs}, files={"file": (name, content, XLSX)}, headers=headers
    )


async def test_upload_report_apply_history_export(client, factory, db):
    account, officer = await factory.signed_in(Role.OFFICER, department="health")  # city-wide health officer
    account.display_name = "卫健委张科长"
    await db.commit()
    bad = await upload(client, officer, inst_file([inst_row(201), inst_row(202, 班级1托位数="30")]))
    assert bad.status_code == 201, bad.text
    body = bad.json()
    assert body["status"] == "checked" and body["error_count"] == 1 and body["counts"]["create"] == 1
    assert body["problems"][0]["row"] == 3 and body["problems"][0]["code"] == "class_cap_exceeded"
    report = await client.get(f"/api/imports/{body['id']}/report", headers=officer)
    assert report.status_code == 200 and report.headers["content-type"].startswith(XLSX)
    table = read_table(report.content)
    assert table.header == [*HEADER, "问题"] and "托小班最多15人" in table.rows[1][-1]
    refused = await client.post(f"/api/imports/{body['id']}/apply", headers=officer)
    assert refused.status_code == 422 and refused.json()["code"] == "import_has_errors"
    assert (
        await db.scalar(select(func.count()).select_from(Institution).where(Institution.registration_no == uscc(201)))
        == 0
    )

    good = await upload(client, officer, inst_file([inst_row(201), inst_row(202)], FileFormat.CSV), name="名单.csv")
    run_id = good.json()["id"]
    applied = await client.post(f"/api/imports/{run_id}/apply", headers=officer)
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied" and applied.json()["counts"]["create"] == 2
    assert (await client.post(f"/api/imports/{run_id}/apply", headers=officer)).json()["code"] == "import_applied"
    entry = (
        (
            await db.execute(
                select(AuditEntry).where(AuditEntry.action == "imports.apply").order_by(AuditEntry.id.desc())
            )
        )
        .scalars()
        .first()
    )
    assert entry is not None and entry.note["created"] == 2 and entry.change_count >= 3  # one per bulk statement

    history = await client.get("/api/imports", headers=officer)
    runs = {r["id"]: r for r in history.json()}  # one test transaction: equal created_at, so no order
    assert runs[run_id]["status"] == "applied" and runs[body["id"]]["status"] == "checked"
    assert runs[run_id]["file_format"] == "csv" and runs[run_id]["problems"] is None
    assert runs[run_id]["created_by_name"] == runs[run_id]["applied_by_name"] == "卫健委张科长"  # who

    exported = await client.get("/api/exports/institutions", params={"format": "csv", "crs": "gcj02"}, headers=officer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    again = await upload(client, officer, exported.content, name="导出.csv")
    assert again.json()["counts"]["create"] == 0 and again.json()["counts"]["update"] == 0


async def test_bad_files_and_callers(client, factory):
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    for content in (b"", b"PK\x03\x04\x00\x00broken", "名称\n甲\n".encode()):
        r = await upload(client, admin, content)
        assert r.status_code == 422 and r.json()["detail_zh"], content
    # Each register has its own upload path: anything else under /api/imports/ is a run's path, which
    # takes no POST (405), whether it names a run or not; nothing is imported.
    assert (await upload(client, admin, inst_file([inst_row(1)]), kind="people")).status_code == 405
    a_run = "00000000-0000-4000-8000-000000000000"
    refused = await upload(client, admin, inst_file([inst_row(1)]), kind=a_run)
    assert refused.status_code == 405 and "GET" in refused.headers["allow"], refused.text
    assert refused.json()["detail_zh"]
    assert (await upload(client, admin, inst_file([inst_row(1)]), crs="utm")).status_code == 400
    _, market = await factory.signed_in(Role.OFFICER, department="market")
    assert (await upload(client, market, inst_file([inst_row(1)]))).status_code == 403
    assert (await client.get("/api/imports", headers=market)).status_code == 403
    assert (await client.get("/api/imports")).status_code == 401


async def test_a_unit_health_officer_imports_for_their_unit_only(client, factory, db):
    _, admin = await factory.signed_in(Role.CITY_ADMIN)
    others = await upload(client, admin, inst_file([inst_row(251, 所属区县="肇州县", 经度="125.27", 纬度="45.70")]))
    await client.post(f"/api/imports/{others.json()['id']}/apply", headers=admin)
    _, officer = await factory.signed_in(Role.OFFICER, department="health", unit=230602)  # 萨尔图区
    rows = [
        inst_row(252),  # 萨尔图区: theirs
        inst_row(253, 所属区县="龙凤区", 经度="125.14", 纬度="46.56"),  # another unit
        inst_row(251, 所属区县="萨尔图区"),  # 肇州县's institution, moved into their unit
    ]
    r = await upload(client, officer, inst_file(rows))
    assert r.status_code == 201, r.text
    errors = {(p["row"], p["code"]) for p in r.json()["problems"] if p["level"] == "error"}
    assert errors == {(3, "other_unit"), (4, "other_unit")}
    ok = await upload(client, officer, inst_file([inst_row(252)]))
    applied = await client.post(f"/api/imports/{ok.json()['id']}/apply", headers=officer)
    assert applied.status_code == 200 and applied.json()["counts"]["create"] == 1
    # Their own runs only; rooms and exports are city-wide.
    assert {h["id"] for h in (await client.get("/api/imports", headers=officer)).json()} == {
        r.json()["id"],
        ok.json()["id"],
    }
    assert (await client.get(f"/api/imports/{others.json()['id']}", headers=officer)).status_code == 404
    assert (await client.post(f"/api/imports/{others.json()['id']}/apply", headers=officer)).status_code == 404
    assert (await upload(client, officer, b"x", kind="rooms")).status_code == 403
    assert (await client.get("/api/exports/institutions", headers=officer)).status_code == 403
