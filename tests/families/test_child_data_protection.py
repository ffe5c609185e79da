"""Children's data at rest (PIPL: under-14s are sensitive personal information).

* Names and birth dates are AES-256-GCM ciphertexts in PostgreSQL; the keys live outside it.
* A wrong or missing key fails loudly; key rotation keeps old rows readable and re-keys them.
* No child is stored without its guardian's recorded consent: the API refuses (422) and PostgreSQL
  refuses at commit (a deferred constraint trigger).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.core import crypto, migrate, pgserver
from backend.core.authz import Role
from backend.core.config import REPO_ROOT, ConfigError, Settings
from backend.core.crypto import ChildDataDecryptError, ChildDataKeyError, ChildDataKeys
from backend.families.models import Child, GuardianConsent, Guardianship
from backend.families.rekey import rekey_batch
from tests.conftest import TEST_SECRET

CONSENT = {"policy_version": "2026-12", "accepted": True}
NAME = "保密宝宝Zq"
BIRTH = dt.date.today() - dt.timedelta(days=500)


def _key_entry(key_id: int) -> tuple[str, bytes]:
    key = os.urandom(32)
    return f"{key_id}:{base64.b64encode(key).decode()}", key


async def _raw(db, child_id) -> tuple[bytes, bytes]:
    row = (await db.execute(text("SELECT name, birth_date FROM children WHERE id = :id"), {"id": child_id})).one()
    return bytes(row.name), bytes(row.birth_date)


async def _add(client, headers, **overrides):
    body = {"name": NAME, "birth_date": BIRTH.isoformat(), "relation": "mother", "consent": CONSENT, **overrides}
    return await client.post("/api/me/children", headers=headers, json=body)


# ------------------------------------------------------------------------------------------ at rest


async def test_the_database_holds_no_plaintext_of_a_childs_name_or_birth_date(client, factory, db):
    _, headers = await factory.signed_in(Role.PARENT)
    created = await _add(client, headers)
    assert created.status_code == 201, created.text
    child = created.json()
    assert (child["name"], child["birth_date"]) == (NAME, BIRTH.isoformat())

    name, birth = await _raw(db, child["id"])
    for blob in (name, birth):
        assert blob[0] == crypto.FORMAT_VERSION and blob[1] == crypto.DERIVED_KEY_ID
        assert len(blob) == crypto.HEADER_BYTES + crypto.NONCE_BYTES + crypto.PAD_BLOCK + crypto.TAG_BYTES
    for needle in (
        NAME.encode(),
        "保密".encode(),
        b"Zq",
        BIRTH.isoformat().encode(),
        BIRTH.strftime("%Y%m%d").encode(),
    ):
        assert needle not in name and needle not in birth
    # Not even as text anywhere in the row, as PostgreSQL would render it.
    row_text = await db.scalar(text("SELECT row_to_json(c)::text FROM children c WHERE id = :id"), {"id": child["id"]})
    assert NAME not in row_text and BIRTH.isoformat() not in row_text
    # The same name encrypts differently each time (random nonce): equal names cannot be matched.
    _, other_headers = await factory.signed_in(Role.PARENT)
    other = (await _add(client, other_headers)).json()
    assert (await _raw(db, other["id"]))[0] != name
    # The ORM and the API still see the plain values.
    assert await db.scalar(select(Child.name).where(Child.id == child["id"])) == NAME
    assert await db.scalar(select(Child.birth_date).where(Child.id == child["id"])) == BIRTH


async def test_children_are_listed_oldest_first_although_sql_cannot_sort_them(client, factory):
    _, headers = await factory.signed_in(Role.PARENT)
    for days, name in ((100, "小"), (900, "大"), (400, "中")):
        birth = (dt.date.today() - dt.timedelta(days=days)).isoformat()
        assert (await _add(client, headers, name=name, birth_date=birth)).status_code == 201
    listed = (await client.get("/api/me/children", headers=headers)).json()
    assert [c["name"] for c in listed] == ["大", "中", "小"]


async def test_a_guardian_cannot_register_the_same_child_twice(client, factory, db):
    """The blind index (keyed hash of the normalised name and birth date) is unique per guardian."""
    parent, headers = await factory.signed_in(Role.PARENT)
    first = await _add(client, headers, name="Dou Dou")
    assert first.status_code == 201
    again = await _add(client, headers, name=" dou  DOU ", relation="father")  # same child, typed differently
    assert again.status_code == 409 and again.json()["code"] == "child_already_added", again.text
    assert len((await client.get("/api/me/children", headers=headers)).json()) == 1
    assert (
        await _add(client, headers, name="Dou Dou", birth_date="2025-01-02")
    ).status_code == 201  # a twin? no: other date
    # Another family may well have a child of the same name and birthday.
    _, other = await factory.signed_in(Role.PARENT)
    assert (await _add(client, other, name="Dou Dou")).status_code == 201
    # Correcting a record into a duplicate of another is refused too, and changes nothing.
    third = (await _add(client, headers, name="Mi Mi")).json()
    clash = await client.patch(f"/api/me/children/{third['id']}", headers=headers, json={"name": "DOU DOU"})
    assert clash.status_code == 409 and clash.json()["code"] == "child_already_added"
    assert await db.scalar(select(Child.name).where(Child.id == third["id"])) == "Mi Mi"
    # The fingerprint follows a correction, and is no copy of the data.
    renamed = await client.patch(f"/api/me/children/{third['id']}", headers=headers, json={"name": "Mi Mi Er"})
    assert renamed.status_code == 200
    fingerprint = await db.scalar(select(Guardianship.child_fingerprint).where(Guardianship.child_id == third["id"]))
    assert fingerprint == crypto.current().fingerprint("mimier", BIRTH) and len(fingerprint) == 32
    assert (await _add(client, headers, name="Mi Mi")).status_code == 201  # the old name is free again
    # PostgreSQL holds the rule, whatever the application checks.
    twin = await factory.child(parent, name="Dou Dou", birth_date=BIRTH)
    with pytest.raises(IntegrityError, match="uq_guardianships_account_id_child_fingerprint"):
        async with db.begin_nested():
            await db.execute(
                update(Guardianship)
                .where(Guardianship.child_id == twin.id)
                .values(child_fingerprint=crypto.current().fingerprint("Dou Dou", BIRTH))
            )


@pytest.mark.parametrize("service_check", [True, False], ids=["with-service-check", "database-only"])
async def test_a_double_tap_stores_the_child_once(engine, monkeypatch, service_check):
    """Two concurrent requests adding the same child: one is stored, the other refused (409). Without
    the service's own check, the unique blind index in PostgreSQL alone still holds."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from backend.core.authz import Grant, Principal
    from backend.core.errors import CONSTRAINT_MESSAGES, Conflict
    from backend.families import service
    from backend.families.schemas import ChildIn, GuardianConsentIn

    if not service_check:

        async def no_check(*args, **kwargs) -> None:
            return None

        monkeypatch.setattr(service, "_refuse_duplicate", no_check)
    parent_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO accounts (id, phone) VALUES (:id, :p)"), {"id": parent_id, "p": _phone()})
    principal = Principal(parent_id, uuid.uuid4(), (Grant(Role.PARENT),))
    data = ChildIn(
        name="双击宝宝",
        birth_date=BIRTH,
        relation="mother",
        consent=GuardianConsentIn(policy_version="2026-12", accepted=True),
    )
    maker = async_sessionmaker(engine, expire_on_commit=False)
    both_checked = asyncio.Barrier(2)

    async def attempt() -> str:
        async with maker() as session:
            try:
                await session.execute(text("SELECT 1"))
                await both_checked.wait()
                await service.add_child(session, principal, data)
                await session.commit()
                return "stored"
            except Conflict as exc:
                return exc.code
            except IntegrityError as exc:
                constraint = getattr(exc.orig.__cause__, "constraint_name", None)
                return CONSTRAINT_MESSAGES[constraint][0]

    try:
        results = await asyncio.wait_for(asyncio.gather(attempt(), attempt()), timeout=30)
        assert sorted(results) == ["child_already_added", "stored"]
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM guardianships WHERE account_id = :a"), {"a": parent_id}
            )
        assert count == 1
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM children WHERE id IN (SELECT child_id FROM guardianships WHERE account_id = :a)"),
                {"a": parent_id},
            )
            await conn.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": parent_id})


def test_sql_comparisons_of_encrypted_columns_are_refused():
    with pytest.raises(TypeError, match="encrypted"):
        select(Child).where(Child.name == "x")
    with pytest.raises(TypeError, match="encrypted"):
        select(Child).order_by(Child.birth_date.desc())
    with pytest.raises(TypeError, match="encrypted"):
        select(Child).where(Child.birth_date < dt.date.today())


async def test_a_wrong_key_fails_to_decrypt_with_a_clear_error(factory, db):
    parent = await factory.account(Role.PARENT)
    child = await factory.child(parent, name=NAME)
    same_id_other_key = ChildDataKeys({crypto.DERIVED_KEY_ID: os.urandom(32)}, crypto.DERIVED_KEY_ID)
    with crypto.using(same_id_other_key), pytest.raises(ChildDataDecryptError, match="wrong key"):
        await db.scalar(select(Child.name).where(Child.id == child.id))
    entry, _ = _key_entry(7)
    with crypto.using(ChildDataKeys.parse(entry)), pytest.raises(ChildDataKeyError, match="key id 0"):
        await db.scalar(select(Child.birth_date).where(Child.id == child.id))
    # A ciphertext moved to the other column does not decrypt either (the column is associated data).
    name, _ = await _raw(db, child.id)
    with pytest.raises(ChildDataDecryptError):
        crypto.current().decrypt("children.birth_date", name)
    assert await db.scalar(select(Child.name).where(Child.id == child.id)) == NAME  # the right key still works


async def test_key_rotation_old_rows_decrypt_new_rows_use_the_new_key_and_rekey_rewrites(factory, db, conn):
    old_entry, _ = _key_entry(1)
    new_entry, _ = _key_entry(2)
    parent = await factory.account(Role.PARENT)
    with crypto.using(ChildDataKeys.parse(old_entry)):
        old = await factory.child(parent, name="旧钥宝宝", birth_date=BIRTH)
    assert [b[1] for b in await _raw(db, old.id)] == [1, 1]

    rotated = ChildDataKeys.parse(f"{new_entry},{old_entry}")
    with crypto.using(rotated):
        db.expunge_all()
        assert await db.scalar(select(Child.name).where(Child.id == old.id)) == "旧钥宝宝"
        new = await factory.child(parent, name="新钥宝宝")
        assert [b[1] for b in await _raw(db, new.id)] == [2, 2]

        rewritten, after = 0, uuid.UUID(int=0)
        while True:
            done, last = await rekey_batch(conn, rotated, after, batch=1, only=[old.id, new.id])
            rewritten += done
            if last is None:
                break
            after = last
        assert rewritten == 1  # only the old row
        assert [b[1] for b in await _raw(db, old.id)] == [2, 2]
        db.expunge_all()
        assert (await db.execute(select(Child.name, Child.birth_date).where(Child.id == old.id))).one() == (
            "旧钥宝宝",
            BIRTH,
        )
    # The old key alone no longer reads the re-keyed row.
    with crypto.using(ChildDataKeys.parse(old_entry)), pytest.raises(ChildDataKeyError, match="key id 2"):
        await db.scalar(select(Child.name).where(Child.id == old.id))


def test_child_data_keys_setting_is_validated_and_required_in_production(monkeypatch):
    good, _ = _key_entry(3)
    assert ChildDataKeys.parse(f"{good}, {_key_entry(1)[0]}").primary == 3
    for bad in ("3", "x:abc", "0:" + good.split(":")[1], "3:not-base64!", "3:" + base64.b64encode(b"short").decode()):
        with pytest.raises(ChildDataKeyError):
            ChildDataKeys.parse(bad)
    with pytest.raises(ChildDataKeyError, match="twice"):
        ChildDataKeys.parse(f"{good},{good}")
    monkeypatch.setenv("CHILD_DATA_KEYS", "3:nope")
    with pytest.raises(ConfigError):
        Settings.from_env()
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("CHILD_DATA_KEYS")
    with pytest.raises(ConfigError, match="CHILD_DATA_KEYS"):
        Settings.from_env()
    with pytest.raises(ChildDataKeyError, match="production"):
        ChildDataKeys.from_settings(Settings(env="production", secret_key=TEST_SECRET))
    assert "base64" not in repr(ChildDataKeys.parse(good)) and good.split(":")[1] not in repr(ChildDataKeys.parse(good))


# ------------------------------------------------------------------------------------------- consent


async def test_a_child_is_stored_only_with_explicit_guardian_consent(client, factory, db):
    parent, headers = await factory.signed_in(Role.PARENT)
    refusals = [
        ({"consent": None}, "guardian_consent_required"),
        ({"consent": {"policy_version": "2026-12", "accepted": False}}, "guardian_consent_required"),
        ({"consent": {"policy_version": "2025-01", "accepted": True}}, "consent_policy_outdated"),
    ]
    for overrides, code in refusals:
        r = await _add(client, headers, **overrides)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
        assert r.json()["detail_zh"]
    body = {"name": NAME, "birth_date": BIRTH.isoformat(), "relation": "mother"}  # no consent at all
    r = await client.post("/api/me/children", headers=headers, json=body)
    assert r.status_code == 422 and r.json()["code"] == "guardian_consent_required"
    bad = await _add(client, headers, consent={"policy_version": "latest", "accepted": "yes"})
    assert bad.status_code == 400
    assert (await client.get("/api/me/children", headers=headers)).json() == []
    assert (
        await db.scalar(select(func.count()).select_from(Guardianship).where(Guardianship.account_id == parent.id)) == 0
    )
    assert (
        await db.scalar(
            select(func.count()).select_from(GuardianConsent).where(GuardianConsent.account_id == parent.id)
        )
        == 0
    )

    created = await _add(client, headers)
    assert created.status_code == 201
    consent = (
        await db.execute(select(GuardianConsent).where(GuardianConsent.child_id == created.json()["id"]))
    ).scalar_one()
    assert (consent.account_id, consent.policy_version) == (parent.id, "2026-12")
    assert consent.consented_at is not None
    # The consent record holds no copy of the child's data.
    assert {c.name for c in GuardianConsent.__table__.columns} == {
        "id",
        "account_id",
        "child_id",
        "policy_version",
        "consented_at",
    }


async def test_postgresql_refuses_a_child_without_consent_at_commit(engine, settings):
    from tests.factories import Factory

    async with engine.connect() as conn:
        await conn.begin()
        await conn.execute(insert(Child).values(id=uuid.uuid4(), name="无同意", birth_date=BIRTH))
        with pytest.raises(DBAPIError, match="guardian_consent_required"):
            await conn.commit()
    # With a consent in the same transaction the commit goes through (then cleaned up).
    parent_id, child_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO accounts (id, phone) VALUES (:id, :phone)"), {"id": parent_id, "phone": _phone()}
        )
        await conn.execute(insert(Child).values(id=child_id, name="有同意", birth_date=BIRTH))
        await conn.execute(
            insert(GuardianConsent).values(account_id=parent_id, child_id=child_id, policy_version="2026-12")
        )
    async with engine.begin() as conn:
        assert await conn.scalar(select(Child.name).where(Child.id == child_id)) == "有同意"
        await conn.execute(text("DELETE FROM children WHERE id = :id"), {"id": child_id})
        await conn.execute(text("DELETE FROM accounts WHERE id = :id"), {"id": parent_id})
    assert Factory  # the factories create consents too (tests/factories.py, tests/world.py)


async def test_consent_is_checked_even_inside_a_longer_transaction(conn):
    """SET CONSTRAINTS ... IMMEDIATE runs the deferred check now: a child alone fails, with a consent passes."""
    savepoint = await conn.begin_nested()
    await conn.execute(insert(Child).values(id=uuid.uuid4(), name="无同意", birth_date=BIRTH))
    with pytest.raises(DBAPIError, match="guardian_consent_required"):
        await conn.execute(text("SET CONSTRAINTS children_require_consent IMMEDIATE"))
    await savepoint.rollback()


def _phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


# ----------------------------------------------------------------------------- migration and the CLI


@pytest.fixture
def scratch_url(server_url) -> Iterator[str]:
    name = f"dq_children_{uuid.uuid4().hex[:8]}"
    asyncio.run(pgserver.create_database(server_url, name, exist_ok=False))
    yield pgserver.with_database(server_url, name)
    asyncio.run(pgserver.drop_database(server_url, name))


async def _run(url: str, *statements: tuple[str, dict] | str):
    """Run statements in one committed transaction; the rows of the last one."""
    eng = create_async_engine(url, poolclass=NullPool)
    try:
        async with eng.begin() as conn:
            result = None
            for statement in statements:
                sql, params = (statement, {}) if isinstance(statement, str) else statement
                result = await conn.execute(text(sql), params)
            return result.all() if result is not None and result.returns_rows else None
    finally:
        await eng.dispose()


def test_migration_0014_encrypts_existing_children_and_the_downgrade_decrypts_them(scratch_url):
    migrate.upgrade(scratch_url, "0013")
    child_id, twin_id, parent_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    asyncio.run(
        _run(
            scratch_url,
            ("INSERT INTO accounts (id, phone) VALUES (:id, :phone)", {"id": parent_id, "phone": _phone()}),
            ("INSERT INTO children (id, name, birth_date) VALUES (:id, '迁移宝宝', :b)", {"id": child_id, "b": BIRTH}),
            ("INSERT INTO children (id, name, birth_date) VALUES (:id, '迁移 宝宝', :b)", {"id": twin_id, "b": BIRTH}),
            (
                "INSERT INTO guardianships (child_id, account_id, relation, created_at) "
                "VALUES (:c, :a, 'mother', now() - interval '1 day'), (:t, :a, 'mother', now())",
                {"c": child_id, "t": twin_id, "a": parent_id},
            ),
        )
    )
    migrate.upgrade(scratch_url, "0014")
    # The older registration gets the blind index; its later duplicate keeps NULL (never a failed migration).
    assert asyncio.run(
        _run(scratch_url, "SELECT child_id, child_fingerprint FROM guardianships ORDER BY created_at")
    ) == [(child_id, crypto.current().fingerprint("迁移宝宝", BIRTH)), (twin_id, None)]
    asyncio.run(_run(scratch_url, ("DELETE FROM children WHERE id = :id", {"id": twin_id})))
    (row,) = asyncio.run(_run(scratch_url, "SELECT name, birth_date FROM children"))
    name, birth = bytes(row.name), bytes(row.birth_date)
    assert "迁移宝宝".encode() not in name and BIRTH.isoformat().encode() not in birth
    keys = crypto.current()
    assert keys.decrypt("children.name", name).decode() == "迁移宝宝"
    assert keys.decrypt("children.birth_date", birth).decode() == BIRTH.isoformat()

    migrate.downgrade(scratch_url, "0013")
    assert asyncio.run(_run(scratch_url, "SELECT id, name, birth_date FROM children")) == [
        (child_id, "迁移宝宝", BIRTH)
    ]
    migrate.upgrade(scratch_url, "0014")
    (row,) = asyncio.run(_run(scratch_url, "SELECT name FROM children"))
    assert keys.decrypt("children.name", bytes(row.name)).decode() == "迁移宝宝"


def test_rekey_children_command_rewrites_rows_under_the_first_key(scratch_url):
    migrate.upgrade(scratch_url, "0014")
    old_entry, _ = _key_entry(1)
    new_entry, _ = _key_entry(2)
    old = ChildDataKeys.parse(old_entry)
    parent_id = uuid.uuid4()
    statements: list = [("INSERT INTO accounts (id, phone) VALUES (:id, :phone)", {"id": parent_id, "phone": _phone()})]
    for i in range(3):
        child_id = uuid.uuid4()
        statements += [
            (
                "INSERT INTO children (id, name, birth_date) VALUES (:id, :n, :b)",
                {
                    "id": child_id,
                    "n": old.encrypt("children.name", f"宝宝{i}".encode()),
                    "b": old.encrypt("children.birth_date", BIRTH.isoformat().encode()),
                },
            ),
            (
                "INSERT INTO guardian_consents (account_id, child_id, policy_version) VALUES (:a, :c, '2026-12')",
                {"a": parent_id, "c": child_id},
            ),
        ]
    asyncio.run(_run(scratch_url, *statements))
    env = {
        **os.environ,
        "APP_ENV": "test",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": scratch_url,
        "CHILD_DATA_KEYS": f"{new_entry},{old_entry}",
        "VAR_DIR": str(REPO_ROOT / "var" / "test"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "backend", "rekey-children"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 3 children's records" in done.stdout
    rows = asyncio.run(_run(scratch_url, "SELECT id, name, birth_date FROM children ORDER BY id"))
    new = ChildDataKeys.parse(new_entry)
    for row in rows:
        assert bytes(row.name)[1] == 2 and bytes(row.birth_date)[1] == 2
        assert new.decrypt("children.name", bytes(row.name)).decode().startswith("宝宝")
    again = subprocess.run(
        [sys.executable, "-m", "backend", "rekey-children"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "re-encrypted 0 children's records" in again.stdout
